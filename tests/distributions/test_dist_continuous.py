"""Scalar continuous distributions against torch.distributions in float64: log_prob, entropy,
moments, cdf and icdf, with batch broadcasting, and the gradients of each w.r.t. the
parameters (and the value)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from tests.distributions.dist_reference import compare, randn, uniform

_LOW = randn(3, seed=7)
_HIGH = _LOW + uniform(0.5, 2.0, 3, seed=8)

# name, parameters, value for log_prob/cdf, probabilities for icdf
SPECS = [
    (
        "Normal",
        dict(loc=randn(3, 1, seed=1), scale=uniform(0.5, 2.0, 4, seed=2)),
        2 * randn(2, 3, 4, seed=3),
        uniform(0.02, 0.98, 2, 3, 4, seed=4),
    ),
    (
        "Normal",
        dict(loc=np.array(0.3), scale=np.array(1.7)),
        randn(5, seed=3),
        uniform(0.02, 0.98, 5, seed=4),
    ),
    (
        "Laplace",
        dict(loc=randn(3, 1, seed=1), scale=uniform(0.5, 2.0, 4, seed=2)),
        2 * randn(2, 3, 4, seed=3),
        uniform(0.02, 0.98, 2, 3, 4, seed=4),
    ),
    (
        "Exponential",
        dict(rate=uniform(0.5, 2.0, 3, seed=5)),
        uniform(0.1, 3.0, 2, 3, seed=6),
        uniform(0.02, 0.98, 2, 3, seed=4),
    ),
    (
        "Uniform",
        dict(low=_LOW, high=_HIGH),
        _LOW + uniform(0.01, 0.99, 2, 3, seed=9) * (_HIGH - _LOW),
        uniform(0.02, 0.98, 2, 3, seed=4),
    ),
    (
        "Gamma",
        dict(concentration=uniform(0.5, 3.0, 3, 1, seed=10), rate=uniform(0.5, 2.0, 4, seed=11)),
        uniform(0.1, 4.0, 2, 3, 4, seed=12),
        None,
    ),
    (
        "Beta",
        dict(
            concentration1=uniform(0.5, 3.0, 3, 1, seed=13),
            concentration0=uniform(0.5, 3.0, 4, seed=14),
        ),
        uniform(0.05, 0.95, 2, 3, 4, seed=15),
        None,
    ),
    (
        "LogNormal",
        dict(loc=0.5 * randn(3, 1, seed=1), scale=uniform(0.3, 1.0, 4, seed=2)),
        uniform(0.1, 3.0, 2, 3, 4, seed=16),
        uniform(0.02, 0.98, 2, 3, 4, seed=4),
    ),
]

QUANTITIES = {
    "log_prob": lambda d, v, p: d.log_prob(v),
    "entropy": lambda d, v, p: d.entropy(),
    "mean": lambda d, v, p: d.mean,
    "variance": lambda d, v, p: d.variance,
    "stddev": lambda d, v, p: d.stddev,
    "mode": lambda d, v, p: d.mode,
    "cdf": lambda d, v, p: d.cdf(v),
    "icdf": lambda d, v, p: d.icdf(p),
}
# Gamma.cdf is tested in test_dist_gamma.py (torch cannot differentiate it in α);
# Beta has none
NO_CDF = {"Gamma", "Beta"}


def _cases():
    for k, (name, params, value, probs) in enumerate(SPECS):
        for q in QUANTITIES:
            if q in ("cdf", "icdf") and name in NO_CDF:
                continue
            yield pytest.param(name, params, value, probs, q, id=f"{name}{k}-{q}")


@pytest.mark.parametrize("name, params, value, probs, quantity", list(_cases()))
def test_against_torch(torch, name, params, value, probs, quantity):
    fn = QUANTITIES[quantity]
    arg = probs if quantity == "icdf" else value

    def run(d, v):
        return fn(d, v, v)

    compare(
        torch,
        lambda **p: getattr(D, name)(**p),
        lambda **p: getattr(torch.distributions, name)(**p),
        params,
        run,
        value=arg,
    )


def test_number_parameters_make_scalar_batches(torch):
    d = D.Normal(0.0, 1.0)
    assert d.batch_shape == () and d.event_shape == ()
    assert d.loc.dtype == np.float32  # numbers take the default dtype, as in torch
    e = D.Normal(ember.tensor(np.zeros(3)), 2.0)
    assert e.batch_shape == (3,) and e.scale.dtype == np.float64
    t = torch.distributions.Normal(torch.zeros(3, dtype=torch.float64), 2.0)
    np.testing.assert_allclose(
        e.log_prob(ember.tensor(np.array([0.1, -0.4, 2.0]))).array,
        t.log_prob(torch.tensor([0.1, -0.4, 2.0], dtype=torch.float64)).numpy(),
        rtol=1e-12,
    )


def test_uniform_log_prob_outside_is_minus_inf(torch):
    d = D.Uniform(
        ember.tensor(np.array([0.0, 1.0])), ember.tensor(np.array([1.0, 3.0])), validate_args=False
    )
    t = torch.distributions.Uniform(
        torch.tensor([0.0, 1.0], dtype=torch.float64),
        torch.tensor([1.0, 3.0], dtype=torch.float64),
        validate_args=False,
    )
    v = np.array([[1.5, 2.0], [0.5, 0.5], [0.0, 3.0]])
    out = d.log_prob(ember.tensor(v)).array
    np.testing.assert_array_equal(out, t.log_prob(torch.tensor(v)).numpy())
    assert np.isneginf(out[0, 0]) and np.isneginf(out[1, 1]) and np.isneginf(out[2, 1])
    np.testing.assert_allclose(out[0, 1], -np.log(2.0))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log 0, log of a negative
def test_gamma_log_prob_at_zero(torch):
    """(α − 1)·log x is 0 at x = 0 when α = 1 (torch's xlogy): the exponential density."""
    conc, rate = np.array([1.0, 2.0]), np.array([1.5, 1.5])
    d = D.Gamma(ember.tensor(conc), ember.tensor(rate))
    t = torch.distributions.Gamma(torch.tensor(conc), torch.tensor(rate))
    x = np.array([0.0, 0.0])
    np.testing.assert_allclose(d.log_prob(ember.tensor(x)).array, t.log_prob(torch.tensor(x)))
    assert d.log_prob(ember.tensor(x)).array[0] == pytest.approx(np.log(1.5))


def test_beta_mode_cases(torch):
    a = np.array([0.5, 0.5, 2.0, 0.5, 1.0, 3.0])
    b = np.array([0.7, 2.0, 0.5, 0.3, 1.0, 2.0])
    e = D.Beta(ember.tensor(a), ember.tensor(b)).mode.array
    t = torch.distributions.Beta(torch.tensor(a), torch.tensor(b)).mode.numpy()
    np.testing.assert_allclose(e, t, equal_nan=True)


def test_expand_matches_torch(torch):
    loc, scale = randn(3, seed=1), uniform(0.5, 2.0, 3, seed=2)
    e = D.Normal(ember.tensor(loc), ember.tensor(scale)).expand((2, 3))
    t = torch.distributions.Normal(torch.tensor(loc), torch.tensor(scale)).expand((2, 3))
    assert e.batch_shape == tuple(t.batch_shape) == (2, 3)
    v = randn(2, 3, seed=3)
    np.testing.assert_allclose(e.log_prob(ember.tensor(v)).array, t.log_prob(torch.tensor(v)))
    assert e.sample((4,)).shape == (4, 2, 3)


def test_perplexity_is_exp_entropy():
    d = D.Laplace(ember.tensor(np.zeros(2)), ember.tensor(np.array([0.5, 2.0])))
    np.testing.assert_allclose(d.perplexity().array, np.exp(1 + np.log(2 * np.array([0.5, 2.0]))))


def test_repr_names_parameters():
    assert repr(D.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(D.Exponential(ember.tensor(np.ones(3)))) == "Exponential(rate: (3,))"
