#!/bin/bash
# One call on the GPU machine (the device tool): CPU/GPU parity of every layer case, the
# test suite with the backend on CuPy (time-limited, failures logged as they happen), and
# benchmarks/bench_cuda.py. Everything lands in $OUT; the short summary is printed last.
#   bash benchmarks/gpu_run.sh [parity] [suite] [bench] [launches]   (default: the first three)
set -u
OUT=${OUT:-/tmp/ember-gpu-out}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
steps=${*:-parity suite bench}
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv,noheader
python3 -c "import cupy, numpy, torch; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'torch', torch.__version__)"
if [[ $steps == *parity* ]]; then
  for dt in float32 float64; do
    python3 tests/cuda_parity_cases.py "$OUT/cpu-$dt.npz" --dtype $dt
    EMBER_DEVICE=cuda timeout 300 python3 tests/cuda_parity_cases.py "$OUT/gpu-$dt.npz" --dtype $dt
    python3 -c "import json,sys; e=json.load(open(sys.argv[1]))['errors']; [print('ERROR', k, v) for k, v in e.items()]" "$OUT/gpu-$dt.npz.errors.json"
    python3 tests/cuda_parity_cases.py --compare "$OUT/cpu-$dt.npz" "$OUT/gpu-$dt.npz" | tee "$OUT/parity-$dt.txt"
    rm -f "$OUT"/*-$dt.npz
  done
fi
if [[ $steps == *suite* ]]; then
  FAILS=$(mktemp -d)
  EMBER_DEVICE=cuda EMBER_FAILLOG=$FAILS timeout "${SUITE_SECONDS:-240}" \
    python3 -m pytest -n "${SUITE_WORKERS:-14}" -q -p no:cacheprovider tests > "$OUT/suite.log" 2>&1
  echo "suite exit $?"
  cat "$FAILS"/*.txt > "$OUT/suite-failures.txt" 2>/dev/null
  grep -c "^=== " "$OUT/suite-failures.txt"
  tail -3 "$OUT/suite.log"
fi
if [[ $steps == *bench* ]]; then
  EMBER_DEVICE=cuda timeout "${BENCH_SECONDS:-200}" python3 -m benchmarks.bench_cuda --device cuda \
    --out "$OUT/bench_cuda.json" 2>&1 | tee "$OUT/bench.log" | tail -40
fi
if [[ $steps == *launches* ]]; then
  EMBER_DEVICE=cuda timeout "${LAUNCH_SECONDS:-90}" python3 -m benchmarks.gpu_launches \
    --out "$OUT/gpu_launches.json" 2>&1 | tail -20
fi
