"""Distributions where ember used to differ from torch 2.13 (found by fuzzing both side by
side): the KL divergences torch registers between different families (Normal, Laplace,
Uniform, Exponential, Gamma, Beta; HalfCauchy pairs; +∞ for a Chi2 against a bounded q),
the logit of 0 in SigmoidTransform's inverse (a RelaxedBernoulli density at 0), the error
class of parameters that do not broadcast, a Pareto's nan moments, Transform.sign where torch
has none, constraints.dependent's unknown attributes and positive_definite on non-square
matrices."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from tests.distributions.dist_reference import assert_close, compare

# (p, q): each a (class name, parameters) in float64; p's or q's support may leave the other's
_N = ("Normal", {"loc": np.array([0.3, -1.2]), "scale": np.array([0.7, 1.9])})
_L = ("Laplace", {"loc": np.array([-0.4, 0.8]), "scale": np.array([1.3, 0.6])})
_U = ("Uniform", {"low": np.array([0.2, -0.5]), "high": np.array([0.7, 0.9])})
_E = ("Exponential", {"rate": np.array([0.8, 2.5])})
_G = ("Gamma", {"concentration": np.array([1.7, 0.6]), "rate": np.array([0.9, 2.2])})
_B = ("Beta", {"concentration1": np.array([1.5, 0.7]), "concentration0": np.array([2.2, 3.1])})
_U01 = ("Uniform", {"low": np.array([0.1, 0.3]), "high": np.array([0.6, 0.95])})
_HC1 = ("HalfCauchy", {"scale": np.array([0.5, 2.0])})
_HC2 = ("HalfCauchy", {"scale": np.array([1.5, 0.4])})
_CHI2 = ("Chi2", {"df": np.array([3.0, 4.5])})
_PARETO = ("Pareto", {"scale": np.array([1.0, 2.0]), "alpha": np.array([1.5, 3.0])})
_CB = ("ContinuousBernoulli", {"probs": np.array([0.2, 0.7])})
_UWIDE = ("Uniform", {"low": np.array([-0.1, 0.0]), "high": np.array([1.5, 1.0])})
CROSS_PAIRS = [
    (_B, _E), (_B, _G), (_B, _N), (_B, _UWIDE),
    (_E, _G), (_E, _N), (_G, _E), (_G, _N),
    (_L, _N), (_N, _L),
    (_U01, _B), (_U, _B), (_U01, _E), (_U, _E), (_U01, _G), (_U, _G), (_U, _N),
    (_E, _B), (_E, _U), (_G, _B), (_G, _U),
    (_L, _B), (_L, _E), (_L, _G), (_L, _U),
    (_N, _B), (_N, _E), (_N, _G), (_N, _U),
    (_HC1, _HC2), (_CHI2, _U), (_CHI2, _B), (_CHI2, _PARETO), (_CHI2, _CB), (_CHI2, _N),
]  # fmt: skip


@pytest.mark.parametrize(
    "p, q", CROSS_PAIRS, ids=[f"{p[0]}-{q[0]}-{i}" for i, (p, q) in enumerate(CROSS_PAIRS)]
)
def test_kl_between_families_as_torch(torch, p, q):
    """torch registers these pairs; ember raised NotImplementedError for them. Values and the
    gradients with respect to both distributions' parameters agree."""
    (pname, pparams), (qname, qparams) = p, q
    params = {f"p_{k}": v for k, v in pparams.items()} | {f"q_{k}": v for k, v in qparams.items()}

    def make(lib):
        def build(**kw):
            pk = {k[2:]: v for k, v in kw.items() if k.startswith("p_")}
            qk = {k[2:]: v for k, v in kw.items() if k.startswith("q_")}
            return getattr(lib, pname)(**pk), getattr(lib, qname)(**qk)

        return build

    compare(
        torch,
        make(D),
        make(torch.distributions),
        params,
        lambda pq, _: (
            D if isinstance(pq[0], D.Distribution) else torch.distributions
        ).kl_divergence(*pq),
    )


def test_pairs_torch_does_not_register_still_raise(torch):
    for lib, x in ((D, ember.tensor(np.ones(2))), (torch.distributions, torch.ones(2))):
        with pytest.raises(NotImplementedError, match="No KL"):
            lib.kl_divergence(lib.Exponential(x), lib.Laplace(x, x))
        with pytest.raises(NotImplementedError):
            lib.kl_divergence(lib.HalfCauchy(x), lib.HalfNormal(x))


