"""The KL divergences torch registers for Gumbel, Pareto, LowRankMultivariateNormal and
TransformedDistribution pairs, with its formulas (closed forms, +∞ where p's support leaves
q's), composed from Tensor ops so gradients reach both distributions' parameters.

γ is the Euler–Mascheroni constant; formulas from Gil (2011, "Kullback–Leibler divergences
for distributions of the exponential family") as torch cites them.
"""

from __future__ import annotations

import itertools
import math

from ..backend import errstate, xp
from ..tensor import Tensor
from ._special import diagonal, solve_tril, xlogy
from .continuous import Exponential, Laplace, Normal, Uniform
from .extreme import EULER_GAMMA, Gumbel, Pareto
from .gamma_beta import Beta, Gamma
from .kl import _inf_where, kl_divergence, register_kl
from .lowrank import LowRankMultivariateNormal, _lowrank_logdet, _lowrank_mahalanobis
from .multivariate import MultivariateNormal, batch_mahalanobis
from .transformed import TransformedDistribution
from .transforms import AffineTransform, ComposeTransform, Transform, _InverseTransform
from .transforms_more import PowerTransform

__all__: list[str] = []


def _params_equal(a, b) -> bool:
    va, vb = (v.array if isinstance(v, Tensor) else xp.asarray(v) for v in (a, b))
    return bool(va.shape == vb.shape and xp.all(va == vb))


