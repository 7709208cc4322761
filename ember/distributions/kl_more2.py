"""The KL divergences torch registers for ContinuousBernoulli pairs, with its formulas (closed
forms, +∞ where p's support leaves q's), composed from Tensor ops so gradients reach both
distributions' parameters. With C(λ) the continuous Bernoulli's normaliser and ℓ its logits,
log q(x) = x·ℓ_q + log(1 − λ_q) + log C(λ_q), so KL(p ‖ CB_q) = −H(p) − E_p[x]·ℓ_q
− log(1 − λ_q) − log C(λ_q) for every p on [0, 1].

The KL pairs of InverseGamma, Kumaraswamy and LogisticNormal are those of their bases (the
TransformedDistribution pair in kl_more.py, when the transforms are the same).
"""

from __future__ import annotations

import math

from ..backend import xp
from ..tensor import Tensor
from .continuous import Exponential, Laplace, Normal, Uniform
from .continuous_bernoulli import ContinuousBernoulli
from .extreme import Gumbel, Pareto
from .gamma_beta import Beta, Gamma
from .kl import _inf_where, register_kl
from .kl_more import kl_infinity

__all__: list[str] = []


def _cb_cross_term(p_mean: Tensor, q: ContinuousBernoulli) -> Tensor:
    """The cross-entropy E_p[−log q(x)] = −E_p[x]·ℓ_q − log(1 − λ_q) − log C(λ_q)."""
    return -p_mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_cb_cb(p, q) -> Tensor:
    """E_p[x]·(ℓ_p − ℓ_q) + log C(λ_p) + log(1 − λ_p) − log C(λ_q) − log(1 − λ_q)."""
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_cb(p, q) -> Tensor:
    return -p.entropy() + _cb_cross_term(p.mean, q)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_cb(p, q) -> Tensor:
    """+∞ where high ≥ 1 or low ≤ 0, as torch (which counts the support's ends as outside)."""
    result = -p.entropy() + _cb_cross_term(p.mean, q)
    outside = (p.high.array >= 1.0) | (p.low.array <= 0.0)
    return _inf_where(result, xp.broadcast_to(outside, result.shape))


@register_kl(ContinuousBernoulli, Exponential)
def _kl_cb_exponential(p, q) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_cb_normal(p, q) -> Tensor:
    """−H(p) + ½·log 2π + log σ + (Var_p + E_p² − 2μE_p + μ²)/(2σ²)."""
    t1 = -p.entropy()
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale) ** 2) + q.scale.log()
    t3 = (p.variance + p.mean**2 - 2.0 * q.loc * p.mean) / (2.0 * q.scale**2)
    return t1 + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _kl_cb_uniform(p, q) -> Tensor:
    """−H(p) + log(high − low); +∞ where low ≥ 0 or high ≤ 1 (torch's test, which counts
    [0, 1] itself as not covering p)."""
    result = -p.entropy() + (q.high - q.low).log()
    outside = (q.low.array >= 0.0) | (q.high.array <= 1.0)
    return _inf_where(result, xp.broadcast_to(outside, result.shape))


for _pair in (
    (ContinuousBernoulli, Pareto),  # p on [0, 1], q on [scale, ∞) …
    (Exponential, ContinuousBernoulli),  # … and the reverse: unbounded p, q on [0, 1]
    (Gamma, ContinuousBernoulli),
    (Gumbel, ContinuousBernoulli),
    (Laplace, ContinuousBernoulli),
    (Normal, ContinuousBernoulli),
    (Pareto, ContinuousBernoulli),
):
    register_kl(*_pair)(kl_infinity)