@pytest.mark.parametrize("logits", [np.array([0.3, -1.5]), np.array([2.0, 0.0])])
@pytest.mark.parametrize("temperature", [0.4, 0.8])
def test_relaxed_bernoulli_density_at_zero_as_torch(torch, logits, temperature):
    """SigmoidTransform's inverse clamps y into [tiny, 1 − eps] as torch's (ember clamped
    from eps: logit 0 was −36 instead of −708, and the density at 0 was far off)."""
    value = np.array([0.0, 0.0])
    for va in (None, False):
        compare(
            torch,
            lambda va=va, **k: D.RelaxedBernoulli(k["t"], logits=k["logits"], validate_args=va),
            lambda va=va, **k: torch.distributions.RelaxedBernoulli(
                k["t"], logits=k["logits"], validate_args=va
            ),
            {"t": np.array(temperature), "logits": logits},
            lambda d, v: d.log_prob(v),
            value=value,
        )
    x = np.array([0.0, 1e-310, 0.5, 1.0])
    assert_close(
        D.SigmoidTransform().inv(ember.tensor(x)),
        torch.distributions.SigmoidTransform().inv(torch.tensor(x)),
    )


def test_parameters_that_do_not_broadcast_raise_runtime_error_as_torch(torch):
    """torch's broadcast_all raises RuntimeError; ember's ValueError is now both."""
    for lib, t in ((D, ember.tensor), (torch.distributions, torch.tensor)):
        three, two = t(np.ones(3)), t(np.ones(2))
        with pytest.raises(RuntimeError):
            lib.Normal(three, two)
        with pytest.raises(RuntimeError):
            lib.Gamma(two, three, validate_args=False)
        with pytest.raises(RuntimeError):
            lib.Uniform(three - 1, two)
    with pytest.raises(ValueError, match=r"\(3,\), \(2,\) do not broadcast"):
        D.Normal(ember.tensor(np.zeros(3)), ember.tensor(np.ones(2)))


def test_pareto_moments_keep_nan_as_torch(torch):
    """torch's clamp keeps a nan α (validation off) nan; ember's made its mean ∞."""
    alpha = np.array([np.nan, 0.5, 1.5, 2.5])
    e = D.Pareto(ember.tensor(np.ones(4)), ember.tensor(alpha), validate_args=False)
    t = torch.distributions.Pareto(torch.ones(4, dtype=torch.float64), torch.tensor(alpha),
                                   validate_args=False)  # fmt: skip
    assert_close(e.mean, t.mean, "mean")
    assert_close(e.variance, t.variance, "variance")


_NO_SIGN = ["AbsTransform", "SoftmaxTransform", "StickBreakingTransform",
            "CorrCholeskyTransform", "LowerCholeskyTransform"]  # fmt: skip
_SIGN_ONE = ["ExpTransform", "SigmoidTransform", "TanhTransform", "SoftplusTransform"]


@pytest.mark.parametrize("name", _NO_SIGN + _SIGN_ONE)
def test_transform_sign_as_torch(torch, name):
    """Only the elementwise bijections have a sign; torch raises NotImplementedError for the
    others, where ember answered +1."""
    e, t = getattr(D, name)(), getattr(torch.distributions, name)()
    if name in _NO_SIGN:
        with pytest.raises(NotImplementedError):
            _ = t.sign
        with pytest.raises(NotImplementedError):
            _ = e.sign
        return
    assert e.sign == t.sign == 1 and e.inv.sign == t.inv.sign == 1


def test_transform_sign_of_compositions_as_torch(torch):
    for lib in (D, torch.distributions):
        assert lib.ComposeTransform([]).sign == 1
        assert lib.ComposeTransform([lib.ExpTransform(), lib.AffineTransform(0.0, -2.0)]).sign == -1
        with pytest.raises(NotImplementedError):
            _ = lib.ComposeTransform([lib.ExpTransform(), lib.AbsTransform()]).sign


def test_dependent_constraint_attributes_as_torch(torch):
    """constraints.dependent knows neither is_discrete nor event_dim unless told: torch
    raises NotImplementedError, ember answered False and 0."""
    for C in (D.constraints, torch.distributions.constraints):
        for attr in ("is_discrete", "event_dim"):
            with pytest.raises(NotImplementedError, match="cannot be determined statically"):
                getattr(C.dependent, attr)
        told = C.dependent(is_discrete=True, event_dim=1)
        assert told.is_discrete is True and told.event_dim == 1
        assert told(event_dim=2).is_discrete is True and told(event_dim=2).event_dim == 2
        with pytest.raises(NotImplementedError):
            _ = C.dependent(is_discrete=False).event_dim


def test_positive_definite_check_of_a_non_square_matrix_as_torch(torch):
    """False for each non-square matrix, as torch's; ember raised from NumPy."""
    m = np.ones((2, 2, 3))
    e = D.constraints.positive_definite.check(ember.tensor(m))
    t = torch.distributions.constraints.positive_definite.check(torch.tensor(m))
    np.testing.assert_array_equal(np.asarray(e), t.numpy())
    assert np.asarray(e).shape == (2,)


@pytest.mark.parametrize("sample_shape", [(2.0,), (2, 1.5)])
@pytest.mark.parametrize("name", ["Normal", "Gamma", "Dirichlet"])
def test_a_float_in_sample_shape_is_refused_as_torch(torch, name, sample_shape):
    """torch.Size refuses a float (TypeError); ember truncated it with int()."""
    for lib, t in ((D, ember.tensor), (torch.distributions, torch.tensor)):
        d = (
            getattr(lib, name)(t(np.ones(3)), t(np.ones(3)))
            if name != "Dirichlet"
            else lib.Dirichlet(t(np.ones(3)))
        )
        with pytest.raises(TypeError):
            d.sample(sample_shape)
        assert tuple(d.sample((np.int64(2),)).shape)[0] == 2  # an integer of any kind is one


