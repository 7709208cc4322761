"""GPU results equal CPU results, layer by layer and for whole training steps.

Each dtype runs tests/cuda_parity_cases.py twice, in a process on the CPU and in one on the
GPU (EMBER_DEVICE=cuda), and compares every output and gradient by the norm-wise relative
error ‖gpu − cpu‖ / ‖cpu‖: about 1e-5 for float32 (cuBLAS and CuPy's reductions add in
another order than OpenBLAS and NumPy), 1e-10 for float64. Skipped, with the reason, where
CuPy or a GPU is missing (CI has neither); run on the GPU machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember

CASES = Path(__file__).with_name("cuda_parity_cases.py")
WHY = ember.backend.cuda_unavailable_reason()
pytestmark = pytest.mark.skipif(bool(WHY), reason=f"no CUDA for ember here: {WHY}")

TOLERANCE = {"float32": 1e-5, "float64": 1e-10}


def _run_cases(device: str, dtype: str, out: Path) -> tuple[dict, dict]:
    env = dict(os.environ, EMBER_DEVICE=device)
    subprocess.run([sys.executable, str(CASES), str(out), "--dtype", dtype], env=env, check=True,
                   timeout=600)  # fmt: skip
    errors = json.loads(Path(f"{out}.errors.json").read_text())["errors"]
    with np.load(out) as f:
        return {k: f[k] for k in f.files}, errors


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gpu_equals_cpu(dtype, tmp_path):
    cpu, cpu_errors = _run_cases("cpu", dtype, tmp_path / "cpu.npz")
    gpu, gpu_errors = _run_cases("cuda", dtype, tmp_path / "gpu.npz")
    assert not cpu_errors, cpu_errors
    assert not gpu_errors, "\n\n".join(f"{k}:\n{v}" for k, v in gpu_errors.items())
    assert gpu.keys() == cpu.keys()
    off = {}
    for key, want in cpu.items():
        got = gpu[key]
        assert got.shape == want.shape and got.dtype == want.dtype, key
        scale = max(float(np.linalg.norm(want.astype(np.float64))), 1e-30)
        err = float(np.linalg.norm(got.astype(np.float64) - want.astype(np.float64))) / scale
        if not err <= TOLERANCE[dtype]:  # NaN fails too
            off[key] = err
    assert not off, f"{len(off)} of {len(cpu)} arrays differ beyond {TOLERANCE[dtype]}: {off}"


def test_the_process_is_on_the_gpu_it_asked_for():
    code = (
        "import ember, ember.backend as b; x = ember.ones(3, requires_grad=True); (x * 2).sum()"
        ".backward(); print(ember.cuda.is_available(), x.device, x.is_cuda,"
        " type(x.array).__module__.split('.')[0], x.grad.numpy().tolist())"
    )
    env = dict(os.environ, EMBER_DEVICE="cuda")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out[:4] == ["True", "cuda:0", "True", "cupy"], out
    assert out[4:] == ["[2.0,", "2.0,", "2.0]"], out
