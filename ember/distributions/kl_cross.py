"""The KL divergences torch registers between two different families among Normal, Laplace,
Uniform, Exponential, Gamma and Beta, with its formulas: closed forms where q's log density is
a polynomial in x (or in log x) whose expectation under p is known, and +∞ where p puts mass
outside q's support (a Normal against a Gamma). Composed from Tensor ops, so gradients reach
both distributions' parameters; Chi2 (a Gamma) dispatches to the Gamma pairs, as in torch.

Also HalfCauchy against HalfCauchy: torch's is a TransformedDistribution of a Cauchy, whose
KL is that of the two Cauchy bases (ember's HalfCauchy folds its base itself).
"""

from __future__ import annotations

import math

from ..backend import xp
from ..tensor import Tensor
from ._special import xlogy
from .continuous import Exponential, Laplace, Normal, Uniform
from .continuous_more import HalfCauchy
from .extreme import EULER_GAMMA
from .gamma_beta import Beta, Gamma
from .kl import _inf_where, _kl_cauchy_cauchy, register_kl
from .kl_more import kl_infinity

__all__: list[str] = []


def _x_log_x(t: Tensor) -> Tensor:
    """x·log x, 0 at x = 0."""
    return xlogy(t, t)


def _inf_outside(result: Tensor, outside) -> Tensor:
    """result with +∞ where ``outside`` (p's mass leaves q's support), as torch's
    ``result[mask] = inf``."""
    return _inf_where(result, xp.broadcast_to(outside, result.shape))


def _beta_mean(p: Beta) -> Tensor:
    return p.concentration1 / (p.concentration1 + p.concentration0)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * _beta_mean(p)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q) -> Tensor:
    t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
    c1, c0 = p.concentration1, p.concentration0
    t3 = (q.concentration - 1) * (c1.digamma() - (c1 + c0).digamma())
    return -p.entropy() + t2 - t3 + q.rate * _beta_mean(p)


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q) -> Tensor:
    mean, var_q = _beta_mean(p), q.scale**2
    t2 = 0.5 * (var_q * (2 * math.pi)).log()
    t3 = (mean * (1 - mean) / (p.concentration1 + p.concentration0 + 1) + mean**2) * 0.5
    return -p.entropy() + t2 + (t3 - q.loc * mean + q.loc**2 * 0.5) / var_q


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q) -> Tensor:
    result = -p.entropy() + (q.high - q.low).log()
    return _inf_outside(result, (q.low.array > 0.0) | (q.high.array < 1.0))


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q) -> Tensor:
    ratio = q.rate / p.rate
    t1 = -q.concentration * ratio.log()
    return t1 + ratio + q.concentration.lgamma() + q.concentration * EULER_GAMMA - (1 + EULER_GAMMA)


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q) -> Tensor:
    var_q, rate_sq = q.scale**2, p.rate**2
    t1 = 0.5 * (rate_sq * var_q * (2 * math.pi)).log()
    return t1 - 1 + (rate_sq.reciprocal() - q.loc / p.rate + q.loc**2 * 0.5) / var_q


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q) -> Tensor:
    var_q, beta_sq, a = q.scale**2, p.rate**2, p.concentration
    t1 = 0.5 * (beta_sq * var_q * (2 * math.pi)).log() - a - a.lgamma()
    t2 = 0.5 * (a**2 + a) / beta_sq
    t3 = q.loc * a / p.rate
    return t1 + (a - 1) * a.digamma() + (t2 - t3 + 0.5 * q.loc**2) / var_q


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q) -> Tensor:
    var_q = q.scale**2
    ratio = p.scale**2 / var_q
    t1 = 0.5 * (2 * ratio / math.pi).log()
    t234 = 0.5 * p.loc**2 - p.loc * q.loc + 0.5 * q.loc**2
    return -t1 + ratio + t234 / var_q - 1


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q) -> Tensor:
    loc_diff = p.loc - q.loc
    z = loc_diff / p.scale
    t2 = math.sqrt(2 / math.pi) * p.scale * (-0.5 * z**2).exp()
    t3 = loc_diff * (math.sqrt(0.5) * z).erf()
    return -(p.scale / q.scale).log() + (t2 + t3) / q.scale - 0.5 * (1 + math.log(0.5 * math.pi))


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q) -> Tensor:
    width = p.high - p.low
    t2 = (q.concentration1 - 1) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    t3 = (q.concentration0 - 1) * (_x_log_x(1 - p.high) - _x_log_x(1 - p.low) + width) / width
    t4 = (
        q.concentration1.lgamma()
        + q.concentration0.lgamma()
        - (q.concentration1 + q.concentration0).lgamma()
    )
    result = t3 + t4 - width.log() - t2
    return _inf_outside(result, (p.high.array > 1.0) | (p.low.array < 0.0))


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q) -> Tensor:
    result = q.rate * (p.high + p.low) / 2 - ((p.high - p.low) * q.rate).log()
    return _inf_outside(result, p.low.array < 0.0)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q) -> Tensor:
    width = p.high - p.low
    t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
    t3 = (1 - q.concentration) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    result = -width.log() + t2 + t3 + q.rate * (p.high + p.low) / 2
    return _inf_outside(result, p.low.array < 0.0)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q) -> Tensor:
    width = p.high - p.low
    t1 = (math.sqrt(math.pi * 2) * q.scale / width).log()
    t3 = ((p.high + p.low - 2 * q.loc) / 2) ** 2
    return t1 + 0.5 * (width**2 / 12 + t3) / q.scale**2


@register_kl(HalfCauchy, HalfCauchy)
def _kl_halfcauchy_halfcauchy(p, q) -> Tensor:
    return _kl_cauchy_cauchy(p.base_dist, q.base_dist)


for _pair in (
    (Exponential, Beta),  # a half-line p against a bounded q …
    (Exponential, Uniform),
    (Gamma, Beta),
    (Gamma, Uniform),
    (Laplace, Beta),  # … and a whole-line p against a half-line or bounded q
    (Laplace, Exponential),
    (Laplace, Gamma),
    (Laplace, Uniform),
    (Normal, Beta),
    (Normal, Exponential),
    (Normal, Gamma),
    (Normal, Uniform),
):
    register_kl(*_pair)(kl_infinity)
