"""Normal, Laplace, Uniform and Exponential: scalar continuous distributions, all
reparameterisable (``rsample`` is a differentiable function of the parameters and of noise
drawn from ember's seeded generator)."""

from __future__ import annotations

import math
import numbers

from ..backend import errstate, xp
from ..tensor import Tensor
from . import constraints
from ._special import erf, erfinv
from .distribution import Distribution, broadcast_all, draw_normal, draw_uniform
from .exp_family import ExponentialFamily

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _all_numbers(*values) -> bool:
    return all(isinstance(v, numbers.Number) for v in values)


class _LocationScale(Distribution):
    """A family x = μ + b·z of a fixed standard density: loc μ (the mean and the mode) and a
    positive scale b, broadcast together; reparameterised draws."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _expand_params = {"loc": 0, "scale": 0}

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        batch_shape = () if _all_numbers(loc, scale) else self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc


class Normal(_LocationScale, ExponentialFamily):
    """The normal (Gaussian) distribution N(μ, σ²), ``loc`` μ, ``scale`` σ > 0.

    p(x) = exp(−(x − μ)² / 2σ²) / (σ·√(2π))
    log p(x) = −(x − μ)²/(2σ²) − log σ − ½·log 2π
    H = ½ + ½·log 2π + log σ
    F(x) = ½·(1 + erf((x − μ)/(σ√2))),   F⁻¹(p) = μ + σ·√2·erf⁻¹(2p − 1)
    rsample: x = μ + σ·ε,  ε ~ N(0, 1)
    """

    _mean_carrier_measure = 0

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale**2

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = Tensor(draw_normal(shape, self.loc.dtype))
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.loc.dtype)
        mu, sigma = self.loc, self.scale
        return -((x - mu) ** 2) / (2 * sigma**2) - sigma.log() - _LOG_SQRT_2PI

    def cdf(self, value) -> Tensor:
        x = self._value(value, self.loc.dtype)
        return 0.5 * (1 + erf((x - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value) -> Tensor:
        p = value if isinstance(value, Tensor) else Tensor(xp.asarray(value, self.loc.dtype))
        return self.loc + self.scale * erfinv(2 * p - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + _LOG_SQRT_2PI + self.scale.log()

    # ------------------------------------------------------------ exponential family
    @property
    def _natural_params(self) -> tuple:
        """θ = (μ/σ², −1/(2σ²)) of t(x) = (x, x²)."""
        return (self.loc / self.scale**2, -0.5 * self.scale**-2)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        """F(θ₁, θ₂) = −θ₁²/(4θ₂) + ½·log(−π/θ₂)."""
        return -0.25 * x**2 / y + 0.5 * (-math.pi / y).log()


class Laplace(_LocationScale):
    """The Laplace (double exponential) distribution, ``loc`` μ, ``scale`` b > 0.

    p(x) = exp(−|x − μ|/b) / 2b
    log p(x) = −log 2b − |x − μ|/b
    H = 1 + log 2b,   mean = mode = μ,   variance = 2b²
    F(x) = ½ − ½·sign(x − μ)·(exp(−|x − μ|/b) − 1)
    F⁻¹(p) = μ − b·sign(p − ½)·log(1 − 2|p − ½|)
    rsample: x = μ − b·sign(u)·log(1 − |u|),  u ~ U(ε − 1, 1)
    """

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale**2

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = float(xp.finfo(self.loc.dtype).eps)
        u = (eps - 1) + (2 - eps) * draw_uniform(shape, self.loc.dtype)  # in [ε − 1, 1)
        return self.loc - self.scale * Tensor(xp.sign(u) * xp.log1p(-xp.abs(u)))

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.loc.dtype)
        return -(2 * self.scale).log() - (x - self.loc).abs() / self.scale

    def cdf(self, value) -> Tensor:
        x = self._value(value, self.loc.dtype)
        d = x - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value) -> Tensor:
        p = value if isinstance(value, Tensor) else Tensor(xp.asarray(value, self.loc.dtype))
        t = p - 0.5
        return self.loc - self.scale * t.sign() * (-2 * t.abs()).log1p()

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()


class Uniform(Distribution):
    """The continuous uniform distribution on [low, high), low < high.

    p(x) = 1/(high − low) for low ≤ x < high, else 0
    H = log(high − low),   mean = (low + high)/2,   variance = (high − low)²/12
    F(x) = clamp((x − low)/(high − low), 0, 1),   F⁻¹(p) = low + p·(high − low)
    rsample: x = low + u·(high − low),  u ~ U[0, 1)
    """

    has_rsample = True
    _expand_params = {"low": 0, "high": 0}

    @property
    def arg_constraints(self) -> dict:
        return {
            "low": constraints.less_than(self.high),
            "high": constraints.greater_than(self.low),
        }

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        batch_shape = () if _all_numbers(low, high) else self.low.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        return self.high * math.nan

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / math.sqrt(12)

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = Tensor(draw_uniform(shape, self.low.dtype))
        return self.low + u * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.low.dtype)
        inside = (self.low.array <= x.array) & (self.high.array > x.array)
        with errstate(divide="ignore"):
            log_inside = Tensor(xp.log(inside.astype(self.low.dtype)))  # 0 inside, −∞ outside
        return log_inside - (self.high - self.low).log()

    def cdf(self, value) -> Tensor:
        x = self._value(value, self.low.dtype)
        return ((x - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value) -> Tensor:
        p = value if isinstance(value, Tensor) else Tensor(xp.asarray(value, self.low.dtype))
        return p * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


class Exponential(ExponentialFamily):
    """The exponential distribution, ``rate`` λ > 0.

    p(x) = λ·e^{−λx} for x ≥ 0
    log p(x) = log λ − λx
    H = 1 − log λ,   mean = 1/λ,   mode = 0,   variance = 1/λ²
    F(x) = 1 − e^{−λx},   F⁻¹(p) = −log(1 − p)/λ
    rsample: x = E/λ,  E = −log(1 − u) ~ Exp(1),  u ~ U[0, 1)
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    _mean_carrier_measure = 0
    has_rsample = True
    _expand_params = {"rate": 0}

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = () if isinstance(rate, numbers.Number) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return Tensor(xp.zeros_like(self.rate.array))

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate**-2

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        e = -xp.log1p(-draw_uniform(shape, self.rate.dtype))
        return Tensor(e) / self.rate

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.rate.dtype)
        return self.rate.log() - self.rate * x

    def cdf(self, value) -> Tensor:
        x = self._value(value, self.rate.dtype)
        return 1 - (-self.rate * x).exp()

    def icdf(self, value) -> Tensor:
        p = value if isinstance(value, Tensor) else Tensor(xp.asarray(value, self.rate.dtype))
        return -(-p).log1p() / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()

    # ------------------------------------------------------------ exponential family
    @property
    def _natural_params(self) -> tuple:
        """θ = −λ of t(x) = x."""
        return (-self.rate,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """F(θ) = −log(−θ)."""
        return -(-x).log()
