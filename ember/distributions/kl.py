"""kl_divergence(p, q) = KL(p ‖ q) = E_p[log p(x) − log q(x)], from a registry of closed forms.

``@register_kl(P, Q)`` adds the formula for p of type P and q of type Q; lookup picks the
most specific registered pair for the types given (subclasses inherit their parents'
formulas). Every formula is composed from Tensor ops, so it is differentiable in the
parameters of both p and q.
"""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor
from ._special import diagonal, digamma, lgamma, softplus, solve_tril
from .continuous import Exponential, Laplace, Normal, Uniform
from .continuous_more import Cauchy, HalfNormal
from .dirichlet import Dirichlet
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .discrete_more import Binomial, Geometric, Poisson
from .distribution import Distribution, sum_rightmost
from .exp_family import ExponentialFamily, kl_expfamily_expfamily
from .gamma_beta import Beta, Gamma
from .multivariate import Independent, MultivariateNormal, batch_mahalanobis

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict = {}
_KL_MEMO: dict = {}


def register_kl(type_p: type, type_q: type):
    """Decorator registering ``fn(p, q)`` as KL(p ‖ q) for p a ``type_p``, q a ``type_q``."""
    if not (isinstance(type_p, type) and issubclass(type_p, Distribution)):
        raise TypeError(f"register_kl expects Distribution subclasses, got {type_p!r}")
    if not (isinstance(type_q, type) and issubclass(type_q, Distribution)):
        raise TypeError(f"register_kl expects Distribution subclasses, got {type_q!r}")

    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        _KL_MEMO.clear()
        return fn

    return decorator


def _dispatch(type_p: type, type_q: type):
    """The registered formula for the closest (P, Q) pair: nearest in p's MRO, then q's."""
    key = (type_p, type_q)
    if key not in _KL_MEMO:
        matches = [
            (type_p.__mro__.index(p), type_q.__mro__.index(q), p, q)
            for p, q in _KL_REGISTRY
            if issubclass(type_p, p) and issubclass(type_q, q)
        ]
        _KL_MEMO[key] = _KL_REGISTRY[min(matches)[2:]] if matches else None
    return _KL_MEMO[key]


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p ‖ q) = ∫ p(x)·log(p(x)/q(x)) dx, one value per batch element.

    Raises NotImplementedError when no formula is registered for the two types.
    """
    fn = _dispatch(type(p), type(q))
    if fn is None:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {type(p).__name__} and q type"
            f" {type(q).__name__}"
        )
    return fn(p, q)


# torch's generic fallback between two members of one exponential family (Bregman divergence
# of the log normaliser); the closed forms registered below are more specific and win
_kl_expfamily_expfamily = register_kl(ExponentialFamily, ExponentialFamily)(kl_expfamily_expfamily)


def _inf_where(t: Tensor, mask) -> Tensor:
    """t with +∞ where mask (no gradient there)."""
    if not xp.any(mask):
        return t
    return t.where(Tensor(~xp.asarray(mask)), Tensor(xp.asarray(xp.inf, t.dtype)))


def _zero_where(t: Tensor, mask) -> Tensor:
    if not xp.any(mask):
        return t
    return t.where(Tensor(~xp.asarray(mask)), Tensor(xp.zeros((), t.dtype)))


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    """½·(σ_p²/σ_q² + (μ_p − μ_q)²/σ_q² − 1 − log(σ_p²/σ_q²))."""
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    """p·log(p/q) + (1 − p)·log((1 − p)/(1 − q)), via softplus of the logits:
    log p = −softplus(−ℓ), log(1 − p) = −softplus(ℓ)."""
    pp, qp = p.probs.array, q.probs.array
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = _zero_where(_inf_where(t1, xp.broadcast_to(qp == 0, t1.shape)), pp == 0)
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = _zero_where(_inf_where(t2, xp.broadcast_to(qp == 1, t2.shape)), pp == 1)
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    """Σ_k p_k·(log p_k − log q_k); +∞ where q_k = 0 < p_k, terms with p_k = 0 are 0."""
    t = p.probs * (p.logits - q.logits)
    t = _inf_where(t, xp.broadcast_to(q.probs.array == 0, t.shape))
    t = _zero_where(t, xp.broadcast_to(p.probs.array == 0, t.shape))
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical(p: OneHotCategorical, q: OneHotCategorical) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    """log((b_q − a_q)/(b_p − a_p)) when [a_p, b_p] ⊆ [a_q, b_q], else +∞."""
    result = ((q.high - q.low) / (p.high - p.low)).log()
    outside = (q.low.array > p.low.array) | (q.high.array < p.high.array)
    return _inf_where(result, xp.broadcast_to(outside, result.shape))


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    """λ_q/λ_p − log(λ_q/λ_p) − 1."""
    ratio = q.rate / p.rate
    return ratio - ratio.log() - 1


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    """−log(b_p/b_q) + |μ_p − μ_q|/b_q + (b_p/b_q)·exp(−|μ_p − μ_q|/b_p) − 1."""
    scale_ratio = p.scale / q.scale
    d = (p.loc - q.loc).abs()
    return -scale_ratio.log() + d / q.scale + scale_ratio * (-d / p.scale).exp() - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    """α_q·log(β_p/β_q) + log Γ(α_q) − log Γ(α_p) + (α_p − α_q)·ψ(α_p) + (β_q − β_p)·α_p/β_p."""
    ap, bp, aq, bq = p.concentration, p.rate, q.concentration, q.rate
    t1 = aq * (bp / bq).log()
    t2 = lgamma(aq) - lgamma(ap)
    t3 = (ap - aq) * digamma(ap)
    t4 = (bq - bp) * (ap / bp)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    """log B(α_q, β_q) − log B(α_p, β_p) + (α_p − α_q)·ψ(α_p) + (β_p − β_q)·ψ(β_p)
    + (α_q − α_p + β_q − β_p)·ψ(α_p + β_p)."""
    ap, bp, aq, bq = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    sp, sq = ap + bp, aq + bq
    log_b_p = lgamma(ap) + lgamma(bp) - lgamma(sp)
    log_b_q = lgamma(aq) + lgamma(bq) - lgamma(sq)
    t = (ap - aq) * digamma(ap) + (bp - bq) * digamma(bp) + (sq - sp) * digamma(sp)
    return log_b_q - log_b_p + t


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    """log Γ(α₀) − log Γ(β₀) − Σ_k (log Γ(α_k) − log Γ(β_k)) + Σ_k (α_k − β_k)·(ψ(α_k) − ψ(α₀)),
    p with concentration α, q with β, α₀ = Σ_k α_k, β₀ = Σ_k β_k (torch's formula)."""
    a, b = p.concentration, q.concentration
    a0, b0 = a.sum(-1), b.sum(-1)
    t1 = lgamma(a0) - lgamma(b0)
    t2 = (lgamma(a) - lgamma(b)).sum(-1)
    t3 = digamma(a) - digamma(a0).unsqueeze(-1)
    return t1 - t2 + ((a - b) * t3).sum(-1)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    """½·(tr(Σ_q⁻¹Σ_p) + (μ_q − μ_p)ᵀΣ_q⁻¹(μ_q − μ_p) − d) + log |L_q| − log |L_p|, with
    tr(Σ_q⁻¹Σ_p) = ‖L_q⁻¹·L_p‖²_F."""
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two Multivariate Normals with different event shapes"
            " cannot be computed"
        )
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = diagonal(Lq).log().sum(-1) - diagonal(Lp).log().sum(-1)
    d = p.event_shape[0]
    batch = xp.broadcast_shapes(Lp.shape[:-2], Lq.shape[:-2])
    Lp_b = Lp if Lp.shape[:-2] == batch else Lp.expand(batch + (d, d))
    m = solve_tril(Lq, Lp_b)
    term2 = (m * m).sum((-2, -1))
    term3 = batch_mahalanobis(Lq, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - d)


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    """Σ over the reinterpreted dims of KL(p_base ‖ q_base)."""
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(
            "KL(Independent || Independent) needs the same reinterpreted_batch_ndims, got"
            f" {p.reinterpreted_batch_ndims} and {q.reinterpreted_batch_ndims}"
        )
    result = kl_divergence(p.base_dist, q.base_dist)
    return sum_rightmost(result, p.reinterpreted_batch_ndims)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    """λ_p·(log λ_p − log λ_q) − (λ_p − λ_q)."""
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p: Bernoulli, q: Poisson) -> Tensor:
    """−H(p) − (p·log λ − λ)."""
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


