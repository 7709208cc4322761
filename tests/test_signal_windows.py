"""ember.signal.windows against torch.signal.windows: every window, symmetric and periodic,
float64 (1e-12) and float32 (rounded once from float64: within 2 float32 ulps of torch's
float32 arithmetic), the lengths 0, 1, 2 and odd/even, the parameters, and torch's errors."""

import numpy as np
import pytest

import ember
import ember.signal.windows as W

torch = pytest.importorskip("torch")
TW = torch.signal.windows

CASES = [
    ("bartlett", {}), ("blackman", {}), ("cosine", {}), ("exponential", {"tau": 2.5}),
    ("gaussian", {"std": 1.7}), ("general_cosine", {"a": [0.5, 0.3, 0.2]}),
    ("general_hamming", {"alpha": 0.6}), ("hamming", {}), ("hann", {}), ("kaiser", {"beta": 5.0}),
    ("nuttall", {}), ("kaiser", {}),
]  # fmt: skip


@pytest.mark.parametrize("name, kw", CASES)
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("M", [0, 1, 2, 7, 10])
def test_windows_match_torch(name, kw, sym, M):
    e = getattr(W, name)(M, sym=sym, dtype=ember.float64, **kw)
    t = getattr(TW, name)(M, sym=sym, dtype=torch.float64, **kw)
    assert e.dtype == ember.float64 and e.shape == tuple(t.shape)
    np.testing.assert_allclose(e.array, t.numpy(), rtol=0, atol=1e-12)
    # float32: rounded once from float64 (torch computes in float32 and can be several ulps
    # off: its kaiser(10) in float32 is 5e-7 below the float64 value at the peak)
    e32 = getattr(W, name)(M, sym=sym, dtype=ember.float32, **kw)
    assert e32.dtype == ember.float32
    np.testing.assert_array_max_ulp(e32.array, t.float().numpy(), maxulp=1)


def test_defaults_requires_grad_and_periodic_center():
    assert W.hann(8).dtype == ember.float32 and W.hann(8, requires_grad=True).requires_grad
    e = W.exponential(9, center=2.0, sym=False, dtype=ember.float64)
    t = TW.exponential(9, center=2.0, sym=False, dtype=torch.float64)
    np.testing.assert_allclose(e.array, t.numpy(), atol=1e-12)


def test_errors_as_torch():
    for mod, lib in ((W, ember), (TW, torch)):
        with pytest.raises(ValueError, match="requires non-negative window length, got M=-1"):
            mod.hann(-1)
        with pytest.raises(ValueError, match="expects float32 or float64 dtypes"):
            mod.hann(4, dtype=lib.int64)
        with pytest.raises(ValueError, match="Center must be None for symmetric windows"):
            mod.exponential(4, center=1.0)
        with pytest.raises(ValueError, match="Tau must be positive"):
            mod.exponential(4, tau=0.0)
        with pytest.raises(ValueError, match="Standard deviation must be positive"):
            mod.gaussian(4, std=-1.0)
        with pytest.raises(ValueError, match="beta must be non-negative"):
            mod.kaiser(4, beta=-1.0)
        with pytest.raises(ValueError, match="Coefficients cannot be empty"):
            mod.general_cosine(4, a=[])
        with pytest.raises(TypeError, match="Coefficients must be a list/tuple"):
            mod.general_cosine(4, a=3)
    with pytest.raises(ValueError, match="implemented for strided tensors only"):
        TW.hann(4, layout=torch.sparse_coo)
    with pytest.raises(ValueError, match="implemented for strided tensors only"):
        W.hann(4, layout="sparse_coo")
