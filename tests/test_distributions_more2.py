"""InverseGamma, Kumaraswamy, LogisticNormal, ContinuousBernoulli, FisherSnedecor and
GeneralizedPareto against torch.distributions in float64: log_prob, cdf/icdf, moments and
entropy with their gradients, shapes, sample and expand, validation."""

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

SIMPLEX = np.random.default_rng(3).dirichlet(np.ones(4), size=(3, 2))  # (3, 2, 4)
GP_LOC = randn(4, seed=30)
GP_SCALE = uniform(0.5, 2, 4, seed=31)

# id, class name, parameters, values inside the support, values outside it (or None)
CASES = [
    (
        "InverseGamma",
        "InverseGamma",
        dict(concentration=np.array([0.5, 1.5, 3.0]), rate=uniform(0.5, 2, 3, seed=1)),
        uniform(0.1, 3, 2, 3, seed=2),
        None,
    ),
    (
        "Kumaraswamy",
        "Kumaraswamy",
        dict(concentration1=np.array([0.5, 1.5, 3.0]), concentration0=np.array([2.0, 0.7, 4.0])),
        uniform(0.05, 0.95, 2, 3, seed=3),
        None,
    ),
    (
        "LogisticNormal",
        "LogisticNormal",
        dict(loc=randn(2, 3, seed=4), scale=uniform(0.5, 2, 3, seed=5)),
        SIMPLEX,
        None,
    ),
    (
        "ContinuousBernoulli-probs",
        "ContinuousBernoulli",
        dict(probs=np.array([0.1, 0.4995, 0.5, 0.5008, 0.7, 0.95])),
        uniform(0.0, 1.0, 2, 6, seed=6),
        None,
    ),
    (
        "ContinuousBernoulli-logits",
        "ContinuousBernoulli",
        dict(logits=np.array([-3.0, -0.5, 0.001, 0.0, 1.2, 4.0])),
        uniform(0.0, 1.0, 2, 6, seed=7),
        None,
    ),
    (
        "FisherSnedecor",
        "FisherSnedecor",
        dict(df1=np.array([1.0, 3.0, 7.5]), df2=np.array([1.5, 4.5, 9.0])),
        uniform(0.1, 4, 2, 3, seed=8),
        None,
    ),
    (
        "GeneralizedPareto",
        "GeneralizedPareto",
        dict(loc=GP_LOC, scale=GP_SCALE, concentration=np.array([-0.3, 0.0, 0.4, 1.2])),
        GP_LOC + uniform(0.05, 1.5, 2, 4, seed=9),
        GP_LOC - uniform(0.05, 0.3, 2, 4, seed=10),
    ),
]
IDS = [c[0] for c in CASES]


