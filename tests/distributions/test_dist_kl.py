"""kl_divergence against torch.distributions.kl_divergence in float64 (values, and gradients
w.r.t. the parameters of both p and q, batch dims broadcast), and the registry's dispatch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from tests.distributions.dist_reference import (
    assert_close,
    compare,
    lower_cholesky,
    randn,
    spd,
    uniform,
)

_LOW_P = randn(3, seed=30)
_HIGH_P = _LOW_P + uniform(0.5, 1.0, 3, seed=31)

# id, family, p's parameters, q's parameters (names prefixed p_ and q_ in the comparison)
CASES = [
    (
        "Normal",
        "Normal",
        dict(loc=randn(3, 1, seed=1), scale=uniform(0.5, 2, 3, 1, seed=2)),
        dict(loc=randn(4, seed=3), scale=uniform(0.5, 2, 4, seed=4)),
    ),
    (
        "Bernoulli-probs",
        "Bernoulli",
        dict(probs=uniform(0.05, 0.95, 3, 4, seed=5)),
        dict(probs=uniform(0.05, 0.95, 3, 4, seed=6)),
    ),
    (
        "Bernoulli-logits",
        "Bernoulli",
        dict(logits=randn(3, 4, seed=5)),
        dict(logits=randn(3, 4, seed=6)),
    ),
    (
        "Categorical",
        "Categorical",
        dict(logits=randn(3, 5, seed=7)),
        dict(probs=uniform(0.1, 1.0, 5, seed=8)),
    ),
    (
        "OneHotCategorical",
        "OneHotCategorical",
        dict(probs=uniform(0.1, 1.0, 3, 5, seed=7)),
        dict(logits=randn(3, 5, seed=8)),
    ),
    (
        "Uniform",
        "Uniform",
        dict(low=_LOW_P, high=_HIGH_P),
        dict(low=_LOW_P - uniform(0.0, 1.0, 3, seed=32), high=_HIGH_P + uniform(0, 1, 3, seed=33)),
    ),
    (
        "Exponential",
        "Exponential",
        dict(rate=uniform(0.5, 2, 3, seed=9)),
        dict(rate=uniform(0.5, 2, 3, seed=10)),
    ),
    (
        "Laplace",
        "Laplace",
        dict(loc=randn(3, seed=11), scale=uniform(0.5, 2, 3, seed=12)),
        dict(loc=randn(3, seed=13), scale=uniform(0.5, 2, 3, seed=14)),
    ),
    (
        "Gamma",
        "Gamma",
        dict(concentration=uniform(0.5, 3, 3, seed=15), rate=uniform(0.5, 2, 3, seed=16)),
        dict(concentration=uniform(0.5, 3, 3, seed=17), rate=uniform(0.5, 2, 3, seed=18)),
    ),
    (
        "Beta",
        "Beta",
        dict(
            concentration1=uniform(0.5, 3, 3, seed=19), concentration0=uniform(0.5, 3, 3, seed=20)
        ),
        dict(
            concentration1=uniform(0.5, 3, 3, seed=21), concentration0=uniform(0.5, 3, 3, seed=22)
        ),
    ),
    (
        "MVN-tril",
        "MultivariateNormal",
        dict(loc=randn(2, 3, seed=23), scale_tril=lower_cholesky(2, d=3, seed=24)),
        dict(loc=randn(3, seed=25), scale_tril=lower_cholesky(d=3, seed=26)),
    ),
    (
        "MVN-cov",
        "MultivariateNormal",
        dict(loc=randn(3, seed=23), covariance_matrix=spd(d=3, seed=27)),
        dict(loc=randn(2, 3, seed=25), covariance_matrix=spd(2, d=3, seed=28)),
    ),
]


def _kl_case(torch, family, p_params, q_params, wrap=None):
    params = {f"p_{k}": v for k, v in p_params.items()}
    params.update({f"q_{k}": v for k, v in q_params.items()})

    def make(m):
        def build(**kw):
            p = getattr(m, family)(**{k[2:]: v for k, v in kw.items() if k.startswith("p_")})
            q = getattr(m, family)(**{k[2:]: v for k, v in kw.items() if k.startswith("q_")})
            return (wrap(m, p), wrap(m, q)) if wrap else (p, q)

        return build

    return compare(
        torch,
        make(D),
        make(torch.distributions),
        params,
        lambda pq, v: (
            D if isinstance(pq[0], D.Distribution) else torch.distributions
        ).kl_divergence(*pq),
    )


@pytest.mark.parametrize(
    "family, p_params, q_params", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_kl_against_torch(torch, family, p_params, q_params):
    _kl_case(torch, family, p_params, q_params)


def test_kl_independent_normal(torch):
    p = dict(loc=randn(2, 3, seed=1), scale=uniform(0.5, 2, 2, 3, seed=2))
    q = dict(loc=randn(2, 3, seed=3), scale=uniform(0.5, 2, 3, seed=4))
    oe, _ = _kl_case(torch, "Normal", p, q, wrap=lambda m, d: m.Independent(d, 1))
    assert oe.shape == (2,)


def test_kl_infinite_cases(torch):
    """Support mismatches give +∞ as torch's: a Uniform not inside the other, a category
    with q = 0 < p, a Bernoulli q of 0 or 1."""
    e = D.kl_divergence(
        D.Uniform(ember.tensor(np.array([0.0, 0.0])), ember.tensor(np.array([1.0, 1.0]))),
        D.Uniform(ember.tensor(np.array([0.5, -1.0])), ember.tensor(np.array([2.0, 2.0]))),
    )
    assert np.isposinf(e.array[0]) and np.isfinite(e.array[1])
    pc, qc = (
        np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]),
        np.array([[0.0, 1.0, 0.0], [0.1, 0.0, 0.9]]),
    )
    pairs = [
        (lambda m, a: m.Categorical(probs=a), pc, qc),
        (
            lambda m, a: m.Bernoulli(probs=a),
            np.array([0.0, 1.0, 0.3, 0.3]),
            np.array([0.5, 0.5, 0.0, 1.0]),
        ),
    ]
    for make, a, b in pairs:
        out = D.kl_divergence(make(D, ember.tensor(a)), make(D, ember.tensor(b)))
        ref = torch.distributions.kl_divergence(
            make(torch.distributions, torch.tensor(a)), make(torch.distributions, torch.tensor(b))
        )
        assert_close(out, ref, "kl")


def test_kl_of_identical_distributions_is_zero():
    loc, L = ember.tensor(randn(2, 3, seed=1)), ember.tensor(lower_cholesky(2, d=3, seed=2))
    pos = ember.tensor(uniform(0.5, 2.0, 2, 3, seed=3))
    for d in (
        D.Normal(loc, pos),
        D.MultivariateNormal(loc, scale_tril=L),
        D.Categorical(logits=loc),
        D.Gamma(pos, pos),
        D.Beta(pos, 2.0),
    ):
        np.testing.assert_allclose(D.kl_divergence(d, d).array, 0.0, atol=1e-12)


def test_kl_matches_monte_carlo():
    """The closed forms equal E_p[log p(x) − log q(x)] estimated from 200 000 draws of p."""
    pairs = [
        (D.Normal(_t(0.3, -1.0), _t(0.8, 2.0)), D.Normal(_t(-0.2, 0.0), _t(1.5, 1.0))),
        (D.Gamma(_t(2.0, 0.7), _t(1.0, 3.0)), D.Gamma(_t(1.5, 1.0), _t(0.5, 2.0))),
        (D.Beta(_t(2.0, 0.7), _t(3.0, 1.5)), D.Beta(_t(1.0, 1.2), _t(1.5, 0.9))),
        (D.Laplace(_t(0.3, 1.0), _t(0.8, 2.0)), D.Laplace(_t(-0.2, 0.0), _t(1.5, 1.0))),
        (
            D.MultivariateNormal(
                _t(0.3, -1.0), scale_tril=ember.tensor([[1.0, 0.0], [0.4, 0.7]], dtype=np.float64)
            ),
            D.MultivariateNormal(
                _t(0.0, 0.0),
                covariance_matrix=ember.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=np.float64),
            ),
        ),
    ]
    for p, q in pairs:
        x = p.sample((200_000,))
        r = (p.log_prob(x) - q.log_prob(x)).array
        se = r.std(0) / np.sqrt(r.shape[0])
        np.testing.assert_array_less(np.abs(r.mean(0) - D.kl_divergence(p, q).array), 5 * se)


def _t(*values):
    return ember.tensor(np.array(values, dtype=np.float64))


def test_register_kl_dispatch_prefers_the_closest_types():
    class MyNormal(D.Normal):
        pass

    x = ember.tensor(np.zeros(2))
    p, q = MyNormal(x, x + 1), D.Normal(x + 1, x + 2)
    base = D.kl_divergence(D.Normal(x, x + 1), q).array  # the inherited formula
    np.testing.assert_allclose(D.kl_divergence(p, q).array, base)

    @D.register_kl(MyNormal, D.Normal)
    def _(p, q):
        return ember.tensor(np.full(2, 42.0))

    try:
        np.testing.assert_array_equal(D.kl_divergence(p, q).array, 42.0)
        np.testing.assert_allclose(
            D.kl_divergence(q, p).array, D.kl_divergence(q, D.Normal(x, x + 1)).array
        )
    finally:
        from ember.distributions import kl as K

        del K._KL_REGISTRY[MyNormal, D.Normal]
        K._KL_MEMO.clear()


def test_unregistered_pair_raises():
    with pytest.raises(NotImplementedError, match="No KL.*Gamma.*Laplace"):  # torch has none
        D.kl_divergence(D.Gamma(1.0, 1.0), D.Laplace(0.0, 1.0))
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)
    p = D.Independent(D.Normal(ember.tensor(np.zeros((2, 3))), 1.0), 1)
    q = D.Independent(D.Normal(ember.tensor(np.zeros((2, 3))), 1.0), 2)
    with pytest.raises(NotImplementedError, match="reinterpreted_batch_ndims"):
        D.kl_divergence(p, q)
