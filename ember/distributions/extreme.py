"""Gumbel, Weibull and Pareto: torch builds each as a TransformedDistribution of a uniform or
exponential base, and so does ember (the same transforms, so cdf, icdf and rsample are
torch's functions of the same base draw), with torch's closed forms for the moments,
entropy and (Gumbel) log_prob.

Gumbel(μ, β):   z = (x − μ)/β,   log p(x) = −z − e^{−z} − log β,   F(x) = exp(−e^{−z})
    x = μ − β·log(−log u),  u ~ U(tiny, 1 − eps);   mean μ + βγ,  mode μ,
    variance π²β²/6,  H = log β + 1 + γ   (γ the Euler–Mascheroni constant)
Weibull(λ, k):   log p(x) = log(k/λ) + (k − 1)·log(x/λ) − (x/λ)^k,   F(x) = 1 − e^{−(x/λ)^k}
    x = λ·E^{1/k},  E ~ Exp(1);   mean λ·Γ(1 + 1/k),   mode λ·((k − 1)/k)^{1/k},
    variance λ²·(Γ(1 + 2/k) − Γ(1 + 1/k)²),   H = γ·(1 − 1/k) + log(λ/k) + 1
Pareto(x_m, α):   log p(x) = log α + α·log x_m − (α + 1)·log x  (x ≥ x_m),
    F(x) = 1 − (x_m/x)^α;   x = x_m·e^E,  E ~ Exp(α);   mean α·x_m/(α − 1) (∞ for α ≤ 1),
    mode x_m,   variance x_m²α/((α − 1)²(α − 2)) (∞ for α ≤ 2),   H = log(x_m/α) + 1 + 1/α
"""

from __future__ import annotations

import math
import numbers

from ..backend import errstate, xp
from ..tensor import Tensor
from . import constraints
from .continuous import Exponential, Uniform
from .distribution import broadcast_all
from .transformed import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .transforms_more import PowerTransform

__all__ = ["Gumbel", "Pareto", "Weibull"]

EULER_GAMMA = 0.57721566490153286060


def _at_least(t: Tensor, low: float) -> Tensor:
    """max(t, low) whose gradient below ``low`` is exactly 0 (torch's clamp), even where the
    value it feeds is infinite (a clamp that multiplies by a mask would give 0·∞ = nan); a nan
    stays nan, as torch's clamp keeps it."""
    return t.where(Tensor(~(t.array < low)), Tensor(xp.asarray(low, t.dtype)))


class _ExpandsParams(TransformedDistribution):
    """expand also broadcasts the distribution's own parameters (``_expand_params``); the
    transforms keep theirs, which broadcast against the expanded draws."""

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape)
        for name in self._expand_params:
            new.__dict__[name] = getattr(self, name).expand(tuple(batch_shape))
        return new


class Gumbel(_ExpandsParams):
    """The Gumbel (type-I extreme value) distribution, ``loc`` μ and ``scale`` β > 0 (module
    docstring): U(tiny, 1 − eps) pushed through −log, ×(−1), −log, μ − β·(·), as torch."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    _expand_params = {"loc": 0, "scale": 0}

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        f = xp.finfo(self.loc.dtype)
        tiny, top = float(f.tiny), 1 - float(f.eps)
        if isinstance(loc, numbers.Number) and isinstance(scale, numbers.Number):
            base = Uniform(tiny, top, validate_args=validate_args)
        else:
            full = lambda v: Tensor(xp.full(self.loc.shape, v, self.loc.dtype))  # noqa: E731
            base = Uniform(full(tiny), full(top), validate_args=validate_args)
        ones = Tensor(xp.ones(self.scale.shape, self.scale.dtype))
        transforms = [
            ExpTransform().inv,
            AffineTransform(loc=0, scale=-ones),
            ExpTransform().inv,
            AffineTransform(loc=self.loc, scale=-self.scale),
        ]
        super().__init__(base, transforms, validate_args=validate_args)

    def log_prob(self, value) -> Tensor:
        # written out (torch's too): the composed transforms lose digits in the tails
        x = self._value(value, self.loc.dtype)
        y = (self.loc - x) / self.scale
        return (y - y.exp()) - self.scale.log()

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale * EULER_GAMMA

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev**2

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + EULER_GAMMA)


class Weibull(_ExpandsParams):
    """The Weibull distribution, ``scale`` λ > 0 and ``concentration`` k > 0 (module
    docstring): Exp(1) pushed through x ↦ x^{1/k} and x ↦ λ·x, as torch."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    _expand_params = {"scale": 0, "concentration": 0, "concentration_reciprocal": 0}

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(
            Tensor(xp.ones(self.scale.shape, self.scale.dtype)), validate_args=validate_args
        )
        transforms = [
            PowerTransform(exponent=self.concentration_reciprocal),
            AffineTransform(loc=0, scale=self.scale),
        ]
        super().__init__(base, transforms, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.scale * (1 + self.concentration_reciprocal).lgamma().exp()

    @property
    def mode(self) -> Tensor:
        k = self.concentration
        return self.scale * ((k - 1) / k) ** k.reciprocal()

    @property
    def variance(self) -> Tensor:
        r = self.concentration_reciprocal
        return self.scale**2 * ((1 + 2 * r).lgamma().exp() - (2 * (1 + r).lgamma()).exp())

    def entropy(self) -> Tensor:
        r = self.concentration_reciprocal
        return EULER_GAMMA * (1 - r) + (self.scale * r).log() + 1


class Pareto(_ExpandsParams):
    """The Pareto (type I) distribution, ``scale`` x_m > 0 and ``alpha`` α > 0 (module
    docstring): Exp(α) pushed through exp and x ↦ x_m·x, as torch."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    _expand_params = {"scale": 0, "alpha": 0}

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        transforms = [ExpTransform(), AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self) -> Tensor:
        a = _at_least(self.alpha, 1.0)  # α ≤ 1: α/(α − 1) = 1/0 = ∞, as torch
        with errstate(divide="ignore"):
            return a * self.scale / (a - 1)

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        a = _at_least(self.alpha, 2.0)  # α ≤ 2: ∞
        with errstate(divide="ignore"):
            return self.scale**2 * a / ((a - 1) ** 2 * (a - 2))

    def entropy(self) -> Tensor:
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())