def _same_transform(a: Transform, b: Transform) -> bool:
    """torch's Transform equality: the same map (same type and parameters)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, _InverseTransform):
        return _same_transform(a._inv, b._inv)
    if isinstance(a, ComposeTransform):
        return len(a.parts) == len(b.parts) and all(map(_same_transform, a.parts, b.parts))
    if isinstance(a, AffineTransform):
        return (
            a._event_dim == b._event_dim
            and _params_equal(a.loc, b.loc)
            and _params_equal(a.scale, b.scale)
        )
    if isinstance(a, PowerTransform):
        return _params_equal(a.exponent, b.exponent)
    # parameter-free transforms are equal by type; the others (holding transforms or a
    # distribution) only to themselves
    return not vars(a).keys() - {"_cache_size", "_cached"}


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q) -> Tensor:
    """KL is invariant under a shared bijection: KL(f(X) ‖ f(Y)) = KL(X ‖ Y)."""
    same = len(p.transforms) == len(q.transforms) and all(
        map(_same_transform, p.transforms, q.transforms)
    )
    if not same or p.event_shape != q.event_shape:
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p, q) -> Tensor:
    """−log(β_p/β_q) − μ_q/β_q + μ_p/β_q + γ·β_p/β_q + exp((μ_q − μ_p)/β_q)·Γ(1 + β_p/β_q)
    − 1 − γ."""
    ct1 = p.scale / q.scale
    ct2 = q.loc / q.scale
    ct3 = p.loc / q.scale
    t1 = -ct1.log() - ct2 + ct3
    t2 = ct1 * EULER_GAMMA
    t3 = (ct2 + (1 + ct1).lgamma() - ct3).exp()
    return t1 + t2 + t3 - (1 + EULER_GAMMA)


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p, q) -> Tensor:
    scale_rate_prod = p.rate * q.scale
    loc_scale_ratio = q.loc / q.scale
    t1 = scale_rate_prod.log() - 1
    t2 = loc_scale_ratio.exp() * scale_rate_prod / (scale_rate_prod + 1)
    t3 = scale_rate_prod.reciprocal()
    return t1 - loc_scale_ratio + t2 + t3


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p, q) -> Tensor:
    a = p.concentration
    beta_scale_prod = p.rate * q.scale
    loc_scale_ratio = q.loc / q.scale
    t1 = (a - 1) * a.digamma() - a.lgamma() - a
    t2 = beta_scale_prod.log() + a / beta_scale_prod
    t3 = loc_scale_ratio.exp() * (1 + beta_scale_prod.reciprocal()) ** (-a) - loc_scale_ratio
    return t1 + t2 + t3


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p, q) -> Tensor:
    mean_scale_ratio = p.loc / q.scale
    var_scale_sqr_ratio = (p.scale / q.scale) ** 2
    loc_scale_ratio = q.loc / q.scale
    t1 = var_scale_sqr_ratio.log() * 0.5
    t2 = mean_scale_ratio - loc_scale_ratio
    t3 = (-mean_scale_ratio + 0.5 * var_scale_sqr_ratio + loc_scale_ratio).exp()
    return -t1 + t2 + t3 - (0.5 * (1 + math.log(2 * math.pi)))


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p, q) -> Tensor:
    common_term = q.scale / (p.high - p.low)
    high_loc_diff = (p.high - q.loc) / q.scale
    low_loc_diff = (p.low - q.loc) / q.scale
    t1 = common_term.log() + 0.5 * (high_loc_diff + low_loc_diff)
    t2 = common_term * ((-high_loc_diff).exp() - (-low_loc_diff).exp())
    return t1 - t2


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p, q) -> Tensor:
    param_ratio = p.scale / q.scale
    t1 = (param_ratio / math.sqrt(2 * math.pi)).log()
    t2 = (math.pi * param_ratio * 0.5) ** 2 / 3
    t3 = ((p.loc + p.scale * EULER_GAMMA - q.loc) / q.scale) ** 2 * 0.5
    return -t1 + t2 + t3 - (EULER_GAMMA + 1)


@register_kl(Gumbel, Beta)
@register_kl(Gumbel, Exponential)
@register_kl(Gumbel, Gamma)
@register_kl(Gumbel, Pareto)
@register_kl(Gumbel, Uniform)
@register_kl(Beta, Pareto)
@register_kl(Exponential, Pareto)
@register_kl(Gamma, Pareto)
@register_kl(Laplace, Pareto)
@register_kl(Normal, Pareto)
@register_kl(Pareto, Beta)
@register_kl(Pareto, Uniform)
def kl_infinity(p, q) -> Tensor:
    """+∞ for every batch member: p puts mass where q has none (a Gumbel on the whole real
    line against a bounded or half-line q, a Pareto's unbounded tail against a bounded one …)."""
    given = (p.__dict__.get(k) for k in p.arg_constraints)  # the parameters p was made with
    # … or computed from them (a Chi2's df is its Gamma concentration, kept under that name)
    given = itertools.chain(given, (getattr(p, k) for k in p.arg_constraints))
    dtype = next(t.dtype for t in given if isinstance(t, Tensor))
    return Tensor(xp.full(p.batch_shape, xp.inf, dtype=dtype))


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q) -> Tensor:
    """α_q·log(x_p/x_q) − log(α_q/α_p) + α_q/α_p − 1; +∞ where x_p < x_q."""
    scale_ratio = p.scale / q.scale
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * scale_ratio.log() - alpha_ratio.log() + alpha_ratio - 1
    outside = xp.broadcast_to(p.scale.array < q.scale.array, result.shape)
    return _inf_where(result, outside)


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q) -> Tensor:
    scale_rate_prod = p.scale * q.rate
    t1 = (p.alpha / scale_rate_prod).log()
    t2 = p.alpha.reciprocal()
    with errstate(divide="ignore", invalid="ignore"):
        t3 = p.alpha * scale_rate_prod / (p.alpha - 1)
    result = t1 - t2 + t3 - 1
    return _inf_where(result, xp.broadcast_to(p.alpha.array <= 1, result.shape))


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q) -> Tensor:
    common_term = p.scale.log() + p.alpha.reciprocal()
    t1 = p.alpha.log() - common_term
    t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
    t3 = (1 - q.concentration) * common_term
    with errstate(divide="ignore", invalid="ignore"):
        t4 = q.rate * p.alpha * p.scale / (p.alpha - 1)
    result = t1 + t2 + t3 + t4 - 1
    return _inf_where(result, xp.broadcast_to(p.alpha.array <= 1, result.shape))


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q) -> Tensor:
    var_normal = 2 * q.scale**2
    with errstate(divide="ignore", invalid="ignore"):
        common_term = p.scale / (p.alpha - 1)
        t3 = p.alpha * common_term**2 / (p.alpha - 2)
    t1 = (math.sqrt(2 * math.pi) * q.scale * p.alpha / p.scale).log()
    t2 = p.alpha.reciprocal()
    t4 = (p.alpha * common_term - q.loc) ** 2
    result = t1 - t2 + (t3 + t4) / var_normal - 1
    return _inf_where(result, xp.broadcast_to(p.alpha.array <= 2, result.shape))


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q) -> Tensor:
    width = p.high - p.low
    t1 = (q.alpha * q.scale**q.alpha * width).log()
    t2 = (xlogy(p.high, p.high) - xlogy(p.low, p.low) - width) / width
    result = t2 * (q.alpha + 1) - t1
    return _inf_where(result, xp.broadcast_to(p.low.array < q.scale.array, result.shape))


