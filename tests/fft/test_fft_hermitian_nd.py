"""ember.fft's hfft2, hfftn, ihfft2 and ihfftn against torch.fft: each norm, s and dim, values
and dtypes, gradients on the same inputs (float32 and float64), gradcheck in complex128 /
float64, integer input, torch's refusal of complex input to the ihfft's, and the round trip."""

import numpy as np
import pytest

import ember
from tests.fft.fft_reference import NORMS, case_ids, check_gradcheck, check_matches_torch, tnp

# (name, kwargs, input shape, complex input?)
CASES = [
    (name, kw, (3, 4, 5), name.startswith("h"))
    for name in ("hfft2", "hfftn", "ihfft2", "ihfftn")
    for kw in ({}, {"s": (3, 8)}, {"dim": (0, 2)}, {"s": (5, -1), "dim": (1, 0)})
] + [
    ("hfftn", {"s": (2, 3, 7)}, (3, 4, 5), True),  # all three dims, cut and padded
    ("ihfftn", {"dim": (0, 1, 2)}, (3, 4, 6), False),
    ("hfftn", {"dim": 1}, (3, 4, 5), True),  # one int dim
    ("ihfftn", {"s": (7,), "dim": (0,)}, (3, 4, 6), False),
]  # fmt: skip


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_matches_torch(torch, case, dtype, norm):
    check_matches_torch(torch, case, dtype, norm)


@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
@pytest.mark.parametrize("case", CASES[::3], ids=case_ids(CASES)[::3])
def test_gradcheck(case, norm):
    check_gradcheck(case, norm)


@pytest.mark.parametrize("name", ["hfft2", "hfftn", "ihfft2", "ihfftn"])
def test_integer_and_real_inputs(torch, name):
    a = np.arange(12).reshape(3, 4)
    e, t = getattr(ember.fft, name)(ember.tensor(a)), getattr(torch.fft, name)(torch.tensor(a))
    assert e.dtype == np.dtype(str(t.dtype).split(".")[-1])  # float32 / complex64
    np.testing.assert_allclose(e.numpy(), tnp(t), rtol=1e-5, atol=1e-4)
    if name.startswith("h"):  # a real float64 input is read as complex128
        r = np.random.default_rng(3).standard_normal((3, 4))
        e, t = getattr(ember.fft, name)(ember.tensor(r)), getattr(torch.fft, name)(torch.tensor(r))
        assert e.dtype == np.float64
        np.testing.assert_allclose(e.numpy(), tnp(t), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["ihfft2", "ihfftn"])
def test_complex_input_is_refused_as_torch(torch, name):
    z = np.ones((2, 3), np.complex64)
    with pytest.raises(RuntimeError) as err:
        getattr(torch.fft, name)(torch.tensor(z))
    with pytest.raises(RuntimeError, match=str(err.value)):
        getattr(ember.fft, name)(ember.tensor(z))
    with pytest.raises(ValueError, match="Invalid normalization mode"):
        getattr(ember.fft, name)(ember.ones((2, 3)), norm="none")


@pytest.mark.parametrize("norm", NORMS)
def test_round_trip(norm):
    """hfftn(ihfftn(x), s = x's shape) = x for a real x, in every norm."""
    x = np.random.default_rng(4).standard_normal((4, 6, 5))
    y = ember.fft.hfftn(ember.fft.ihfftn(ember.tensor(x), norm=norm), s=x.shape, norm=norm)
    np.testing.assert_allclose(y.numpy(), x, atol=1e-12)
    y2 = ember.fft.hfft2(ember.fft.ihfft2(ember.tensor(x), norm=norm), s=x.shape[1:], norm=norm)
    np.testing.assert_allclose(y2.numpy(), x, atol=1e-12)
