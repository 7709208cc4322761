"""Draws and KL of the distributions in test_distributions_more.py: rsample against torch's
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
F64 = np.finfo(np.float64)


def _torch_gumbel(torch, d, p, shape):
    u = F64.tiny + draw_u(shape) * (1 - F64.eps - F64.tiny)  # Uniform(tiny, 1 − eps).rsample
    return apply_transforms(d.transforms, torch.tensor(u))


def _torch_weibull(torch, d, p, shape):
    return apply_transforms(d.transforms, torch.tensor(-np.log1p(-draw_u(shape))))


def _torch_pareto(torch, d, p, shape):
    return apply_transforms(d.transforms, torch.tensor(-np.log1p(-draw_u(shape))) / p["alpha"])


def _clamp_probs(torch, x):
    return x.clamp(min=F64.eps, max=1 - F64.eps)


def _torch_relaxed_bernoulli(torch, d, p, shape):
    probs = _clamp_probs(torch, d.probs.expand(shape))
    u = _clamp_probs(torch, torch.tensor(draw_u(shape)))
    logit = (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / d.temperature
    return logit.sigmoid().clamp(min=F64.tiny, max=1 - F64.eps)


def _torch_relaxed_onehot(torch, d, p, shape):
    u = _clamp_probs(torch, torch.tensor(draw_u(shape)))
    scores = (d.logits - (-u.log()).log()) / d.temperature
    return (scores - scores.logsumexp(-1, keepdim=True)).exp()


def _torch_lowrank(torch, d, p, shape):
    eps_w = torch.tensor(draw_normal(shape[:-1] + (p["cov_factor"].shape[-1],), np.float64))
    eps_d = torch.tensor(draw_normal(shape, np.float64))
    return (
        d.loc + (p["cov_factor"] @ eps_w.unsqueeze(-1)).squeeze(-1) + p["cov_diag"].sqrt() * eps_d
    )


RSAMPLE_CASES = [
    ("Gumbel", dict(loc=randn(3, seed=1), scale=uniform(0.5, 2, 3, seed=2)), _torch_gumbel),
    (
        "Weibull",
        dict(scale=uniform(0.5, 2, 3, seed=3), concentration=uniform(0.5, 3, 3, seed=4)),
        _torch_weibull,
    ),
    ("Pareto", dict(scale=uniform(0.5, 2, 3, seed=5), alpha=uniform(0.5, 3, 3)), _torch_pareto),
    (
        "RelaxedBernoulli",
        dict(temperature=np.array(0.6), logits=randn(3, seed=6)),
        _torch_relaxed_bernoulli,
    ),
    (
        "RelaxedOneHotCategorical",
        dict(temperature=np.array(0.8), probs=uniform(0.1, 1, 2, 4, seed=7)),
        _torch_relaxed_onehot,
    ),
    (
        "LowRankMultivariateNormal",
        dict(loc=randn(2, 3), cov_factor=randn(2, 3, 2, seed=8), cov_diag=uniform(0.5, 2, 3)),
        _torch_lowrank,
    ),
]


@pytest.mark.parametrize("name, params, torch_rsample", RSAMPLE_CASES, ids=lambda c: str(c)[:24])
def test_rsample_against_torch_formula(torch, name, params, torch_rsample):
    pe, pt = tensors(torch, params)
    d = getattr(D, name)(**pe)
    dt = getattr(torch.distributions, name)(**pt)
    full = SHAPE + d.batch_shape + d.event_shape
    check_rsample(torch, d, pe, pt, SEED, SHAPE, lambda: torch_rsample(torch, dt, pt, full))


def test_sample_moments():
    n = 20000
    t = ember.tensor
    cases = [
        D.Gumbel(t([0.0, 2.0]), t([0.5, 3.0])),
        D.Weibull(t([0.5, 2.0]), t([0.7, 4.0])),
        D.Pareto(t([0.5, 2.0]), t([4.5, 9.0])),  # α > 4: the variance of the variance is finite
        D.NegativeBinomial(t([0.0, 0.7, 12.0]), t([0.3, 0.6, 0.2])),
        D.Multinomial(7, t([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]])),
        D.LowRankMultivariateNormal(t([1.0, -1.0]), t([[1.0], [0.5]]), t([0.3, 0.7])),
        D.MixtureSameFamily(D.Categorical(t([0.3, 0.7])), D.Normal(t([-2.0, 3.0]), t([0.5, 1.0]))),
    ]
    for d in cases:
        x = d.sample((n,)).array
        assert stats_ok(x, d.mean.array, d.variance.array, n), type(d).__name__
    # the circular moments of the von Mises: E[cos(x − μ)] = I₁(κ)/I₀(κ) = 1 − variance
    vm = D.VonMises(t([0.5, -2.0, 3.0]), t([0.05, 1.0, 20.0]))
    x = vm.sample((n,)).array
    assert np.all((x >= -np.pi) & (x < np.pi))
    c = np.cos(x - vm.loc.array)
    assert np.all(np.abs(c.mean(0) - (1 - vm.variance.array)) <= 5 * c.std(0) / np.sqrt(n))
    assert np.all(np.abs(np.sin(x - vm.loc.array).mean(0)) <= 5 / np.sqrt(n))
    # relaxed draws lie in the support and approach the discrete ones as τ → 0
    rb = D.RelaxedBernoulli(t(0.05), t([0.2, 0.8])).sample((n,)).array
    assert np.all((rb > 0) & (rb < 1)) and np.all(np.abs((rb > 0.5).mean(0) - [0.2, 0.8]) < 0.02)
    oh = D.RelaxedOneHotCategorical(t(0.05), t([0.1, 0.3, 0.6])).sample((n,)).array
    freq = (oh.argmax(-1)[:, None] == [0, 1, 2]).mean(0)
    assert np.allclose(oh.sum(-1), 1) and np.all(np.abs(freq - [0.1, 0.3, 0.6]) < 0.02)


def test_multinomial_counts_and_seed():
    d = D.Multinomial(10, ember.tensor([0.2, 0.3, 0.5]))
    ember.manual_seed(4)
    a = d.sample((6,))
    ember.manual_seed(4)
    b = d.sample((6,))
    np.testing.assert_array_equal(a.array, b.array)
    assert np.all(a.array.sum(-1) == 10) and a.dtype == d.probs.dtype


def test_gumbel_rsample_gradcheck():
    loc = ember.tensor([0.3, -1.0], dtype=ember.float64, requires_grad=True)
    scale = ember.tensor([0.5, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.gradcheck(
        lambda a, b: (ember.manual_seed(3), D.Gumbel(a, b).rsample((4,)))[1], (loc, scale)
    )
    assert ember.gradcheck(
        lambda a, b: (ember.manual_seed(3), D.Weibull(a, b).rsample((4,)))[1], (scale, scale)
    )


# p class, q class, p parameters, q parameters
KL_CASES = [
    ("Gumbel", "Gumbel", dict(loc=randn(3), scale=uniform(0.5, 2, 3)),
     dict(loc=randn(3, seed=1), scale=uniform(0.5, 2, 3, seed=2))),
    ("Exponential", "Gumbel", dict(rate=uniform(0.5, 2, 3)),
     dict(loc=randn(3, seed=1), scale=uniform(0.5, 2, 3, seed=2))),
    ("Gamma", "Gumbel", dict(concentration=uniform(0.5, 3, 3), rate=uniform(0.5, 2, 3, seed=3)),
     dict(loc=randn(3, seed=1), scale=uniform(0.5, 2, 3, seed=2))),
    ("Normal", "Gumbel", dict(loc=randn(3), scale=uniform(0.5, 2, 3)),
     dict(loc=randn(3, seed=1), scale=uniform(0.5, 2, 3, seed=2))),
    ("Uniform", "Gumbel", dict(low=-uniform(0.1, 1, 3), high=uniform(0.1, 1, 3, seed=4)),
     dict(loc=randn(3, seed=1), scale=uniform(0.5, 2, 3, seed=2))),
    ("Gumbel", "Normal", dict(loc=randn(3), scale=uniform(0.5, 2, 3)),
     dict(loc=randn(3, seed=1), scale=uniform(0.5, 2, 3, seed=2))),
    ("Gumbel", "Exponential", dict(loc=randn(3), scale=uniform(0.5, 2, 3)),
     dict(rate=uniform(0.5, 2, 3))),
    ("Pareto", "Pareto", dict(scale=np.array([1.0, 2.0, 0.5]), alpha=uniform(0.5, 3, 3)),
     dict(scale=np.array([0.5, 1.0, 1.0]), alpha=uniform(0.5, 3, 3, seed=5))),
    ("Pareto", "Exponential", dict(scale=uniform(0.5, 2, 3), alpha=np.array([0.7, 1.5, 3.0])),
     dict(rate=uniform(0.5, 2, 3))),
    ("Pareto", "Gamma", dict(scale=uniform(0.5, 2, 3), alpha=np.array([0.7, 1.5, 3.0])),
     dict(concentration=uniform(0.5, 3, 3), rate=uniform(0.5, 2, 3, seed=3))),
    ("Pareto", "Normal", dict(scale=uniform(0.5, 2, 3), alpha=np.array([1.5, 2.5, 4.0])),
     dict(loc=randn(3), scale=uniform(0.5, 2, 3))),
    ("Uniform", "Pareto", dict(low=np.array([1.0, 0.2, 2.0]), high=np.array([2.0, 3.0, 2.5])),
     dict(scale=np.array([0.5, 0.5, 1.0]), alpha=uniform(0.5, 3, 3))),
    ("Normal", "Pareto", dict(loc=randn(3), scale=uniform(0.5, 2, 3)),
     dict(scale=uniform(0.5, 2, 3), alpha=uniform(0.5, 3, 3))),
    ("LogNormal", "LogNormal", dict(loc=randn(3), scale=uniform(0.5, 2, 3)),
     dict(loc=randn(3, seed=1), scale=uniform(0.5, 2, 3, seed=2))),
    ("LowRankMultivariateNormal", "LowRankMultivariateNormal",
     dict(loc=randn(2, 3), cov_factor=randn(3, 2, seed=1), cov_diag=uniform(0.5, 2, 3)),
     dict(loc=randn(3, seed=2), cov_factor=randn(2, 3, 1, seed=3), cov_diag=uniform(0.5, 2, 3))),
    ("MultivariateNormal", "LowRankMultivariateNormal",
     dict(loc=randn(2, 3), covariance_matrix=np.eye(3) + 0.3),
     dict(loc=randn(3, seed=2), cov_factor=randn(2, 3, 1, seed=3), cov_diag=uniform(0.5, 2, 3))),
    ("LowRankMultivariateNormal", "MultivariateNormal",
     dict(loc=randn(2, 3), cov_factor=randn(3, 2, seed=1), cov_diag=uniform(0.5, 2, 3)),
     dict(loc=randn(3, seed=2), scale_tril=np.tril(randn(3, 3, seed=4)) * 0.3 + np.eye(3))),
]  # fmt: skip


@pytest.mark.parametrize("case", KL_CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_kl_against_torch(torch, case):
    compare_kl(torch, case)


def test_kl_transformed_needs_the_same_transforms():
    p = D.LogNormal(0.0, 1.0)
    q = D.TransformedDistribution(D.Normal(0.0, 1.0), [D.AffineTransform(0.0, 2.0)])
    with pytest.raises(NotImplementedError):
        kl_divergence(p, q)
    w = D.Weibull(ember.tensor([1.0]), ember.tensor([2.0]))
    assert float(kl_divergence(w, w).array[0]) == 0.0  # the same object's transforms
