"""TransformedDistribution and its transforms against torch.distributions in float64, and the
SAC policy's tanh-squashed Gaussian: rsample, then log_prob of the same draw through the cache."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from ember import backend
from tests.distributions.dist_reference import compare, randn, uniform

LOC, SCALE = randn(3, 1, seed=1), uniform(0.5, 1.5, 4, seed=2)


def _transforms(m, kind):
    T = m.transforms
    if kind == "tanh":
        return [T.TanhTransform()]
    if kind == "exp":
        return [T.ExpTransform()]
    if kind == "sigmoid":
        return [T.SigmoidTransform()]
    if kind == "affine_tanh":
        return [T.AffineTransform(0.5, 2.0), T.TanhTransform()]
    if kind == "affine_neg":
        return [T.AffineTransform(1.0, -3.0)]
    raise KeyError(kind)


VALUES = {
    "tanh": uniform(-0.95, 0.95, 2, 3, 4, seed=3),
    "exp": uniform(0.1, 3.0, 2, 3, 4, seed=3),
    "sigmoid": uniform(0.05, 0.95, 2, 3, 4, seed=3),
    "affine_tanh": uniform(-0.95, 0.95, 2, 3, 4, seed=3),
    "affine_neg": randn(2, 3, 4, seed=3),
}
QUANTITIES = {
    "log_prob": lambda d, v: d.log_prob(v),
    "cdf": lambda d, v: d.cdf(v),
    "icdf": lambda d, v: d.icdf(v),
}


@pytest.mark.parametrize("quantity", list(QUANTITIES))
@pytest.mark.parametrize("kind", list(VALUES))
def test_transformed_against_torch(torch, kind, quantity):
    value = VALUES[kind] if quantity != "icdf" else uniform(0.05, 0.95, 2, 3, 4, seed=4)

    def make(m):
        return lambda loc, scale: m.TransformedDistribution(
            m.Normal(loc, scale), _transforms(m, kind)
        )

    compare(
        torch,
        make(D),
        make(torch.distributions),
        dict(loc=LOC, scale=SCALE),
        QUANTITIES[quantity],
        value=value,
    )


def test_transformed_over_independent_sums_event_dims(torch):
    """Tanh on an Independent(Normal, 1) base: the log-Jacobian is summed over the event."""

    def make(m):
        return lambda loc, scale: m.TransformedDistribution(
            m.Independent(m.Normal(loc, scale), 1), [m.transforms.TanhTransform()]
        )

    oe, _ = compare(
        torch,
        make(D),
        make(torch.distributions),
        dict(loc=randn(3, 4, seed=1), scale=uniform(0.5, 1.5, 3, 4, seed=2)),
        QUANTITIES["log_prob"],
        value=uniform(-0.9, 0.9, 2, 3, 4, seed=5),
    )
    assert oe.shape == (2, 3)


def _sac(m, loc, scale):
    base = m.Independent(m.Normal(loc, scale), 1)
    return m.TransformedDistribution(base, [m.transforms.TanhTransform(cache_size=1)])


def test_sac_policy_rsample_and_log_prob(torch):
    """a = tanh(μ + σ·ε); log π(a) = Σ [log N(u; μ, σ) − log(1 − tanh² u)], u = μ + σ·ε, with
    the gradient reaching μ and σ both through a and through the density: as torch's."""
    loc, scale = randn(5, 2, seed=11), uniform(0.3, 1.2, 5, 2, seed=12)
    le, se = ember.tensor(loc, requires_grad=True), ember.tensor(scale, requires_grad=True)
    pi = _sac(D, le, se)
    ember.manual_seed(123)
    a = pi.rsample()
    logp = pi.log_prob(a)
    ember.manual_seed(123)
    eps = backend.default_generator.standard_normal((5, 2), np.float64)

    lt, st = torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)
    pi_t = _sac(torch.distributions, lt, st)
    u_t = lt + torch.tensor(eps) * st  # torch's rsample formula with ember's noise
    a_t = pi_t.transforms[0](u_t)
    logp_t = pi_t.log_prob(a_t)
    np.testing.assert_allclose(a.array, a_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(logp.array, logp_t.detach().numpy(), rtol=1e-10)

    w = randn(5, seed=13)
    (logp * ember.tensor(w)).sum().backward()
    (logp_t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(le.grad.array, lt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(se.grad.array, st.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_tanh_cache_avoids_atanh_of_one():
    """A saturated draw (tanh u = 1 in float64) is scored from the cached u, not atanh(1)."""
    pi = _sac(D, ember.tensor(np.array([[30.0, -30.0]])), ember.tensor(np.array([[0.01, 0.01]])))
    a = pi.rsample()
    assert np.all(np.abs(a.array) == 1.0)
    assert np.all(np.isfinite(pi.log_prob(a).array))


def test_lognormal_is_exp_of_normal():
    loc, scale = ember.tensor(randn(3, seed=1)), ember.tensor(uniform(0.3, 1.0, 3, seed=2))
    d = D.LogNormal(loc, scale)
    x = uniform(0.2, 3.0, 4, 3, seed=3)
    n = D.Normal(loc, scale)
    expected = n.log_prob(ember.tensor(np.log(x))).array - np.log(x)
    np.testing.assert_allclose(d.log_prob(ember.tensor(x)).array, expected, rtol=1e-12)
    assert d.support.check(ember.tensor(x)).all()


def test_transform_inverses_round_trip():
    x = ember.tensor(randn(4, 3, seed=4))
    for t in (
        D.TanhTransform(),
        D.SigmoidTransform(),
        D.ExpTransform(),
        D.AffineTransform(1.0, -2.0),
        D.ComposeTransform([D.ExpTransform(), D.AffineTransform(0.0, 3.0)]),
    ):
        y = t(x)
        np.testing.assert_allclose(t.inv(y).array, x.array, rtol=1e-9, atol=1e-12)
        # log |dy/dx| against a central difference (elementwise transforms)
        h = 1e-6
        num = (t(ember.tensor(x.array + h)).array - t(ember.tensor(x.array - h)).array) / (2 * h)
        np.testing.assert_allclose(
            t.log_abs_det_jacobian(x, y).array, np.log(np.abs(num)), rtol=1e-6, atol=1e-7
        )
        assert t.inv.inv is t
