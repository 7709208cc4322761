"""Every reference workload of PERFORMANCE.md (and the autograd chain, the ResNet block) in one
process, one method, one table: what the README's speed table quotes.

Each workload is built by its own benchmark file (bench_core, bench_cnn, bench_rnn,
bench_gpt: same weights and data on both sides) and timed by `harness.compare`: warm-up,
then alternating blocks of ember and torch steps with pauses between, medians and p10–p90.

    python -m benchmarks.bench_all                 # the full table (about 5 minutes idle)
    python -m benchmarks.bench_all --only mlp gpt_tiny --rounds 3
    python -m benchmarks.bench_all --threads 1     # 1 thread each side (a loaded machine)
    python -m benchmarks.bench_all --ember-threads 2   # with ember's elementwise threads on
"""

from __future__ import annotations

import argparse
import os
import time

# (name, builder module, builder, args, block steps, PERFORMANCE.md's torch ms at 2 threads)
WORKLOADS = [
    ("chain", "bench_core", "chain_steps", (), 20, None),
    ("mlp", "bench_core", "mlp_steps", (), 40, 3.5),
    ("lenet", "bench_cnn", "lenet_workload", (), 20, 5.4),
    ("basicblock", "bench_cnn", "basicblock_workload", (), 3, None),
    ("lstm_small", "bench_rnn", "_regression_pair", ("LSTM", 50, 32, 32, 128), 20, 7.9),
    ("lstm_large", "bench_rnn", "_regression_pair", ("LSTM", 100, 64, 256, 512), 2, 384),
    ("gru_small", "bench_rnn", "_regression_pair", ("GRU", 50, 32, 32, 128), 20, 11.5),
    ("charlstm", "bench_rnn", "_charlstm_pair", ("LSTM", 64, 32, 65, 128, 256), 5, 89),
    ("gpt_tiny", "bench_gpt", "make_steps", (), 10, 38),
]


def build(module: str, builder: str, args: tuple, torch):
    import importlib

    mod = importlib.import_module(f"benchmarks.{module}")
    if builder in ("chain_steps", "mlp_steps"):
        made = getattr(mod, builder)(torch, *args)
    else:
        made = getattr(mod, builder)(*args)
    ember_step, torch_step = made[0], made[1]
    per = made[2] if builder == "chain_steps" else 1  # the chain reports µs per recorded op
    return ember_step, torch_step, per


def main(argv=None) -> int:
    from .harness import RESULTS, compare, report, setup_torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=[w[0] for w in WORKLOADS])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="BLAS and torch threads")
    ap.add_argument(
        "--ember-threads",
        type=int,
        default=None,
        help="ember's own elementwise threads (ember.set_num_threads); default: ember's default",
    )
    ap.add_argument("--no-save", action="store_true", help="do not append to results.json")
    args = ap.parse_args(argv)
    if args.threads == 1 and os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        ap.error("for 1 thread, also set OPENBLAS_NUM_THREADS=1 (NumPy reads it at import)")
    torch = setup_torch(args.threads)
    import ember

    if args.ember_threads is not None:
        ember.set_num_threads(args.ember_threads)
    forced = os.environ.get("OPENBLAS_CORETYPE")
    print(f"NumPy's OpenBLAS runs its {ember.backend.blas_corename()} kernels"
          + (f" (forced: OPENBLAS_CORETYPE={forced}; unset it and OPENBLAS_L2_SIZE to measure"
             " what OpenBLAS picks for this processor)" if forced else ""), flush=True)  # fmt: skip
    results = []
    for name, module, builder, wargs, block, _ in WORKLOADS:
        if args.only and name not in args.only:
            continue
        ember_step, torch_step, per = build(module, builder, wargs, torch)
        t0 = time.perf_counter()
        results.append(
            compare(
                name,
                ember_step,
                torch_step,
                warmup=max(2, block // 4),
                block=block,
                rounds=args.rounds,
                per=per,
                unit="µs/op" if per > 1 else "ms",
                pause=0.2,
            )
        )
        r = results[-1]
        print(
            f"{name:11s} ember {r.ember_median:8.3f}  torch {r.torch_median:8.3f}"
            f"  ratio {r.ratio:5.2f}   ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    report(results, save_to=None if args.no_save else RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