@pytest.fixture(autouse=True)
def _torch_float64(torch):
    """torch's GeneralizedPareto compares ξ with torch.tensor(0.0), which fails for float64 ξ
    unless float64 is torch's default dtype (numbers become float64 then too, as ember's)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob(torch, case):
    _, name, params, inside, outside = case
    compare(torch, *makers(torch, name), params, lambda d, v: d.log_prob(v), value=inside)
    if outside is not None:
        make_e, make_t = makers(torch, name, validate=False)
        compare(torch, make_e, make_t, params, lambda d, v: d.log_prob(v), value=outside)


@pytest.mark.parametrize("what", ["mean", "mode", "variance", "stddev", "entropy"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_moments_and_entropy(torch, case, what):
    _, name, params, _, _ = case
    make_e, make_t = makers(torch, name)
    if not torch_has(torch, make_t, params, what):
        d = make_e(**{k: as_ember(v) for k, v in params.items()})
        with pytest.raises(NotImplementedError):
            d.entropy() if what == "entropy" else getattr(d, what)
        return
    fn = (lambda d, v: d.entropy()) if what == "entropy" else (lambda d, v: getattr(d, what))
    if name == "FisherSnedecor" and what in ("variance", "stddev"):
        # where d₂ ≤ 4 torch's gradient in d₁ is nan (0·nan), ember's 0: values there, and
        # gradients where the variance is finite
        compare(torch, make_e, make_t, params, fn, grad=False)
        params = dict(params, df2=params["df2"] + 4)
    compare(torch, make_e, make_t, params, fn)


CDF_CASES = [c for c in CASES if c[1] in {"Kumaraswamy", "ContinuousBernoulli"}]
CDF_CASES.append(CASES[IDS.index("GeneralizedPareto")])


@pytest.mark.parametrize("case", CDF_CASES, ids=lambda c: c[0])
def test_cdf_and_icdf(torch, case):
    _, name, params, inside, _ = case
    compare(torch, *makers(torch, name), params, lambda d, v: d.cdf(v), value=inside)
    probs = uniform(0.02, 0.98, *inside.shape, seed=20)
    compare(torch, *makers(torch, name), params, lambda d, v: d.icdf(v), value=probs)


def test_continuous_bernoulli_cdf_at_the_ends(torch):
    p = np.array([0.2, 0.5, 0.9])
    v = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    e = D.ContinuousBernoulli(ember.tensor(p)).cdf(ember.tensor(v))
    t = torch.distributions.ContinuousBernoulli(torch.tensor(p)).cdf(torch.tensor(v))
    assert_close(e, t, "cdf at 0 and 1")


def test_generalized_pareto_log_cdf_and_survival(torch):
    _, name, params, inside, _ = CASES[IDS.index("GeneralizedPareto")]
    for what in ("log_cdf", "log_survival_function"):
        fn = lambda d, v, w=what: getattr(d, w)(v)  # noqa: E731
        compare(torch, *makers(torch, name), params, fn, value=inside)


def test_inverse_gamma_cdf_and_icdf(torch):
    # torch's igamma has no gradient in the concentration: compare the others' gradients
    conc, rate = np.array([0.5, 1.5, 3.0]), np.array([0.7, 1.0, 2.0])
    x = uniform(0.1, 3, 2, 3, seed=2)
    re_, xe = ember.tensor(rate, requires_grad=True), ember.tensor(x, requires_grad=True)
    rt, xt = torch.tensor(rate, requires_grad=True), torch.tensor(x, requires_grad=True)
    e = D.InverseGamma(ember.tensor(conc), re_).cdf(xe)
    t = torch.distributions.InverseGamma(torch.tensor(conc), rt).cdf(xt)
    assert_close(e, t, "cdf")
    w = randn(2, 3, seed=5)
    (e * ember.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(re_.grad.array, rt.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), rtol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shapes_sample_and_expand(torch, case):
    _, name, params, inside, _ = case
    make_e, make_t = makers(torch, name)
    d = make_e(**{k: as_ember(v) for k, v in params.items()})
    td = make_t(**{k: as_torch(torch, v) for k, v in params.items()})
    assert d.batch_shape == tuple(td.batch_shape)
    assert d.event_shape == tuple(td.event_shape)
    assert d.has_rsample == td.has_rsample
    assert repr(d.support).split("(")[0] == repr(td.support).split("(")[0].lstrip("_")
    full = d.batch_shape + d.event_shape
    for sample_shape in [(), (5,), (2, 3)]:
        x = d.sample(sample_shape)
        assert x.shape == sample_shape + full and not x.requires_grad
        assert np.all(np.asarray(td.support.check(torch.tensor(x.array))))
        assert d.rsample(sample_shape).shape == sample_shape + full
    new = (2,) + d.batch_shape
    de, dt = d.expand(new), td.expand(new)
    assert de.batch_shape == tuple(dt.batch_shape) == new
    assert de.event_shape == d.event_shape
    v = td.sample().numpy()
    assert_close(de.log_prob(ember.tensor(v)), dt.log_prob(torch.tensor(v)), "expanded log_prob")
    assert de.sample().shape == new + d.event_shape
    if torch_has(torch, make_t, params, "variance"):
        assert_close(de.variance, dt.variance, "expanded variance")


def test_scalar_parameters(torch):
    torch.manual_seed(0)
    pairs = [
        (D.InverseGamma(2.0, 3.0), torch.distributions.InverseGamma(2.0, 3.0)),
        (D.Kumaraswamy(2.0, 3.0), torch.distributions.Kumaraswamy(2.0, 3.0)),
        (D.LogisticNormal(0.3, 1.2), torch.distributions.LogisticNormal(0.3, 1.2)),
        (D.ContinuousBernoulli(0.3), torch.distributions.ContinuousBernoulli(0.3)),
        (D.FisherSnedecor(3.0, 5.0), torch.distributions.FisherSnedecor(3.0, 5.0)),
        (D.GeneralizedPareto(0.0, 1.0, 0.2), torch.distributions.GeneralizedPareto(0.0, 1.0, 0.2)),
    ]
    for e, t in pairs:
        assert e.batch_shape == tuple(t.batch_shape), type(e).__name__
        assert e.event_shape == tuple(t.event_shape), type(e).__name__
        v = t.sample((3,))  # ember's parameters are float32 (its default float), torch's float64
        got = e.log_prob(ember.tensor(v.numpy())).array
        want = t.log_prob(v).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=repr(e))


def test_gradcheck():
    t = lambda a: ember.tensor(np.asarray(a, float), requires_grad=True)  # noqa: E731
    a, b, x = t([0.7, 1.3, 2.0]), t([1.5, 0.6, 3.0]), t([0.2, 0.5, 0.9])
    p = t([0.2, 0.4, 0.8])
    checks = [
        (lambda a, b, v: D.InverseGamma(a, b).log_prob(v), (a, b, x)),
        (lambda a, b, v: D.Kumaraswamy(a, b).log_prob(v) + D.Kumaraswamy(a, b).cdf(v), (a, b, x)),
        (lambda a, b: D.Kumaraswamy(a, b).entropy() + D.Kumaraswamy(a, b).variance, (a, b)),
        (lambda p, v: D.ContinuousBernoulli(p).log_prob(v) + D.ContinuousBernoulli(p).cdf(v),
         (p, x)),
        (lambda p: D.ContinuousBernoulli(p).entropy() + D.ContinuousBernoulli(p).variance, (p,)),
        (lambda a, b, v: D.FisherSnedecor(a, b).log_prob(v), (a, b, x)),
        (lambda s, c, v: D.GeneralizedPareto(0.1, s, c).log_prob(v + 0.1), (b, p, x)),
        (lambda s, c, u: D.GeneralizedPareto(0.1, s, c).icdf(u), (b, p, x)),
    ]  # fmt: skip
    for fn, args in checks:
        assert ember.gradcheck(fn, args)


BAD_PARAMS = [
    ("InverseGamma", dict(concentration=[-1.0], rate=[1.0])),
    ("Kumaraswamy", dict(concentration1=[1.0], concentration0=[0.0])),
    ("LogisticNormal", dict(loc=[0.0, 1.0], scale=[1.0, -1.0])),
    ("ContinuousBernoulli", dict(probs=[1.5])),
    ("FisherSnedecor", dict(df1=[1.0], df2=[-2.0])),
    ("GeneralizedPareto", dict(loc=[0.0], scale=[0.0], concentration=[0.5])),
]


@pytest.mark.parametrize("name, params", BAD_PARAMS, ids=lambda p: str(p)[:30])
def test_bad_parameters_raise(torch, name, params):
    with pytest.raises(ValueError):
        getattr(D, name)(**{k: ember.tensor(v) for k, v in params.items()}, validate_args=True)
    with pytest.raises(ValueError):
        getattr(torch.distributions, name)(
            **{k: torch.tensor(v) for k, v in params.items()}, validate_args=True
        )


def test_continuous_bernoulli_checks_raw_probs_only_when_asked(torch):
    # torch clamps probs into [eps, 1 − eps] before the default check: 1.5 passes unless
    # validate_args is given
    e = D.ContinuousBernoulli(ember.tensor(np.array([1.5])))
    t = torch.distributions.ContinuousBernoulli(torch.tensor([1.5]))
    assert_close(e.probs, t.probs, "clamped probs")


BAD_VALUES = [
    ("InverseGamma", dict(concentration=[2.0], rate=[1.0]), [-0.5]),
    ("Kumaraswamy", dict(concentration1=[2.0], concentration0=[1.0]), [1.5]),
    ("LogisticNormal", dict(loc=[0.0, 1.0], scale=[1.0, 1.0]), [0.7, 0.7, 0.1]),
    ("ContinuousBernoulli", dict(probs=[0.3]), [1.2]),
    ("FisherSnedecor", dict(df1=[1.0], df2=[2.0]), [-1.0]),
    ("GeneralizedPareto", dict(loc=[0.0], scale=[1.0], concentration=[-0.5]), [2.5]),
    ("GeneralizedPareto", dict(loc=[1.0], scale=[1.0], concentration=[0.5]), [0.5]),
]


@pytest.mark.parametrize("name, params, value", BAD_VALUES, ids=lambda p: str(p)[:30])
def test_values_outside_support_raise(torch, name, params, value):
    d = getattr(D, name)(**{k: ember.tensor(v) for k, v in params.items()}, validate_args=True)
    with pytest.raises(ValueError, match="support"):
        d.log_prob(ember.tensor(value))
    td = getattr(torch.distributions, name)(
        **{k: torch.tensor(v) for k, v in params.items()}, validate_args=True
    )
    with pytest.raises(ValueError):
        td.log_prob(torch.tensor(value))