@register_kl(Poisson, Bernoulli)
@register_kl(Poisson, Binomial)
def _kl_poisson_infinity(p: Poisson, q) -> Tensor:
    """+∞: the Poisson puts mass on counts q cannot reach."""
    return Tensor(xp.full(p.rate.shape, xp.inf, dtype=p.rate.dtype))


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Geometric, q: Geometric) -> Tensor:
    """−H(p) − log(1 − q)/p − logit q (torch's formula)."""
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Binomial, q: Binomial) -> Tensor:
    """n_p·(p·(logit p − logit q) + log(1 − p) − log(1 − q)); +∞ where n_p > n_q, and
    NotImplementedError where n_p < n_q (as torch)."""
    n_p, n_q = p.total_count.array, q.total_count.array
    if xp.any(n_p < n_q):
        raise NotImplementedError(
            "KL between Binomials where q.total_count > p.total_count is not implemented"
        )
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return _inf_where(kl, xp.broadcast_to(n_p > n_q, kl.shape))


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p: HalfNormal, q: HalfNormal) -> Tensor:
    """KL of the unfolded normals: ½·(σ_p²/σ_q² − 1 − log(σ_p²/σ_q²))."""
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Cauchy, q: Cauchy) -> Tensor:
    """log((σ_p + σ_q)² + (μ_p − μ_q)²) − log(4·σ_p·σ_q) (Chyzak & Nielsen 2019)."""
    t1 = ((p.scale + q.scale) ** 2 + (p.loc - q.loc) ** 2).log()
    t2 = (4 * p.scale * q.scale).log()
    return t1 - t2
