"""InverseGamma, Kumaraswamy and LogisticNormal: torch builds each as a TransformedDistribution
of a gamma, uniform or normal base, and so does ember (the same transforms, so log_prob, cdf,
icdf and rsample are torch's functions of the same base draw), with torch's closed forms for
the moments and entropy.

InverseGamma(α, β):   Y = 1/X,  X ~ Gamma(α, β)
    log p(y) = α·log β − log Γ(α) − (α + 1)·log y − β/y
    mean β/(α − 1) (∞ for α ≤ 1),   mode β/(α + 1),
    variance β²/((α − 1)²(α − 2)) (∞ for α ≤ 2),   H = α + log β + log Γ(α) − (1 + α)·ψ(α)
Kumaraswamy(a, b):   Y = (1 − U^{1/b})^{1/a},  U ~ U(0, 1)
    p(y) = a·b·y^{a−1}·(1 − y^a)^{b−1} on [0, 1]
    E[Yⁿ] = b·B(1 + n/a, b) = b·Γ(1 + n/a)·Γ(b)/Γ(1 + n/a + b)
    mode ((a − 1)/(a·b − 1))^{1/a} (nan for a < 1 or b < 1)
    H = (1 − 1/b) + (1 − 1/a)·(ψ(b + 1) + γ) − log a − log b
LogisticNormal(μ, σ):   Y = stick_breaking(X),  X ~ N(μ, σ²) in ℝ^K,  Y on the K-simplex in
    ℝ^{K+1};   log p(y) = log N(x; μ, σ) − log |det ∂y/∂x|,  x = log(y_i/(1 − Σ_{j≤i} y_j))
    + log(K + 1 − i) (StickBreakingTransform's inverse)
"""

from __future__ import annotations

from ..backend import errstate, xp
from ..tensor import Tensor
from . import constraints
from ._special import digamma, lgamma
from .continuous import Normal, Uniform
from .distribution import broadcast_all
from .extreme import EULER_GAMMA, _ExpandsParams
from .gamma_beta import Gamma
from .transformed import TransformedDistribution
from .transforms import AffineTransform
from .transforms_more import PowerTransform, StickBreakingTransform

__all__ = ["InverseGamma", "Kumaraswamy", "LogisticNormal"]


def _where(t: Tensor, keep, fill: float) -> Tensor:
    """t where ``keep`` (an array), ``fill`` elsewhere (no gradient there)."""
    return t.where(Tensor(xp.asarray(keep)), Tensor(xp.asarray(fill, t.dtype)))


class InverseGamma(TransformedDistribution):
    """The inverse gamma distribution, ``concentration`` α > 0 and ``rate`` β > 0 (module
    docstring): Gamma(α, β) pushed through x ↦ x⁻¹, as torch."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = Tensor(-xp.ones((), base.rate.dtype))
        super().__init__(base, PowerTransform(neg_one), validate_args=validate_args)

    concentration = property(lambda self: self.base_dist.concentration)
    rate = property(lambda self: self.base_dist.rate)

    @property
    def mean(self) -> Tensor:
        a = self.concentration
        with errstate(divide="ignore"):
            return _where(self.rate / (a - 1), a.array > 1, xp.inf)

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        a = self.concentration
        with errstate(divide="ignore", invalid="ignore"):
            v = self.rate.square() / ((a - 1).square() * (a - 2))
        return _where(v, a.array > 2, xp.inf)

    def entropy(self) -> Tensor:
        a = self.concentration
        return a + self.rate.log() + lgamma(a) - (1 + a) * digamma(a)


def _kumaraswamy_moment(a: Tensor, b: Tensor, n: int) -> Tensor:
    """E[Yⁿ] = b·exp(log Γ(1 + n/a) + log Γ(b) − log Γ(1 + n/a + b))."""
    arg1 = 1 + n / a
    return b * (lgamma(arg1) + lgamma(b) - lgamma(arg1 + b)).exp()


class Kumaraswamy(_ExpandsParams):
    """The Kumaraswamy distribution on [0, 1], ``concentration1`` a > 0 and ``concentration0``
    b > 0 (module docstring): U(0, 1) pushed through u ↦ u^{1/b}, u ↦ 1 − u, u ↦ u^{1/a},
    as torch."""

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True
    _expand_params = {"concentration1": 0, "concentration0": 0}

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        b = self.concentration0
        zeros = Tensor(xp.zeros(b.shape, b.dtype))
        ones = Tensor(xp.ones(b.shape, b.dtype))
        base = Uniform(zeros, ones, validate_args=validate_args)
        transforms = [
            PowerTransform(exponent=b.reciprocal()),
            AffineTransform(loc=1.0, scale=-1.0),
            PowerTransform(exponent=self.concentration1.reciprocal()),
        ]
        super().__init__(base, transforms, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        with errstate(invalid="ignore"):
            log_mode = b.reciprocal() * (-b).log1p() - (-b * a).log1p()
        return _where(log_mode, (b.array >= 1) & (a.array >= 1), xp.nan).exp()

    @property
    def variance(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        return _kumaraswamy_moment(a, b, 2) - self.mean**2

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        t1 = 1 - a.reciprocal()
        t0 = 1 - b.reciprocal()
        h0 = digamma(b + 1) + EULER_GAMMA
        return t0 + t1 * h0 - a.log() - b.log()


class LogisticNormal(TransformedDistribution):
    """The logistic-normal distribution on the simplex, ``loc`` μ and ``scale`` σ > 0 of the
    base normal (module docstring): N(μ, σ²) over the last dim pushed through
    StickBreakingTransform, as torch; a scalar base becomes a batch of one first."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand((1,))
        super().__init__(base, StickBreakingTransform(), validate_args=validate_args)

    loc = property(lambda self: self.base_dist.base_dist.loc)
    scale = property(lambda self: self.base_dist.base_dist.scale)
