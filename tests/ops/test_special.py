"""The fast float32 normal CDFs (the distributions' and exact GELU's): accuracy against SciPy,
GELU against torch."""

import numpy as np
from scipy.special import erf, ndtr

import ember
import ember.functional as F
from ember.ops.special import gelu_exact, normal_cdf


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
    # both compute Φ to an absolute ~1e-7 (torch as 1 + erf(x/√2), which cancels in the tail):
    # GELU = x·Φ then differs by up to ~1e-7·|x|
    np.testing.assert_allclose(y.array, yt.detach().numpy(), rtol=1e-6, atol=2e-6)
    np.testing.assert_allclose(x.grad.array, xt.grad.numpy(), rtol=1e-6, atol=2e-6)
    x64 = torch.tensor(x_np, dtype=torch.float64, requires_grad=True)
    truth = torch.nn.functional.gelu(x64)
    truth.backward(torch.tensor(g, dtype=torch.float64))
    truth, truth_grad = truth.detach().numpy(), x64.grad.numpy()
    # |ΔΦ| ≤ 1e-7 gives |ΔGELU| ≤ 1e-7·|x| and |Δ∂L/∂x| ≤ 1e-7·|∂L/∂y|, plus float32 rounding
    assert np.all(np.abs(y.array - truth) <= 1e-7 * np.abs(x_np) + 1.2e-7 * np.abs(truth))
    bound = 1.1e-7 * np.abs(g) + 2.4e-7 * np.abs(truth_grad)
    assert np.all(np.abs(x.grad.array - truth_grad) <= bound)


def test_gelu_float32_cdf_has_torchs_absolute_precision():
    x = np.linspace(-9, 9, 400001).astype(np.float32)
    truth = ndtr(x.astype(np.float64))
    _, cdf = gelu_exact(x)
    err = np.abs(cdf - truth)
    assert err.max() < 1e-7, err.max()  # the tanh form: 9.6e-8
    # torch's float32 ½·(1 + erf(x/√2)) on the same points, for scale: 6.1e-8
    torch_like = np.float32(0.5) * (1 + erf(x * np.float32(1 / np.sqrt(2))))
    assert np.abs(torch_like - truth).max() > 5e-8
    # beyond the clamp Φ is exactly 0 or 1, as torch's rounds there
    _, tails = gelu_exact(np.float32([-5.8, -7.0, -1e30, 5.8, 7.0, 1e30]))
    np.testing.assert_array_equal(tails, np.float32([0, 0, 0, 1, 1, 1]))


def test_gelu_float64_gradcheck():
    x = ember.Tensor(np.linspace(-4, 4, 9), requires_grad=True)
    assert ember.gradcheck(F.gelu, (x,))


def test_float32_normal_cdf_special_values():
    # the x ≥ 0 / x < 0 select is arithmetic (q + [x ≥ 0]·(1 - 2q)): ±∞, ±0 and NaN still map right
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30], np.float32)
    got = normal_cdf(x)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], np.float32([1.0, 0.0, 0.5, 0.5, 0.5, 0.5]))
