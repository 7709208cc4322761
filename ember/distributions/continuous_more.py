"""torch.distributions (formulas, constraints, nan/inf conventions, shapes).

Chi2(ν) = Gamma(ν/2, rate ½):  p(x) = x^{ν/2−1} e^{−x/2} / (2^{ν/2} Γ(ν/2)),  mean ν,  var 2ν
StudentT(ν, μ, σ):  y = (x − μ)/σ,
    log p(x) = −(ν + 1)/2 · log(1 + y²/ν) − log σ − ½ log ν − ½ log π − log Γ(ν/2) + log Γ((ν+1)/2)
    H = log σ + (ν + 1)/2 · (ψ((ν+1)/2) − ψ(ν/2)) + ½ log ν + log B(ν/2, ½)
    mean μ (nan for ν ≤ 1),  mode μ,  var σ²ν/(ν − 2) (ν > 2; ∞ for 1 < ν ≤ 2; nan for ν ≤ 1)
    rsample: μ + σ·X/√(Z/ν),  X ~ N(0, 1),  Z ~ Chi2(ν) (implicitly reparameterised gamma draw)
Cauchy(μ, σ):  log p(x) = −log π − log σ − log(1 + ((x − μ)/σ)²),  H = log 4π + log σ
    F(x) = atan((x − μ)/σ)/π + ½,  F⁻¹(p) = μ + σ·tan(π(p − ½)),  mean nan,  var ∞,  mode μ
    rsample: F⁻¹(u),  u ~ U[0, 1)
HalfNormal(σ) = |N(0, σ²)|:  log p(x) = log N(x; 0, σ) + log 2 (x ≥ 0, else −∞),
    F(x) = 2Φ(x/σ) − 1,  H = H_N − log 2,  mean σ√(2/π),  mode 0,  var σ²(1 − 2/π)
HalfCauchy(σ) = |Cauchy(0, σ)|:  log p(x) = log Cauchy(x; 0, σ) + log 2 (x ≥ 0, else −∞),
    F(x) = 2·atan(x/σ)/π,  H = log 4π + log σ − log 2 = log 2π + log σ,  mean ∞,  var ∞,  mode 0
"""

from __future__ import annotations

import math

from ..backend import xp
from ..tensor import Tensor
from . import constraints
from ._special import digamma, lgamma
from .continuous import Normal, _LocationScale
from .distribution import (
    Distribution,
    broadcast_all,
    draw_normal,
    draw_uniform,
)
from .gamma_beta import Gamma
from .transformed import expand_wrapper

__all__ = ["Cauchy", "Chi2", "HalfCauchy", "HalfNormal", "StudentT"]


def _full(like: Tensor, shape, fill) -> Tensor:
    return Tensor(xp.full(tuple(shape), fill, dtype=like.dtype))


def _as_p(value, dtype) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(xp.asarray(value, dtype))


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` ν > 0: Gamma(ν/2, rate ½) (module docstring)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    @property
    def df(self) -> Tensor:
        return self.concentration * 2


class StudentT(Distribution):
    """Student's t with ``df`` ν > 0, ``loc`` μ and ``scale`` σ > 0 (module docstring)."""

    arg_constraints = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True
    _expand_params = {"df": 0, "loc": 0, "scale": 0}

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.loc.where(Tensor(self.df.array > 1), _full(self.loc, (), xp.nan))

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        d = self.df.array
        big = d > 2
        df = self.df.where(Tensor(big), _full(self.df, (), 3.0))  # no 0/0 off the branch
        v = self.scale**2 * df / (df - 2)
        rest = xp.where(d > 1, xp.inf, xp.nan).astype(d.dtype)
        return v.where(Tensor(big), Tensor(rest))

    def rsample(self, sample_shape=()) -> Tensor:
        """X·rsqrt(Z/ν) with X ~ N(0, 1), Z ~ Chi2(ν).rsample (torch's construction)."""
        shape = self._extended_shape(sample_shape)
        x = Tensor(draw_normal(shape, self.df.dtype))
        z = Chi2(self.df, validate_args=False).rsample(sample_shape)
        y = x * (z / self.df).rsqrt()
        return self.loc + self.scale * y

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.df.dtype)
        y = (x - self.loc) / self.scale
        df = self.df
        z = (
            self.scale.log()
            + 0.5 * df.log()
            + 0.5 * math.log(math.pi)
            + lgamma(0.5 * df)
            - lgamma(0.5 * (df + 1.0))
        )
        return -0.5 * (df + 1.0) * (y**2.0 / df).log1p() - z

    def entropy(self) -> Tensor:
        df = self.df
        lbeta = lgamma(0.5 * df) + math.lgamma(0.5) - lgamma(0.5 * (df + 1))
        return (
            self.scale.log()
            + 0.5 * (df + 1) * (digamma(0.5 * (df + 1)) - digamma(0.5 * df))
            + 0.5 * df.log()
            + lbeta
        )


class Cauchy(_LocationScale):
    """The Cauchy (Lorentz) distribution, ``loc`` μ and ``scale`` σ > 0 (module docstring)."""

    @property
    def mean(self) -> Tensor:
        return _full(self.loc, self._extended_shape(), xp.nan)

    @property
    def variance(self) -> Tensor:
        return _full(self.loc, self._extended_shape(), xp.inf)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = draw_uniform(shape, self.loc.dtype)
        eps = Tensor(xp.tan(math.pi * (u - 0.5)).astype(self.loc.dtype))
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.loc.dtype)
        return -math.log(math.pi) - self.scale.log() - (((x - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value) -> Tensor:
        x = self._value(value, self.loc.dtype)
        return ((x - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value) -> Tensor:
        p = _as_p(value, self.loc.dtype)
        return (math.pi * (p - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()


class _Folded(Distribution):
    """|X| for X of a base distribution symmetric about 0 with ``scale`` σ (torch's
    TransformedDistribution(base, AbsTransform()), written out: ember has no AbsTransform)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _base: type
    #: log_prob casts the value to the scale's dtype (torch's HalfCauchy does; HalfNormal not)
    _value_in_scale_dtype = False

    def __init__(self, scale, validate_args=None):
        self.base_dist = self._base(0, scale, validate_args=False)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    def expand(self, batch_shape, _instance=None):
        return expand_wrapper(self, batch_shape)

    @property
    def mode(self) -> Tensor:
        return Tensor(xp.zeros_like(self.scale.array))

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.scale.dtype)
        if self._value_in_scale_dtype:
            x = x.to(self.scale.dtype)
        lp = self.base_dist.log_prob(x) + math.log(2)
        return lp.where(Tensor(x.array >= 0), _full(lp, (), -xp.inf))

    def cdf(self, value) -> Tensor:
        return 2 * self.base_dist.cdf(self._value(value, self.scale.dtype)) - 1

    def icdf(self, value) -> Tensor:
        return self.base_dist.icdf((_as_p(value, self.scale.dtype) + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)

    def __repr__(self) -> str:
        s = self.scale
        shown = s.array.reshape(()).item() if s.numel() == 1 else tuple(s.shape)
        return f"{type(self).__name__}(scale: {shown})"


class HalfNormal(_Folded):
    """|N(0, σ²)|, ``scale`` σ > 0 (module docstring)."""

    _base = Normal

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        return self.scale**2 * (1 - 2 / math.pi)


class HalfCauchy(_Folded):
    """|Cauchy(0, σ)|, ``scale`` σ > 0 (module docstring)."""

    _base = Cauchy
    _value_in_scale_dtype = True

    @property
    def mean(self) -> Tensor:
        return _full(self.scale, self._extended_shape(), xp.inf)

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance
