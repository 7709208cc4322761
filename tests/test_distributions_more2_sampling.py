"""Draws and KL of the distributions in test_distributions_more2.py: rsample against torch's
formula fed the same noise (drawn again from ember's generator after reseeding) with the
gradients of Σ w·x w.r.t. the parameters, sample moments within a few standard errors, and
kl_divergence against torch's."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from ember.distributions import kl_divergence
from ember.distributions.distribution import draw_normal
from ember.distributions.gamma_beta import standard_gamma
from tests.distributions.dist_reference import (
    apply_transforms,
    check_rsample,
    compare_kl,
    draw_u,
    randn,
    stats_ok,
    tensors,
    uniform,
)

SEED = 321
SHAPE = (5,)


def _torch_gamma(torch, alpha):
    """Gamma(α, 1) draws made by ember's sampler (the generator's next ones) as a torch
    function of α whose gradient is torch's own dz/dα (``_standard_gamma_grad``)."""
    z = torch.tensor(standard_gamma(alpha.detach().numpy(), np.float64))

    class Draw(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return z.clone()

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * torch._standard_gamma_grad(a, z)

    return Draw.apply(alpha)


def _torch_inverse_gamma(torch, d, p, shape):
    x = _torch_gamma(torch, d.concentration.expand(shape)) / d.rate.expand(shape)
    return x.clamp(min=np.finfo(np.float64).tiny).reciprocal()


def _torch_fisher(torch, d, p, shape):
    tiny = np.finfo(np.float64).tiny
    x1 = (_torch_gamma(torch, (0.5 * d.df1).expand(shape)) / d.df1).clamp(min=tiny)
    x2 = (_torch_gamma(torch, (0.5 * d.df2).expand(shape)) / d.df2).clamp(min=tiny)
    return (x1 / x2).clamp(min=tiny)


def _torch_kumaraswamy(torch, d, p, shape):
    return apply_transforms(d.transforms, torch.tensor(draw_u(shape)))


def _torch_logistic_normal(torch, d, p, shape):
    base = shape[:-1] + (shape[-1] - 1,)
    return apply_transforms(
        d.transforms, d.loc + torch.tensor(draw_normal(base, np.float64)) * d.scale
    )


def _torch_icdf(torch, d, p, shape):
    return d.icdf(torch.tensor(draw_u(shape)))


RSAMPLE_CASES = [
    (
        "Kumaraswamy",
        dict(concentration1=uniform(0.5, 3, 3, seed=1), concentration0=uniform(0.5, 3, 3)),
        _torch_kumaraswamy,
        1e-9,
    ),
    (
        "LogisticNormal",
        dict(loc=randn(2, 3, seed=2), scale=uniform(0.5, 2, 3, seed=3)),
        _torch_logistic_normal,
        1e-9,
    ),
    (
        "ContinuousBernoulli",
        dict(probs=np.array([0.1, 0.4995, 0.5, 0.7, 0.95])),
        _torch_icdf,
        1e-9,
    ),
    ("ContinuousBernoulli", dict(logits=randn(4, seed=4) * 2), _torch_icdf, 1e-9),
    (
        "GeneralizedPareto",
        dict(loc=randn(4), scale=uniform(0.5, 2, 4), concentration=np.array([-0.3, 0, 0.4, 1.2])),
        _torch_icdf,
        1e-9,
    ),
    # torch's dz/dα of a gamma draw is a closed-form approximation (~1e-4 relative)
    (
        "InverseGamma",
        dict(concentration=uniform(0.5, 4, 3, seed=5), rate=uniform(0.5, 2, 3, seed=6)),
        _torch_inverse_gamma,
        2e-3,
    ),
    (
        "FisherSnedecor",
        dict(df1=uniform(1, 8, 3, seed=7), df2=uniform(1, 8, 3, seed=8)),
        _torch_fisher,
        2e-3,
    ),
]


@pytest.mark.parametrize(
    "name, params, torch_rsample, grad_rtol", RSAMPLE_CASES, ids=lambda c: str(c)[:24]
)
def test_rsample_against_torch_formula(torch, name, params, torch_rsample, grad_rtol):
    pe, pt = tensors(torch, params)
    d = getattr(D, name)(**pe)
    dt = getattr(torch.distributions, name)(**pt)
    full = SHAPE + d.batch_shape + d.event_shape
    draw = lambda: torch_rsample(torch, dt, pt, full)  # noqa: E731
    x = check_rsample(torch, d, pe, pt, SEED, SHAPE, draw, grad_rtol)
    ember.manual_seed(SEED)
    np.testing.assert_array_equal(d.sample(SHAPE).array, x.detach().array)


def test_sample_moments():
    n = 20000
    t = ember.tensor
    ember.manual_seed(11)
    cases = [
        D.InverseGamma(t([5.0, 9.0]), t([0.5, 3.0])),  # α > 4: a finite fourth moment
        D.Kumaraswamy(t([0.5, 2.0, 5.0]), t([0.7, 3.0, 1.5])),
        D.ContinuousBernoulli(t([0.05, 0.3, 0.5, 0.9])),
        D.ContinuousBernoulli(logits=t([-4.0, 0.0005, 2.0])),
        D.FisherSnedecor(t([3.0, 10.0]), t([12.0, 20.0])),
        D.GeneralizedPareto(t([0.0, 1.0, -1.0]), t([1.0, 0.5, 2.0]), t([-0.5, 0.0, 0.2])),
    ]
    for d in cases:
        x = d.sample((n,)).array
        assert stats_ok(x, d.mean.array, d.variance.array, n), type(d).__name__
    # the logistic normal: its log-ratios log(y_i/y_{K+1}) − log(K + 1 − i)… are the normal
    ln = D.LogisticNormal(t([0.5, -1.0, 2.0]), t([1.0, 0.3, 0.7]))
    y = ln.sample((n,))
    assert np.allclose(y.array.sum(-1), 1) and np.all(y.array > 0)
    x = D.StickBreakingTransform().inv(y).array
    assert stats_ok(x, ln.loc.array, ln.scale.array**2, n)


# p class, q class, p parameters, q parameters
CB = dict(probs=np.array([0.1, 0.4995, 0.7]))
CB_Q = dict(logits=np.array([0.3, -2.0, 0.0002]))
KL_CASES = [
    ("ContinuousBernoulli", "ContinuousBernoulli", CB, CB_Q),
    ("Beta", "ContinuousBernoulli", dict(concentration1=uniform(0.5, 3, 3),
     concentration0=uniform(0.5, 3, 3, seed=1)), CB_Q),
    ("Uniform", "ContinuousBernoulli", dict(low=np.array([0.1, 0.0, 0.3]),
     high=np.array([0.6, 0.5, 1.0])), CB),
    ("ContinuousBernoulli", "Exponential", CB, dict(rate=uniform(0.5, 2, 3))),
    ("ContinuousBernoulli", "Normal", CB, dict(loc=randn(3), scale=uniform(0.5, 2, 3))),
    ("ContinuousBernoulli", "Uniform", CB_Q, dict(low=np.array([-0.5, 0.0, -1.0]),
     high=np.array([1.5, 2.0, 1.0]))),
    ("ContinuousBernoulli", "Pareto", CB, dict(scale=uniform(0.5, 2, 3), alpha=uniform(1, 2, 3))),
    ("Exponential", "ContinuousBernoulli", dict(rate=uniform(0.5, 2, 3)), CB),
    ("Gamma", "ContinuousBernoulli", dict(concentration=uniform(0.5, 2, 3),
     rate=uniform(0.5, 2, 3)), CB),
    ("Gumbel", "ContinuousBernoulli", dict(loc=randn(3), scale=uniform(0.5, 2, 3)), CB),
    ("Laplace", "ContinuousBernoulli", dict(loc=randn(3), scale=uniform(0.5, 2, 3)), CB),
    ("Normal", "ContinuousBernoulli", dict(loc=randn(3), scale=uniform(0.5, 2, 3)), CB),
    ("Pareto", "ContinuousBernoulli", dict(scale=uniform(0.5, 2, 3), alpha=uniform(1, 2, 3)), CB),
    ("InverseGamma", "InverseGamma", dict(concentration=uniform(0.5, 3, 3),
     rate=uniform(0.5, 2, 3)), dict(concentration=uniform(0.5, 3, 3, seed=1),
     rate=uniform(0.5, 2, 3, seed=2))),
    ("LogisticNormal", "LogisticNormal", dict(loc=randn(2, 3), scale=uniform(0.5, 2, 3)),
     dict(loc=randn(3, seed=1), scale=uniform(0.5, 2, 3, seed=2))),
]  # fmt: skip


@pytest.mark.parametrize("case", KL_CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_kl_against_torch(torch, case):
    compare_kl(torch, case)


def test_kl_kumaraswamy_needs_the_same_transforms(torch):
    a, b = ember.tensor([1.5, 2.0]), ember.tensor([0.5, 3.0])
    assert np.all(kl_divergence(D.Kumaraswamy(a, b), D.Kumaraswamy(a, b)).array == 0)
    with pytest.raises(NotImplementedError):
        kl_divergence(D.Kumaraswamy(a, b), D.Kumaraswamy(b, a))
    with pytest.raises(NotImplementedError):
        ta, tb = torch.tensor([1.5, 2.0]), torch.tensor([0.5, 3.0])
        torch.distributions.kl_divergence(
            torch.distributions.Kumaraswamy(ta, tb), torch.distributions.Kumaraswamy(tb, ta)
        )