def _trace_XXT(m: Tensor) -> Tensor:
    """tr(X·Xᵀ) = ‖X‖²_F over the last two dims."""
    return (m**2).sum((-2, -1))


def _same_event(p, q) -> None:
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two (Low Rank) Multivariate Normals with different event"
            " shapes cannot be computed"
        )


def _woodbury_A(q) -> Tensor:
    """A = L_C⁻¹·Wᵀ·D⁻¹ of q, so Σ_q⁻¹ = D⁻¹ − AᵀA."""
    W, D = q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag
    return solve_tril(q._capacitance_tril, W.mT / D.unsqueeze(-2))


def _lowrank_parts(d):
    return d._unbroadcasted_cov_factor, d._unbroadcasted_cov_diag, d._capacitance_tril


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_lowrank(p, q) -> Tensor:
    """½·(log|Σ_q| − log|Σ_p| + tr(Σ_q⁻¹Σ_p) + (μ_q − μ_p)ᵀΣ_q⁻¹(μ_q − μ_p) − d), the trace
    expanded as torch's: Σ_q⁻¹Σ_p = (D_q⁻¹ − AᵀA)(D_p + W_p·W_pᵀ)."""
    _same_event(p, q)
    Wp, Dp, Cp = _lowrank_parts(p)
    Wq, Dq, Cq = _lowrank_parts(q)
    term1 = _lowrank_logdet(Wq, Dq, Cq) - _lowrank_logdet(Wp, Dp, Cp)
    term3 = _lowrank_mahalanobis(Wq, Dq, q.loc - p.loc, Cq)
    A = _woodbury_A(q)
    term21 = (Dp / Dq).sum(-1)
    term22 = _trace_XXT(Wp * Dq.rsqrt().unsqueeze(-1))
    term23 = _trace_XXT(A * Dp.sqrt().unsqueeze(-2))
    term24 = _trace_XXT(A @ Wp)
    return 0.5 * (term1 + term21 + term22 - term23 - term24 + term3 - p.event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_mvn_lowrank(p, q) -> Tensor:
    _same_event(p, q)
    Wq, Dq, Cq = _lowrank_parts(q)
    Lp = p._unbroadcasted_scale_tril
    term1 = _lowrank_logdet(Wq, Dq, Cq) - 2 * diagonal(Lp).log().sum(-1)
    term3 = _lowrank_mahalanobis(Wq, Dq, q.loc - p.loc, Cq)
    A = _woodbury_A(q)
    term2 = _trace_XXT(Lp * Dq.rsqrt().unsqueeze(-1)) - _trace_XXT(A @ Lp)
    return 0.5 * (term1 + term2 + term3 - p.event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrank_mvn(p, q) -> Tensor:
    _same_event(p, q)
    Wp, Dp, Cp = _lowrank_parts(p)
    Lq = q._unbroadcasted_scale_tril
    term1 = 2 * diagonal(Lq).log().sum(-1) - _lowrank_logdet(Wp, Dp, Cp)
    term3 = batch_mahalanobis(Lq, q.loc - p.loc)
    n = p.event_shape[0]
    batch = tuple(xp.broadcast_shapes(tuple(Lq.shape[:-2]), tuple(Wp.shape[:-2])))
    Lq_b = Lq.expand(batch + (n, n))
    term21 = _trace_XXT(solve_tril(Lq_b, Wp.expand(batch + tuple(Wp.shape[-2:]))))
    term22 = _trace_XXT(solve_tril(Lq_b, Dp.sqrt().diag_embed().expand(batch + (n, n))))
    return 0.5 * (term1 + term21 + term22 + term3 - n)
