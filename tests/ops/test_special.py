"""The fast float32 normal CDF behind exact GELU: accuracy against SciPy, GELU against torch."""

import numpy as np
from scipy.special import ndtr

import ember
import ember.functional as F
from ember.ops.special import normal_cdf


def test_float32_normal_cdf_has_small_relative_error_also_in_the_tail():
    x = np.linspace(-9, 9, 400001)
    got = normal_cdf(x.astype(np.float32))
    assert got.dtype == np.float32
    ref = ndtr(x.astype(np.float32).astype(np.float64))
    rel = np.abs(got.astype(np.float64) - ref) / ref
    assert rel.max() < 2e-5  # exp of a float32 argument down to -41: ulp(41) ≈ 4e-6 relative
    assert rel[np.abs(x) < 4].max() < 3e-6  # ulp(z²) for z² ≤ 8
    assert np.all((got >= 0) & (got <= 1))


def test_float64_normal_cdf_is_exact():
    x = np.linspace(-5, 5, 1001)
    np.testing.assert_allclose(normal_cdf(x), ndtr(x), rtol=1e-13, atol=1e-16)


def test_gelu_float32_matches_torch(torch):
    x_np = (np.random.default_rng(0).standard_normal(20000) * 3).astype(np.float32)
    x = ember.Tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    y, yt = F.gelu(x), torch.nn.functional.gelu(xt)
    g = np.random.default_rng(1).standard_normal(x_np.shape).astype(np.float32)
    y.backward(g)
    yt.backward(torch.tensor(g))
    # torch's float32 GELU computes 1 + erf(x/√2), which cancels in the tail (abs. error up to
    # ~1e-6 there, e.g. 0.1% of GELU(-3.5)); ember's float32 GELU is held to the float64 truth
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-5, atol=2e-6)
    x64 = torch.tensor(x_np, dtype=torch.float64, requires_grad=True)
    truth = torch.nn.functional.gelu(x64)
    truth.backward(torch.tensor(g, dtype=torch.float64))
    np.testing.assert_allclose(y.data, truth.detach().numpy(), rtol=5e-6, atol=1e-9)
    np.testing.assert_allclose(x.grad.data, x64.grad.numpy(), rtol=5e-6, atol=1e-7)


def test_gelu_float64_gradcheck():
    x = ember.Tensor(np.linspace(-4, 4, 9), requires_grad=True)
    assert ember.gradcheck(F.gelu, (x,))


def test_float32_normal_cdf_special_values():
    # the x ≥ 0 / x < 0 select is arithmetic (q + [x ≥ 0]·(1 - 2q)): ±∞, ±0 and NaN still map right
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30], np.float32)
    got = normal_cdf(x)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], np.float32([1.0, 0.0, 0.5, 0.5, 0.5, 0.5]))
