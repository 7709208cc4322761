"""The backend's device helpers, on the CPU: what the GPU branch computes is checked here with
NumPy standing in for CuPy where the helper takes the module, and the one-device-per-process
rules (EMBER_DEVICE) as they read on a machine without a GPU. tests/test_cuda_parity.py holds
the GPU itself to the CPU's numbers where a GPU is present."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember import backend
from ember.gradcheck import _unravel


@pytest.mark.parametrize("ufunc", ["maximum", "minimum", "logaddexp"])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("n", [1, 2, 5, 8, 13])
def test_the_doubling_scan_equals_numpys_accumulate(ufunc, axis, n):
    a = np.random.default_rng(n).standard_normal((n, n + 1, 3))
    want = getattr(np, ufunc).accumulate(a, axis=axis)
    got = backend.doubling_scan(np, ufunc, a, axis)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


@pytest.mark.parametrize("ufunc", ["multiply", "maximum", "minimum"])
@pytest.mark.parametrize("n", [1, 2, 7, 40])
@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_the_segmented_reduction_equals_numpys_ufunc_at(ufunc, n, dtype):
    # the GPU branch of ufunc_at, exact where CuPy's ufunc.at is missing or rounds
    rng = np.random.default_rng(n)
    target = rng.integers(-3, 4, (4, 5)).astype(dtype)
    rows, cols = rng.integers(0, 4, n), rng.integers(0, 5, n)  # repeats when n is large
    values = rng.integers(-2, 3, n).astype(dtype) + (0.5 if dtype == np.float64 else 0)
    want = target.copy()
    getattr(np, ufunc).at(want, (rows, cols), values)
    got = target.copy()
    backend.segmented_reduce_at(np, ufunc, got, (rows, cols), values)
    np.testing.assert_array_equal(got, want)


def test_cummax_through_the_backend_matches_torch(torch):
    x = np.random.default_rng(0).standard_normal((4, 9))
    values, idx = ember.cummax(ember.tensor(x), 1)
    t_values, t_idx = torch.cummax(torch.tensor(x), 1)
    np.testing.assert_array_equal(values.numpy(), t_values.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5), (1, 1, 4)])
def test_unravel_equals_numpys(shape):
    for i in range(int(np.prod(shape))):
        assert _unravel(i, shape) == tuple(int(v) for v in np.unravel_index(i, shape))


def test_subtract_c_is_row_major_and_exact():
    x = np.random.default_rng(0).standard_normal((4, 3, 5)).swapaxes(0, 1)
    mu = x.mean(axis=(1, 2))[:, None, None]
    out = backend.subtract_c(x, mu)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, x - mu)


def test_host_arrays_keep_their_float64():
    a = np.ones(3)
    assert backend.is_host_or_device_array(a) and not backend.is_host_or_device_array([1.0])
    assert ember.tensor(a).dtype == np.float64  # a NumPy array keeps its dtype, as in torch
    assert ember.tensor([1.0, 2.0]).dtype == np.float32  # Python floats become float32


def test_the_cpu_process_answers_as_torch_cuda_does_without_a_gpu():
    assert backend.DEVICE_TYPE == "cpu" and not backend.ON_GPU
    assert not ember.cuda.is_available() and ember.cuda.device_count() == 0
    ember.cuda.synchronize()  # nothing to wait for
    with pytest.raises(RuntimeError, match="EMBER_DEVICE=cuda"):
        ember.cuda.get_device_name()
    assert "EMBER_DEVICE=cuda" in ember.cuda.why_unavailable()
    assert ember.ones(2).device == "cpu" and not ember.ones(2).is_cuda


def test_an_unknown_ember_device_fails_at_import():
    env = dict(os.environ, EMBER_DEVICE="tpu")
    run = subprocess.run([sys.executable, "-c", "import ember"], env=env, capture_output=True,
                         text=True)  # fmt: skip
    assert run.returncode != 0 and "EMBER_DEVICE='tpu': expected 'cpu' or 'cuda'" in run.stderr


@pytest.mark.skipif(not backend.cuda_unavailable_reason(), reason="this machine has CUDA")
def test_asking_for_cuda_without_cupy_or_a_gpu_says_why():
    env = dict(os.environ, EMBER_DEVICE="cuda")
    run = subprocess.run([sys.executable, "-c", "import ember"], env=env, capture_output=True,
                         text=True)  # fmt: skip
    assert run.returncode != 0 and "EMBER_DEVICE=cuda" in run.stderr


def test_blas_corename_names_the_kernels_numpy_runs():
    name = backend.blas_corename()
    assert name is None or (isinstance(name, str) and name)
    forced = os.environ.get("OPENBLAS_CORETYPE")
    if name and forced:  # the variable, read when NumPy loaded, chose them
        assert name.lower() == forced.lower()


def test_numpy_scalars_keep_their_dtype_as_in_torch(torch):
    for value in (np.float64(0.4), np.float32(0.4), np.int32(3), np.float64(2.0)):
        assert ember.tensor(value).dtype == torch.tensor(value).numpy().dtype
    assert ember.tensor(0.4).dtype == np.float32
