"""Gumbel, Weibull, Pareto, NegativeBinomial, Multinomial, VonMises, RelaxedBernoulli,
RelaxedOneHotCategorical, LowRankMultivariateNormal and MixtureSameFamily against
torch.distributions in float64: log_prob, cdf/icdf, moments and entropy with their
gradients, shapes and expand, validation."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from tests.distributions.dist_reference import (
    as_ember,
    as_torch,
    assert_close,
    compare,
    makers,
    randn,
    torch_has,
    uniform,
)

INT_VALUES = np.array([[0.0, 1.0, 3.0], [7.0, 0.0, 2.0]])
K_SIMPLEX = np.random.default_rng(3).dirichlet(np.ones(4), size=(2, 2))  # (2, 2, 4)


def _mixture(module, logits, loc, scale, validate_args=True):
    mix = module.Categorical(logits=logits)
    comp = module.Normal(loc, scale)
    return module.MixtureSameFamily(mix, comp, validate_args=validate_args)


# id, class name, parameters, values inside the support, values outside it (or None)
CASES = [
    (
        "Gumbel",
        "Gumbel",
        dict(loc=randn(3, seed=1), scale=uniform(0.5, 2, 3, seed=2)),
        randn(2, 3, seed=3) * 2,
        None,
    ),
    (
        "Weibull",
        "Weibull",
        dict(scale=uniform(0.5, 2, 3, seed=4), concentration=np.array([0.6, 1.5, 3.0])),
        uniform(0.1, 3, 2, 3, seed=5),
        None,
    ),
    (
        "Pareto",
        "Pareto",
        dict(scale=uniform(0.5, 2, 3, seed=6), alpha=np.array([0.5, 1.5, 3.0])),
        uniform(2.1, 5, 2, 3, seed=7),
        uniform(0.1, 0.4, 2, 3, seed=8),
    ),
    (
        "NegativeBinomial-probs",
        "NegativeBinomial",
        dict(total_count=np.array([0.5, 2.5, 7.0]), probs=np.array([0.2, 0.5, 0.9])),
        INT_VALUES,
        INT_VALUES + 0.5,
    ),
    (
        "NegativeBinomial-logits",
        "NegativeBinomial",
        dict(total_count=np.array([1.0, 4.0, 9.0]), logits=randn(2, 3, seed=9)),
        INT_VALUES,
        None,
    ),
    (
        "VonMises",
        "VonMises",
        dict(loc=randn(3, seed=10), concentration=np.array([0.4, 2.0, 9.0])),
        randn(2, 3, seed=11) * 3,
        None,
    ),
    (
        "RelaxedBernoulli",
        "RelaxedBernoulli",
        dict(temperature=np.array(0.7), probs=uniform(0.1, 0.9, 3, seed=12)),
        uniform(0.05, 0.95, 2, 3, seed=13),
        None,
    ),
    (
        "RelaxedOneHotCategorical",
        "RelaxedOneHotCategorical",
        dict(temperature=np.array(1.3), logits=randn(2, 4, seed=14)),
        K_SIMPLEX,
        None,
    ),
    (
        "LowRankMultivariateNormal",
        "LowRankMultivariateNormal",
        dict(
            loc=randn(2, 3, seed=15),
            cov_factor=randn(3, 2, seed=16),
            cov_diag=uniform(0.5, 2, 3, seed=17),
        ),
        randn(4, 2, 3, seed=18),
        None,
    ),
    (
        "Multinomial",
        "Multinomial",
        dict(total_count=5, probs=uniform(0.1, 1, 2, 4, seed=19)),
        np.array([[1.0, 2, 0, 2], [0, 0, 5, 0]]),
        np.array([[1.0, 2, 0, 3], [0, 0, 5, 0]]),  # six draws of five
    ),
    (
        "MixtureSameFamily",
        "MixtureSameFamily",
        dict(logits=randn(2, 3, seed=20), loc=randn(2, 3, seed=21), scale=uniform(0.5, 2, 3)),
        randn(4, 2, seed=22) * 2,
        None,
    ),
]
IDS = [c[0] for c in CASES]
FLOORED_MODE = {"NegativeBinomial"}


def _makers(torch, name, validate=True):
    if name == "MixtureSameFamily":
        return (
            lambda **kw: _mixture(D, **kw, validate_args=validate),
            lambda **kw: _mixture(torch.distributions, **kw, validate_args=validate),
        )

    return makers(torch, name, validate)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob(torch, case):
    _, name, params, inside, outside = case
    compare(torch, *_makers(torch, name), params, lambda d, v: d.log_prob(v), value=inside)
    if outside is not None and name != "Multinomial":
        make_e, make_t = _makers(torch, name, validate=False)
        compare(torch, make_e, make_t, params, lambda d, v: d.log_prob(v), value=outside)


@pytest.mark.parametrize("what", ["mean", "mode", "variance", "stddev", "entropy"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_moments_and_entropy(torch, case, what):
    _, name, params, _, _ = case
    make_e, make_t = _makers(torch, name)
    if not torch_has(torch, make_t, params, what):
        with pytest.raises(NotImplementedError):
            d = make_e(**{k: as_ember(v) for k, v in params.items()})  # fmt: skip
            d.entropy() if what == "entropy" else getattr(d, what)
        return
    fn = (lambda d, v: d.entropy()) if what == "entropy" else (lambda d, v: getattr(d, what))
    if name == "Multinomial" and what == "entropy":
        # torch evaluates its log Γ(n + 1) term in float32 (an integer tensor): agreement to
        # that float's rounding
        e = make_e(**{k: as_ember(v) for k, v in params.items()})  # fmt: skip
        t = make_t(**{k: as_torch(torch, v) for k, v in params.items()})
        np.testing.assert_allclose(e.entropy().array, t.entropy().numpy(), rtol=1e-7)
        return
    grad = not (what == "mode" and name in FLOORED_MODE)
    compare(torch, make_e, make_t, params, fn, grad=grad)


CDF_CASES = [c for c in CASES if c[1] in {"Gumbel", "Weibull", "Pareto"}]


@pytest.mark.parametrize("case", CDF_CASES, ids=lambda c: c[0])
def test_cdf_and_icdf(torch, case):
    _, name, params, inside, _ = case
    compare(torch, *_makers(torch, name), params, lambda d, v: d.cdf(v), value=inside)
    probs = uniform(0.02, 0.98, 2, 3, seed=20)
    compare(torch, *_makers(torch, name), params, lambda d, v: d.icdf(v), value=probs)


def test_mixture_cdf(torch):
    _, name, params, inside, _ = CASES[IDS.index("MixtureSameFamily")]
    compare(torch, *_makers(torch, name), params, lambda d, v: d.cdf(v), value=inside)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shapes_sample_and_expand(torch, case):
    _, name, params, inside, _ = case
    make_e, make_t = _makers(torch, name)
    d = make_e(**{k: as_ember(v) for k, v in params.items()})
    td = make_t(**{k: as_torch(torch, v) for k, v in params.items()})
    assert d.batch_shape == tuple(td.batch_shape)
    assert d.event_shape == tuple(td.event_shape)
    assert d.has_rsample == td.has_rsample
    full = d.batch_shape + d.event_shape
    for sample_shape in [(), (5,), (2, 3)]:
        x = d.sample(sample_shape)
        assert x.shape == sample_shape + full and not x.requires_grad
        assert np.all(np.asarray(td.support.check(torch.tensor(x.array))))
        if d.has_rsample:
            assert d.rsample(sample_shape).shape == sample_shape + full
    new = (2,) + d.batch_shape
    de, dt = d.expand(new), td.expand(new)
    assert de.batch_shape == tuple(dt.batch_shape) == new
    assert de.event_shape == d.event_shape
    v = td.sample().numpy()
    assert_close(de.log_prob(ember.tensor(v)), dt.log_prob(torch.tensor(v)), "expanded log_prob")
    assert de.sample().shape == new + d.event_shape
    if not name.startswith("Relaxed"):  # torch has no mean for them
        assert_close(de.mean, dt.mean, "expanded mean")


def test_gradcheck_log_prob():
    t = lambda a: ember.tensor(np.asarray(a, float), requires_grad=True)  # noqa: E731
    loc, scale = t([0.2, -1.0, 0.5]), t([0.7, 1.3, 2.0])
    x, pos = t([0.5, -2.0, 1.0]), t([2.5, 1.4, 3.0])
    checks = [
        (lambda a, b, v: D.Gumbel(a, b).log_prob(v) + D.Gumbel(a, b).cdf(v), (loc, scale, x)),
        (lambda b, k, v: D.Weibull(b, k).log_prob(v) + D.Weibull(b, k).cdf(v), (scale, scale, pos)),
        (lambda b, a, v: D.Pareto(b, a).log_prob(v), (scale, scale, pos)),
        (lambda a, k, v: D.VonMises(a, k).log_prob(v), (loc, scale, x)),
        (lambda a, b: D.LowRankMultivariateNormal(a, b.unsqueeze(-1), b).entropy(), (loc, scale)),
    ]
    for fn, args in checks:
        assert ember.gradcheck(fn, args)


BAD_PARAMS = [
    ("Gumbel", dict(loc=[0.0], scale=[-1.0])),
    ("Weibull", dict(scale=[1.0], concentration=[0.0])),
    ("Pareto", dict(scale=[-1.0], alpha=[1.0])),
    ("NegativeBinomial", dict(total_count=[-1.0], probs=[0.5])),
    ("NegativeBinomial", dict(total_count=[1.0], probs=[1.0])),  # p in [0, 1)
    ("VonMises", dict(loc=[0.0], concentration=[-0.5])),
    (
        "LowRankMultivariateNormal",
        dict(loc=[0.0, 0.0], cov_factor=[[1.0], [0.0]], cov_diag=[1.0, -1.0]),
    ),  # fmt: skip
    ("Multinomial", dict(probs=[[-0.1, 1.1]])),
]


@pytest.mark.parametrize("name, params", BAD_PARAMS, ids=lambda p: str(p)[:30])
def test_bad_parameters_raise(torch, name, params):
    with pytest.raises(ValueError):
        getattr(D, name)(**{k: ember.tensor(v) for k, v in params.items()}, validate_args=True)
    with pytest.raises(ValueError):
        getattr(torch.distributions, name)(
            **{k: torch.tensor(v) for k, v in params.items()}, validate_args=True
        )


BAD_VALUES = [
    ("Weibull", dict(scale=[1.0], concentration=[2.0]), [-0.5]),
    ("Pareto", dict(scale=[2.0], alpha=[1.0]), [1.5]),
    ("NegativeBinomial", dict(total_count=[2.0], probs=[0.3]), [1.5]),
    ("Multinomial", dict(total_count=3, probs=[[0.5, 0.5]]), [[2.0, 2.0]]),
    ("Multinomial", dict(total_count=3, probs=[[0.5, 0.5]]), [[-1.0, 2.0]]),
    ("RelaxedBernoulli", dict(temperature=1.0, probs=[0.5]), [1.5]),
    ("RelaxedOneHotCategorical", dict(temperature=1.0, probs=[0.5, 0.5]), [0.7, 0.7]),
]


@pytest.mark.parametrize("name, params, value", BAD_VALUES, ids=lambda p: str(p)[:30])
def test_values_outside_support_raise(torch, name, params, value):
    def kw(fn):
        return {k: v if isinstance(v, (int, float)) else fn(v) for k, v in params.items()}

    d = getattr(D, name)(**kw(ember.tensor), validate_args=True)
    with pytest.raises(ValueError, match="support"):
        d.log_prob(ember.tensor(value))
    td = getattr(torch.distributions, name)(**kw(torch.tensor), validate_args=True)
    with pytest.raises(ValueError):
        td.log_prob(torch.tensor(value))


def test_mixture_rejects_mismatched_components():
    mix = D.Categorical(logits=ember.tensor(np.zeros(3)))
    with pytest.raises(ValueError, match="component"):
        D.MixtureSameFamily(mix, D.Normal(ember.tensor(np.zeros(4)), 1.0))
    with pytest.raises(ValueError, match="Categorical"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(ember.tensor(np.zeros(3)), 1.0))
    with pytest.raises(NotImplementedError, match="inhomogeneous"):
        D.Multinomial(ember.tensor([3.0]), ember.tensor([0.5, 0.5]))
