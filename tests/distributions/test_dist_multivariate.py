"""MultivariateNormal (from scale_tril, covariance_matrix or precision_matrix, batch dims
broadcast) and Independent against torch.distributions in float64, gradients included."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from tests.distributions.dist_reference import compare, lower_cholesky, randn, spd, uniform

MVN_SPECS = [
    ("scale_tril", dict(loc=randn(2, 3, seed=1), scale_tril=lower_cholesky(d=3, seed=2))),
    ("cov", dict(loc=randn(3, seed=1), covariance_matrix=spd(2, d=3, seed=3))),
    ("precision", dict(loc=randn(2, 3, seed=1), precision_matrix=spd(2, d=3, seed=4))),
    ("batched_tril", dict(loc=randn(1, 3, seed=5), scale_tril=lower_cholesky(4, 1, d=3, seed=6))),
]
MVN_VALUE = randn(5, 2, 3, seed=7)

MVN_QUANTITIES = {
    "log_prob": lambda d, v: d.log_prob(v),
    "entropy": lambda d, v: d.entropy(),
    "mean": lambda d, v: d.mean,
    "mode": lambda d, v: d.mode,
    "variance": lambda d, v: d.variance,
    "stddev": lambda d, v: d.stddev,
    "scale_tril": lambda d, v: d.scale_tril,
    "covariance_matrix": lambda d, v: d.covariance_matrix,
    "precision_matrix": lambda d, v: d.precision_matrix,
}


def _mvn_cases():
    for name, params in MVN_SPECS:
        for q in MVN_QUANTITIES:
            yield pytest.param(params, q, id=f"{name}-{q}")


@pytest.mark.parametrize("params, quantity", list(_mvn_cases()))
def test_multivariate_normal_against_torch(torch, params, quantity):
    value = MVN_VALUE
    if params["loc"].shape[:-1] == (1,):  # the batch is (4, 1)
        value = randn(5, 4, 1, 3, seed=8)
    compare(
        torch,
        lambda **p: D.MultivariateNormal(**p),
        lambda **p: torch.distributions.MultivariateNormal(**p),
        params,
        MVN_QUANTITIES[quantity],
        value=value,
    )


def test_multivariate_normal_shapes():
    d = D.MultivariateNormal(
        ember.tensor(randn(2, 3)), scale_tril=ember.tensor(lower_cholesky(d=3))
    )
    assert d.batch_shape == (2,) and d.event_shape == (3,)
    assert d.sample((4,)).shape == (4, 2, 3)
    assert d.log_prob(ember.tensor(randn(4, 2, 3))).shape == (4, 2)
    assert d.entropy().shape == (2,)


def test_diagonal_mvn_equals_independent_normals(torch):
    loc, sigma = randn(2, 3, seed=1), uniform(0.5, 2.0, 2, 3, seed=2)
    cov = np.zeros((2, 3, 3))
    cov[:, [0, 1, 2], [0, 1, 2]] = sigma**2
    mvn = D.MultivariateNormal(ember.tensor(loc), covariance_matrix=ember.tensor(cov))
    ind = D.Independent(D.Normal(ember.tensor(loc), ember.tensor(sigma)), 1)
    x = ember.tensor(randn(4, 2, 3, seed=3))
    np.testing.assert_allclose(mvn.log_prob(x).array, ind.log_prob(x).array, rtol=1e-12)
    np.testing.assert_allclose(mvn.entropy().array, ind.entropy().array, rtol=1e-12)


IND_SPECS = [
    (
        "Normal1",
        lambda m: m.Normal,
        dict(loc=randn(2, 3, 4, seed=1), scale=uniform(0.5, 2, 4, seed=2)),
        1,
    ),
    (
        "Normal2",
        lambda m: m.Normal,
        dict(loc=randn(2, 3, 4, seed=1), scale=uniform(0.5, 2, 4, seed=2)),
        2,
    ),
    (
        "Normal0",
        lambda m: m.Normal,
        dict(loc=randn(3, 4, seed=1), scale=uniform(0.5, 2, 4, seed=2)),
        0,
    ),
    ("Bernoulli1", lambda m: m.Bernoulli, dict(logits=randn(2, 3, 4, seed=3)), 1),
    (
        "Laplace1",
        lambda m: m.Laplace,
        dict(loc=randn(2, 3, 4, seed=1), scale=uniform(0.5, 2, 4, seed=2)),
        1,
    ),
]
IND_QUANTITIES = ["log_prob", "entropy", "mean", "variance"]


@pytest.mark.parametrize("quantity", IND_QUANTITIES)
@pytest.mark.parametrize("name, family, params, n", IND_SPECS, ids=[s[0] for s in IND_SPECS])
def test_independent_against_torch(torch, name, family, params, n, quantity):
    value = randn(*(5,) + params[next(iter(params))].shape, seed=9)
    if name.startswith("Bernoulli"):
        value = (value > 0).astype(np.float64)
    compare(
        torch,
        lambda **p: D.Independent(family(D)(**p), n),
        lambda **p: torch.distributions.Independent(family(torch.distributions)(**p), n),
        params,
        MVN_QUANTITIES[quantity],
        value=value,
    )


def test_independent_shapes(torch):
    base = D.Normal(ember.tensor(randn(2, 3, 4)), ember.tensor(uniform(0.5, 2, 2, 3, 4)))
    d = D.Independent(base, 2)
    t = torch.distributions.Independent(
        torch.distributions.Normal(torch.zeros(2, 3, 4), torch.ones(2, 3, 4)), 2
    )
    assert d.batch_shape == tuple(t.batch_shape) == (2,)
    assert d.event_shape == tuple(t.event_shape) == (3, 4)
    assert d.has_rsample and d.rsample((5,)).shape == (5, 2, 3, 4)
    assert repr(d).startswith("Independent(Normal(")
    e = d.expand((7, 2))
    assert e.batch_shape == (7, 2) and e.event_shape == (3, 4)
    assert e.log_prob(ember.tensor(randn(7, 2, 3, 4))).shape == (7, 2)


EXPAND_CASES = [
    ("Normal", dict(loc=randn(3, seed=1), scale=uniform(0.5, 2, 3, seed=2)), randn(2, 4, 3)),
    ("Bernoulli", dict(logits=randn(3, seed=1)), np.ones((2, 4, 3))),
    ("Categorical", dict(probs=uniform(0.1, 1, 3, 5, seed=1)), np.full((2, 4, 3), 2)),
    (
        "Gamma",
        dict(concentration=uniform(0.5, 2, 3), rate=uniform(0.5, 2, 3)),
        uniform(0.1, 2, 2, 4, 3),
    ),
    (
        "MultivariateNormal",
        dict(loc=randn(3, 2), scale_tril=lower_cholesky(d=2)),
        randn(2, 4, 3, 2),
    ),
    ("OneHotCategorical", dict(logits=randn(3, 5)), np.eye(5)[np.zeros((2, 4, 3), int)]),
    ("LogNormal", dict(loc=randn(3), scale=uniform(0.5, 2, 3)), uniform(0.1, 2, 2, 4, 3)),
]


@pytest.mark.parametrize("name, params, value", EXPAND_CASES, ids=[c[0] for c in EXPAND_CASES])
def test_expand_against_torch(torch, name, params, value):
    def make(m):
        return lambda **p: getattr(m, name)(**p).expand((4, 3))

    oe, _ = compare(
        torch, make(D), make(torch.distributions), params, lambda d, v: d.log_prob(v), value=value
    )
    assert oe.shape == (2, 4, 3)
    d = make(D)(**{k: ember.tensor(v) for k, v in params.items()})
    assert d.batch_shape == (4, 3)
    assert d.sample((2,)).shape[:3] == (2, 4, 3)
