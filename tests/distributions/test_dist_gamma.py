"""Gamma and Beta rsample (implicit reparameterisation of the gamma draws) and Gamma.cdf.

dz/dα at fixed CDF level is held to an independent computation (the derivative of SciPy's
inverse incomplete gamma in α at fixed level) and to torch's ``_standard_gamma_grad``; the
draws equal ``sample``'s; and Monte Carlo means of the pathwise gradients match the exact
derivatives of the means (unbiasedness)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammainc, gammaincinv

import ember
import ember.distributions as D
from ember.distributions.gamma_beta import gamma_draw_grad

ALPHAS = np.array([0.1, 0.5, 1.0, 3.0, 10.0, 50.0, 300.0])


def _at_levels(levels):
    a = np.repeat(ALPHAS, len(levels))
    z = gammaincinv(a, np.tile(levels, len(ALPHAS)))
    return a, z


def test_draw_gradient_equals_the_inverse_cdf_derivative():
    # z(α) = P⁻¹(α, u) at fixed u: differentiate the inverse directly (another route)
    a, z = _at_levels(np.array([0.01, 0.2, 0.5, 0.8, 0.99]))
    h = 1e-4 * a
    u = gammainc(a, z)
    ref = (gammaincinv(a + h, u) - gammaincinv(a - h, u)) / (2 * h)
    np.testing.assert_allclose(gamma_draw_grad(a, z), ref, rtol=2e-5)


def test_draw_gradient_against_torch(torch):
    a, z = _at_levels(np.array([0.05, 0.5, 0.95]))
    got = gamma_draw_grad(a, z)
    want = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(z)).numpy()
    np.testing.assert_allclose(got, want, rtol=5e-4)  # torch's closed forms: ~1e-4 relative


def test_draw_gradient_is_zero_where_the_density_underflows():
    got = gamma_draw_grad(np.array([2.0, 0.01]), np.array([1e4, 1e-300]))
    assert np.all(np.isfinite(got))
    assert got[0] == 0.0


@pytest.mark.parametrize("dtype", [ember.float64, ember.float32])
def test_rsample_draws_what_sample_draws_and_carries_gradients(dtype):
    a = ember.tensor([0.5, 2.0, 10.0], dtype=dtype, requires_grad=True)
    b = ember.tensor([1.0, 3.0, 0.5], dtype=dtype, requires_grad=True)
    for dist in (D.Gamma, D.Beta):
        assert dist(a, b).has_rsample
        ember.manual_seed(3)
        drawn = dist(a, b).sample((5,))
        ember.manual_seed(3)
        x = dist(a, b).rsample((5,))
        np.testing.assert_array_equal(x.array, drawn.array)
        assert x.requires_grad and x.shape == (5, 3) and x.dtype == dtype
        a.grad = b.grad = None
        x.sum().backward()
        assert a.grad.shape == (3,) and np.all(np.isfinite(a.grad.array))
        assert np.all(np.isfinite(b.grad.array))


def test_gamma_pathwise_gradients_are_unbiased():
    # E[x] = α/β: the mean of ∂x/∂α over draws → 1/β, of ∂x/∂β → −α/β²
    a = ember.tensor([0.3, 2.0, 20.0], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([2.0, 0.5, 1.0], dtype=ember.float64, requires_grad=True)
    n = 40000
    ember.manual_seed(0)
    D.Gamma(a, b).rsample((n,)).sum().backward()
    an, bn = a.array, b.array
    # Monte Carlo standard error of the mean of ∂x/∂α: 5e-3 relative at α = 0.3, less above
    np.testing.assert_allclose(a.grad.array / n, 1 / bn, rtol=0.02)
    np.testing.assert_allclose(b.grad.array / n, -an / bn**2, rtol=0.02)


def test_beta_pathwise_gradients_are_unbiased():
    # E[X] = α/(α + β): ∂/∂α = β/(α + β)², ∂/∂β = −α/(α + β)²
    a = ember.tensor([0.7, 3.0], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([2.0, 1.5], dtype=ember.float64, requires_grad=True)
    n = 40000
    ember.manual_seed(1)
    D.Beta(a, b).rsample((n,)).sum().backward()
    an, bn = a.array, b.array
    np.testing.assert_allclose(a.grad.array / n, bn / (an + bn) ** 2, rtol=0.02)
    np.testing.assert_allclose(b.grad.array / n, -an / (an + bn) ** 2, rtol=0.02)


def test_gamma_cdf_against_torch(torch):
    conc = np.array([0.3, 1.0, 4.0])
    rate = np.array([2.0, 0.5, 1.5])
    value = np.abs(np.random.default_rng(2).standard_normal((5, 3))) * 3
    c_e = ember.tensor(conc)
    r_e, v_e = (ember.tensor(a, requires_grad=True) for a in (rate, value))
    c_t = torch.tensor(conc)  # torch has no gradient in the concentration
    r_t, v_t = (torch.tensor(a, requires_grad=True) for a in (rate, value))
    got, want = D.Gamma(c_e, r_e).cdf(v_e), torch.distributions.Gamma(c_t, r_t).cdf(v_t)
    np.testing.assert_allclose(got.array, want.detach().numpy(), rtol=1e-12, atol=1e-15)
    w = np.random.default_rng(3).standard_normal((5, 3))
    (got * ember.tensor(w)).sum().backward()
    (want * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(r_e.grad.array, r_t.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(v_e.grad.array, v_t.grad.numpy(), rtol=1e-10)


def test_gamma_cdf_gradcheck_including_the_concentration():
    conc = ember.tensor([0.7, 2.5, 9.0], dtype=ember.float64, requires_grad=True)
    rate = ember.tensor([1.0, 0.5, 2.0], dtype=ember.float64, requires_grad=True)
    value = ember.tensor(
        [[0.4, 3.0, 5.0], [2.0, 8.0, 3.5]], dtype=ember.float64, requires_grad=True
    )
    assert ember.gradcheck(lambda a, b, x: D.Gamma(a, b).cdf(x), (conc, rate, value))
