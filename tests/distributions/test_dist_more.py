"""Chi2, StudentT, Cauchy, HalfNormal, HalfCauchy, Poisson, Geometric and Binomial
(ember.distributions) against torch.distributions in float64: values and gradients of
every quantity, gradcheck, shapes, expand, reparameterisation, validation and KL."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from ember.distributions import kl_divergence
from ember.distributions.distribution import draw_normal, draw_uniform
from tests.distributions.dist_reference import assert_close, compare, compare_kl, randn, uniform

DF = np.array([0.7, 1.0, 1.5, 2.0, 3.5, 12.0])  # mean nan / var nan, inf, inf, finite
INT_VALUES = np.array([[0.0, 1.0, 3.0], [7.0, 0.0, 2.0]])

# id, class name, parameters, values inside the support, values outside (validate_args=False)
CASES = [
    ("Chi2", "Chi2", dict(df=uniform(0.5, 6, 3)), uniform(0.1, 8, 2, 3, seed=1), None),
    (
        "StudentT",
        "StudentT",
        dict(df=DF, loc=randn(6, seed=2), scale=uniform(0.5, 2, 6, seed=3)),
        randn(2, 6, seed=4) * 3,
        None,
    ),
    (
        "Cauchy",
        "Cauchy",
        dict(loc=randn(3, seed=5), scale=uniform(0.5, 2, 3, seed=6)),
        randn(2, 3, seed=7) * 4,
        None,
    ),
    (
        "HalfNormal",
        "HalfNormal",
        dict(scale=uniform(0.5, 2, 3, seed=8)),
        uniform(0.01, 4, 2, 3, seed=9),
        -uniform(0.1, 2, 2, 3, seed=10),
    ),
    (
        "HalfCauchy",
        "HalfCauchy",
        dict(scale=uniform(0.5, 2, 3, seed=11)),
        uniform(0.01, 6, 2, 3, seed=12),
        -uniform(0.1, 2, 2, 3, seed=13),
    ),
    ("Poisson", "Poisson", dict(rate=np.array([0.3, 2.5, 17.0])), INT_VALUES, INT_VALUES + 0.5),
    (
        "Geometric-probs",
        "Geometric",
        dict(probs=np.array([0.1, 0.5, 0.95])),
        INT_VALUES,
        INT_VALUES + 0.5,
    ),
    ("Geometric-logits", "Geometric", dict(logits=randn(3, seed=14)), INT_VALUES, None),
    (
        "Binomial-probs",
        "Binomial",
        dict(total_count=7, probs=np.array([0.1, 0.5, 0.95])),
        INT_VALUES,
        INT_VALUES + 0.5,
    ),
    (
        "Binomial-logits-counts",
        "Binomial",
        dict(total_count=np.array([7, 9, 3]), logits=randn(2, 3, seed=15) * 3),
        INT_VALUES,
        None,
    ),
]
IDS = [c[0] for c in CASES]
CONTINUOUS = {"Chi2", "StudentT", "Cauchy", "HalfNormal", "HalfCauchy"}
HAS_CDF = {"Cauchy", "HalfNormal", "HalfCauchy"}
NO_ENTROPY = {"Poisson"}  # torch's Poisson has no entropy either
FLOORED_MODE = {"Poisson", "Binomial", "Chi2"}  # floor/clamp: no gradient worth comparing


def _makers(torch, name, validate=True):
    def make_e(**kw):
        return getattr(D, name)(**kw, validate_args=validate)

    def make_t(**kw):
        return getattr(torch.distributions, name)(**kw, validate_args=validate)

    return make_e, make_t


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob_inside_and_outside_support(torch, case):
    _, name, params, inside, outside = case
    compare(torch, *_makers(torch, name), params, lambda d, v: d.log_prob(v), value=inside)
    if outside is not None:
        make_e, make_t = _makers(torch, name, validate=False)
        compare(torch, make_e, make_t, params, lambda d, v: d.log_prob(v), value=outside)


@pytest.mark.parametrize("what", ["mean", "mode", "variance", "stddev", "entropy"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_moments_and_entropy(torch, case, what):
    _, name, params, _, _ = case
    if what == "entropy" and name in NO_ENTROPY:
        with pytest.raises(NotImplementedError):
            getattr(D, name)(**params).entropy()
        return
    if what == "entropy" and "counts" in case[0]:
        with pytest.raises(NotImplementedError, match="Inhomogeneous"):
            D.Binomial(**{k: ember.tensor(v) for k, v in params.items()}).entropy()
        return
    fn = (lambda d, v: d.entropy()) if what == "entropy" else (lambda d, v: getattr(d, what))
    grad = not (what == "mode" and name in FLOORED_MODE)
    compare(torch, *_makers(torch, name), params, fn, grad=grad)


@pytest.mark.parametrize("case", [c for c in CASES if c[1] in HAS_CDF], ids=lambda c: c[0])
def test_cdf_and_icdf(torch, case):
    _, name, params, inside, outside = case
    compare(torch, *_makers(torch, name), params, lambda d, v: d.cdf(v), value=inside)
    probs = uniform(0.02, 0.98, 2, 3, seed=20)
    compare(torch, *_makers(torch, name), params, lambda d, v: d.icdf(v), value=probs)
    if outside is not None:  # torch's formula, unvalidated, below 0
        make_e, make_t = _makers(torch, name, validate=False)
        compare(torch, make_e, make_t, params, lambda d, v: d.cdf(v), value=outside)


def test_gradcheck_continuous():
    t = lambda a: ember.tensor(np.asarray(a, float), requires_grad=True)  # noqa: E731
    df, loc, scale = t([1.5, 3.0, 7.0]), t([0.2, -1.0, 0.5]), t([0.7, 1.3, 2.0])
    x = t([[0.5, -2.0, 1.0], [3.0, 0.1, -0.4]])
    pos = t([[0.5, 2.0, 1.0], [3.0, 0.1, 0.4]])
    p = t([0.2, 0.55, 0.9])
    checks = [
        (lambda a, b, c, v: D.StudentT(a, b, c).log_prob(v), (df, loc, scale, x)),
        (lambda a, b, c: D.StudentT(a, b, c).entropy(), (df, loc, scale)),
        (lambda a, v: D.Chi2(a).log_prob(v), (df, pos)),
        (lambda b, c, v: D.Cauchy(b, c).log_prob(v), (loc, scale, x)),
        (lambda b, c, v: D.Cauchy(b, c).cdf(v), (loc, scale, x)),
        (lambda b, c, q: D.Cauchy(b, c).icdf(q), (loc, scale, p)),
        (lambda c: D.Cauchy(0.0, c).entropy(), (scale,)),
        (lambda c, v: D.HalfNormal(c).log_prob(v), (scale, pos)),
        (lambda c, v: D.HalfNormal(c).cdf(v), (scale, pos)),
        (lambda c, q: D.HalfNormal(c).icdf(q), (scale, p)),
        (lambda c, v: D.HalfCauchy(c).log_prob(v), (scale, pos)),
        (lambda c, q: D.HalfCauchy(c).icdf(q), (scale, p)),
        (lambda c: D.HalfNormal(c).entropy() + D.HalfNormal(c).variance, (scale,)),
        (lambda r, v: D.Poisson(r, validate_args=False).log_prob(v), (scale, pos)),
        (
            lambda q, v: D.Geometric(q, validate_args=False).log_prob(v) + D.Geometric(q).entropy(),
            (p, pos),
        ),
        (lambda q: D.Binomial(6, q).entropy() + D.Binomial(6, q).variance, (p,)),
        (lambda lg, v: D.Binomial(6, logits=lg, validate_args=False).log_prob(v), (loc, pos)),
    ]
    for fn, args in checks:
        assert ember.gradcheck(fn, args)


def _params(name, batch):
    r = np.random.default_rng(0)
    pos = lambda: r.uniform(0.5, 3, batch)  # noqa: E731
    return {
        "Chi2": dict(df=pos()),
        "StudentT": dict(df=pos(), loc=r.standard_normal(batch), scale=pos()),
        "Cauchy": dict(loc=r.standard_normal(batch), scale=pos()),
        "HalfNormal": dict(scale=pos()),
        "HalfCauchy": dict(scale=pos()),
        "Poisson": dict(rate=pos()),
        "Geometric": dict(probs=r.uniform(0.1, 0.9, batch)),
        "Binomial": dict(total_count=5, probs=r.uniform(0.1, 0.9, batch)),
    }[name]


NAMES = ["Chi2", "StudentT", "Cauchy", "HalfNormal", "HalfCauchy", "Poisson", "Geometric"]
NAMES += ["Binomial"]


@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
@pytest.mark.parametrize("name", NAMES)
def test_sample_shapes_and_expand(torch, name, batch):
    params = _params(name, batch)
    d = getattr(D, name)(
        **{k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in params.items()}
    )
    td = getattr(torch.distributions, name)(
        **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in params.items()}
    )
    assert d.batch_shape == tuple(td.batch_shape) == batch
    assert d.has_rsample == td.has_rsample
    for sample_shape in [(), (4,), (2, 5)]:
        x = d.sample(sample_shape)
        assert x.shape == sample_shape + batch and not x.requires_grad
        assert np.all(np.asarray(td.support.check(torch.tensor(x.array))))
        if d.has_rsample:
            assert d.rsample(sample_shape).shape == sample_shape + batch
    new = (4,) + batch
    de, dt = d.expand(new), td.expand(new)
    assert de.batch_shape == tuple(dt.batch_shape) == new
    v = td.sample().numpy()
    assert_close(de.log_prob(ember.tensor(v)), dt.log_prob(torch.tensor(v)), "expanded log_prob")
    assert_close(de.mean, dt.mean, "expanded mean")
    assert de.sample().shape == new


def test_sample_moments():
    # sample means within 5 standard errors of the mean, for the samplers written here
    n = 20000
    cases = [
        (D.Poisson(ember.tensor([0.0, 0.4, 6.0, 300.0])), None),
        (D.Geometric(ember.tensor([0.05, 0.5, 1.0])), None),
        (D.Binomial(ember.tensor([0.0, 4.0, 30.0]), ember.tensor([0.3, 0.6, 0.9])), None),
        (D.HalfNormal(ember.tensor([0.5, 2.0])), None),
        (D.Chi2(ember.tensor([0.5, 4.0])), None),
    ]
    for d, _ in cases:
        x = d.sample((n,)).array
        mean, var = d.mean.array, d.variance.array
        se = np.sqrt(var / n)
        assert np.all(np.abs(x.mean(0) - mean) <= 5 * se + 1e-12), type(d).__name__
    # the Poisson and Binomial samplers are exact inverse transforms: histograms match the pmf
    for d in (D.Poisson(3.0), D.Binomial(7, ember.tensor(0.35))):
        k = d.sample((n,)).array
        pmf = np.exp(d.log_prob(ember.tensor(np.arange(8.0))).array)
        freq = np.bincount(k.astype(int), minlength=8)[:8] / n
        assert np.all(np.abs(freq - pmf) <= 5 * np.sqrt(pmf * (1 - pmf) / n)), type(d).__name__
    # large counts cost no memory per trial: n = 10⁹ draws land within 5 standard deviations
    big = D.Binomial(ember.tensor([1e9]), ember.tensor([0.25])).sample((50,)).array
    assert np.all(np.abs(big - 2.5e8) <= 5 * np.sqrt(1e9 * 0.25 * 0.75))


def test_cauchy_and_half_rsample_are_the_reparameterised_noise(torch):
    loc = ember.tensor([0.3, -1.0], dtype=ember.float64, requires_grad=True)
    scale = ember.tensor([0.5, 2.0], dtype=ember.float64, requires_grad=True)
    ember.manual_seed(5)
    u = draw_uniform((4, 2), np.float64)
    ember.manual_seed(5)
    x = D.Cauchy(loc, scale).rsample((4,))
    want = torch.distributions.Cauchy(torch.tensor(loc.array), torch.tensor(scale.array)).icdf(
        torch.tensor(u)
    )
    np.testing.assert_allclose(x.array, want.numpy(), rtol=1e-12)
    x.sum().backward()  # ∂x/∂μ = 1, ∂x/∂σ = tan(π(u − ½))
    np.testing.assert_allclose(loc.grad.array, [4.0, 4.0])
    np.testing.assert_allclose(scale.grad.array, np.tan(np.pi * (u - 0.5)).sum(0), rtol=1e-12)
    for cls, noise in [(D.HalfNormal, draw_normal), (D.HalfCauchy, None)]:
        ember.manual_seed(6)
        eps = (
            noise((4, 2), np.float64)
            if noise
            else np.tan(np.pi * (draw_uniform((4, 2), np.float64) - 0.5))
        )
        ember.manual_seed(6)
        scale.grad = None
        y = cls(scale).rsample((4,))
        np.testing.assert_allclose(y.array, np.abs(eps) * scale.array, rtol=1e-12)
        y.sum().backward()
        np.testing.assert_allclose(scale.grad.array, np.abs(eps).sum(0), rtol=1e-12)
    ember.manual_seed(7)
    assert ember.gradcheck(
        lambda b, c: (ember.manual_seed(7), D.Cauchy(b, c).rsample((3,)))[1], (loc, scale)
    )


def test_chi2_rsample_is_gamma_rsample():
    df = ember.tensor([0.8, 3.0, 11.0], dtype=ember.float64, requires_grad=True)
    ember.manual_seed(2)
    x = D.Chi2(df).rsample((5,))
    ember.manual_seed(2)
    g = ember.distributions.Gamma(df.array / 2, 0.5).rsample((5,))
    np.testing.assert_array_equal(x.array, g.array)
    assert x.requires_grad


@pytest.mark.parametrize(
    "name, df, estimand, exact_grad",
    [
        # E[Z] = ν for Z ~ Chi2(ν): ∂/∂ν = 1
        ("Chi2", 3.0, lambda x: x, 1.0),
        # E[T²] = ν/(ν − 2) for T ~ StudentT(ν): ∂/∂ν = −2/(ν − 2)²  (ν > 4: finite variance)
        ("StudentT", 9.0, lambda x: x**2, -2 / 49),
    ],
)
def test_pathwise_gradient_is_unbiased(name, df, estimand, exact_grad):
    # per-draw gradients: one parameter element per draw, so df.grad holds n gradients; their
    # mean must lie within 4 Monte Carlo standard errors of the exact derivative
    n = 100000
    nu = ember.tensor(np.full(n, df), requires_grad=True)
    ember.manual_seed(11)
    estimand(getattr(D, name)(nu).rsample()).sum().backward()
    g = nu.grad.array
    se = g.std() / np.sqrt(n)
    assert abs(g.mean() - exact_grad) < 4 * se


def test_studentt_rsample_grad_in_loc_and_scale():
    loc = ember.tensor([0.3, -1.0], dtype=ember.float64, requires_grad=True)
    scale = ember.tensor([0.5, 2.0], dtype=ember.float64, requires_grad=True)
    df = ember.tensor([2.5, 6.0], dtype=ember.float64)
    assert ember.gradcheck(
        lambda b, c: (ember.manual_seed(3), D.StudentT(df, b, c).rsample((4,)))[1], (loc, scale)
    )


BAD_PARAMS = [
    ("Chi2", dict(df=[-1.0, 2.0])),
    ("StudentT", dict(df=[1.0, -1.0])),
    ("StudentT", dict(df=[1.0, 2.0], scale=[1.0, 0.0])),
    ("Cauchy", dict(loc=[0.0], scale=[-1.0])),
    ("HalfNormal", dict(scale=[-1.0])),
    ("HalfCauchy", dict(scale=[0.0])),
    ("Poisson", dict(rate=[-0.5])),
    ("Geometric", dict(probs=[1.5])),
    ("Geometric", dict(probs=[0.0])),  # torch's extra check: probs must be positive
    ("Binomial", dict(total_count=[2.5], probs=[0.5])),
    ("Binomial", dict(total_count=[3.0], probs=[-0.1])),
]
BAD_VALUES = [
    ("Chi2", dict(df=[2.0]), -1.0),
    ("HalfNormal", dict(scale=[1.0]), -0.5),
    ("HalfCauchy", dict(scale=[1.0]), -0.5),
    ("Poisson", dict(rate=[1.0]), 1.5),
    ("Poisson", dict(rate=[1.0]), -1.0),
    ("Geometric", dict(probs=[0.3]), 0.5),
    ("Binomial", dict(total_count=[5.0], probs=[0.3]), 6.0),
    ("Binomial", dict(total_count=[5.0], probs=[0.3]), -1.0),
]


@pytest.mark.parametrize("name, params", BAD_PARAMS)
def test_bad_parameters_raise(torch, name, params):
    with pytest.raises(ValueError):
        getattr(D, name)(**{k: ember.tensor(v) for k, v in params.items()}, validate_args=True)
    with pytest.raises(ValueError):
        getattr(torch.distributions, name)(
            **{k: torch.tensor(v) for k, v in params.items()}, validate_args=True
        )


@pytest.mark.parametrize("name, params, value", BAD_VALUES)
def test_values_outside_support_raise(torch, name, params, value):
    d = getattr(D, name)(**{k: ember.tensor(v) for k, v in params.items()}, validate_args=True)
    with pytest.raises(ValueError, match="support"):
        d.log_prob(ember.tensor([value]))
    td = getattr(torch.distributions, name)(
        **{k: torch.tensor(v) for k, v in params.items()}, validate_args=True
    )
    with pytest.raises(ValueError):
        td.log_prob(torch.tensor([value]))


KL_CASES = [
    ("Poisson", "Poisson", dict(rate=uniform(0.5, 4, 3, 1)), dict(rate=uniform(0.5, 4, 4, seed=1))),
    (
        "Geometric",
        "Geometric",
        dict(probs=uniform(0.1, 0.9, 3)),
        dict(probs=uniform(0.1, 0.9, 3, seed=2)),
    ),
    ("Geometric", "Geometric", dict(logits=randn(3)), dict(logits=randn(3, seed=3))),
    (
        "Binomial",
        "Binomial",
        dict(total_count=np.array([5, 7, 7]), probs=uniform(0.1, 0.9, 3)),
        dict(total_count=np.array([5, 7, 6]), logits=randn(3, seed=4)),
    ),
    (
        "HalfNormal",
        "HalfNormal",
        dict(scale=uniform(0.5, 2, 3)),
        dict(scale=uniform(0.5, 2, 3, seed=5)),
    ),
    (
        "Cauchy",
        "Cauchy",
        dict(loc=randn(3), scale=uniform(0.5, 2, 3)),
        dict(loc=randn(3, seed=6), scale=uniform(0.5, 2, 3, seed=7)),
    ),
    ("Chi2", "Chi2", dict(df=uniform(0.5, 5, 3)), dict(df=uniform(0.5, 5, 3, seed=8))),
    ("Bernoulli", "Poisson", dict(probs=uniform(0.1, 0.9, 3)), dict(rate=uniform(0.5, 3, 3))),
    ("Poisson", "Bernoulli", dict(rate=uniform(0.5, 3, 3)), dict(probs=uniform(0.1, 0.9, 3))),
    (
        "Poisson",
        "Binomial",
        dict(rate=uniform(0.5, 3, 3)),
        dict(total_count=4, probs=uniform(0.1, 0.9, 3)),
    ),
]


@pytest.mark.parametrize("case", KL_CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_kl_against_torch(torch, case):
    compare_kl(torch, case)


def test_kl_binomial_with_larger_q_count_is_not_implemented():
    p = D.Binomial(3, ember.tensor([0.5]))
    q = D.Binomial(4, ember.tensor([0.5]))
    with pytest.raises(NotImplementedError, match="total_count"):
        kl_divergence(p, q)