def test_categorical_value_that_does_not_broadcast_raises_runtime_error_as_torch(torch):
    """Without validation torch's broadcast raises RuntimeError; ember's ValueError is both."""
    logits = np.zeros((2, 3))
    for lib, t in ((D, ember.tensor), (torch.distributions, torch.tensor)):
        d = lib.Categorical(logits=t(logits), validate_args=False)
        with pytest.raises(RuntimeError):
            d.log_prob(t(np.zeros(3)))


def test_bernoulli_log_prob_at_infinite_logits_as_torch(torch):
    """torch's −BCE-with-logits: an infinite logit gives −∞ where the value is the
    impossible outcome and nan at 0·∞; ember's x·ℓ − softplus(ℓ) had them the other way."""
    logits = np.array([-np.inf, np.inf, 0.0, -800.0, 800.0, 3.0])
    for value in (np.zeros(6), np.ones(6)):
        compare(
            torch,
            lambda **k: D.Bernoulli(logits=k["logits"]),
            lambda **k: torch.distributions.Bernoulli(logits=k["logits"]),
            {"logits": logits},
            lambda d, v: d.log_prob(v),
            value=value,
        )


@pytest.mark.parametrize(
    "name, params, value",
    [
        ("Gamma", ([1.5, 2.5], [0.7, 1.2]), [0.4, 2.0]),
        ("Chi2", ([2.5, 4.0],), [0.4, 2.0]),
        ("HalfCauchy", ([0.5, 2.0],), [0.4, 2.0]),
        ("MultivariateNormal", ([0.3, -0.2], [[1.0, 0.3], [0.3, 2.0]]), [[0.4, 2.0], [1.0, -1.0]]),
    ],
)
def test_a_float64_value_of_a_float32_distribution_as_torch(torch, name, params, value):
    """torch casts the value to the parameters' dtype here (Gamma and HalfCauchy say so;
    MultivariateNormal through solve_triangular): float32 out; ember gave float64 (and its
    MultivariateNormal refused the mixed dtypes)."""
    e = getattr(D, name)(*(ember.tensor(np.array(p, dtype=np.float32)) for p in params))
    t = getattr(torch.distributions, name)(*(torch.tensor(p, dtype=torch.float32) for p in params))
    got = e.log_prob(ember.tensor(np.array(value)))
    want = t.log_prob(torch.tensor(value, dtype=torch.float64))
    assert got.dtype == ember.float32 and want.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)


def _transform_pairs(lib, t):
    """(a, b, torch's a == b) for transforms made alike in ember and torch."""
    m = lib
    return [
        (m.ExpTransform(), m.ExpTransform(cache_size=1), True),
        (m.SigmoidTransform(), m.TanhTransform(), False),
        (m.ExpTransform().inv, m.ExpTransform().inv, True),
        (m.ExpTransform().inv, m.ExpTransform(), False),
        (m.AffineTransform(1.0, 2.0), m.AffineTransform(1.0, 2.0, event_dim=1), True),
        (m.AffineTransform(t([1.0, 2.0]), 2.0), m.AffineTransform(t([1.0, 2.0]), 2.0), True),
        (m.AffineTransform(t([1.0, 2.0]), 2.0), m.AffineTransform(t([1.0, 3.0]), 2.0), False),
        (m.PowerTransform(t(2.0)), m.PowerTransform(t(2.0)), True),
        (m.PowerTransform(t(2.0)), m.PowerTransform(t(3.0)), False),
        (m.ComposeTransform([m.ExpTransform()]), m.ComposeTransform([m.ExpTransform()]), True),
        (m.ComposeTransform([m.ExpTransform()]), m.ComposeTransform([m.AbsTransform()]), False),
        (m.StickBreakingTransform(), m.StickBreakingTransform(), True),
        (m.SoftmaxTransform(), m.SoftplusTransform(), False),
        (m.CorrCholeskyTransform(), m.CorrCholeskyTransform(), False),  # only to itself
    ]


def test_transform_equality_as_torch(torch):
    """torch's transforms compare equal when they are the same map (ember's only to
    themselves), and are unhashable."""
    e = _transform_pairs(D, lambda v: ember.tensor(np.asarray(v)))
    t = _transform_pairs(torch.distributions, lambda v: torch.tensor(np.asarray(v)))
    for (ea, eb, want), (ta, tb, _) in zip(e, t):
        assert (ta == tb) is want and (ta != tb) is not want, (ta, tb)
        assert (ea == eb) is want and (ea != eb) is not want, (ea, eb)
    for lib in (D, torch.distributions):
        with pytest.raises(TypeError):
            hash(lib.ExpTransform())
