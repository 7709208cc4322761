"""FisherSnedecor (the F distribution) and GeneralizedPareto, with torch's formulas.

FisherSnedecor(d₁, d₂):   X = (G₁/d₁)/(G₂/d₂) drawn as G₁'/G₂',  G'ᵢ ~ Gamma(dᵢ/2, dᵢ)
    log p(x) = log Γ((d₁ + d₂)/2) − log Γ(d₁/2) − log Γ(d₂/2) + (d₁/2)·log(d₁/d₂)
               + (d₁/2 − 1)·log x − ((d₁ + d₂)/2)·log(1 + d₁x/d₂)
    mean d₂/(d₂ − 2) (nan for d₂ ≤ 2),   mode (d₁ − 2)/d₁ · d₂/(d₂ + 2) (nan for d₁ ≤ 2),
    variance 2d₂²(d₁ + d₂ − 2)/(d₁(d₂ − 2)²(d₂ − 4)) (nan for d₂ ≤ 4)
GeneralizedPareto(μ, σ, ξ):   z = (x − μ)/σ
    log p(x) = −log σ − (1/ξ + 1)·log(1 + ξz)      (ξ = 0: −log σ − z)
    log S(x) = −log(1 + ξz)/ξ   (ξ = 0: −z),   F(x) = 1 − S(x)
    F⁻¹(u) = μ + σ·((1 − u)^{−ξ} − 1)/ξ   (ξ = 0: μ − σ·log(1 − u))
    support [μ, μ − σ/ξ] for ξ < 0, [μ, ∞) otherwise;   mean μ + σ/(1 − ξ) (nan for ξ ≥ 1),
    mode μ,   variance σ²/((1 − ξ)²(1 − 2ξ)) (nan for ξ ≥ ½),   H = log σ + ξ + 1
ξ counts as 0 where torch.isclose(ξ, 0) does (|ξ| ≤ 1e-8); elsewhere ξ stands in for 1 there so
that both branches stay finite.
"""

from __future__ import annotations

import numbers

from ..backend import errstate, xp
from ..tensor import Tensor
from . import constraints
from ._special import lgamma
from .distribution import Distribution, broadcast_all, draw_uniform
from .gamma_beta import Gamma, _clip_values

__all__ = ["FisherSnedecor", "GeneralizedPareto"]


def _where(cond, a: Tensor, b) -> Tensor:
    if not isinstance(b, Tensor):
        b = Tensor(xp.asarray(b, a.dtype))
    return a.where(Tensor(xp.asarray(cond)), b)


def _batch_shape(*params, tensors) -> tuple:
    return () if all(isinstance(p, numbers.Number) for p in params) else tensors[0].shape


class FisherSnedecor(Distribution):
    """The Fisher–Snedecor (F) distribution, ``df1`` d₁ > 0 and ``df2`` d₂ > 0 (module
    docstring); draws are reparameterised through the two gamma draws."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True
    _expand_params = {"df1": 0, "df2": 0}

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        batch_shape = _batch_shape(df1, df2, tensors=(self.df1,))
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def _gammas(self):
        return Gamma(self.df1 * 0.5, self.df1), Gamma(self.df2 * 0.5, self.df2)

    @property
    def mean(self) -> Tensor:
        valid = self.df2.array > 2
        d2 = _where(valid, self.df2, 3.0)
        return _where(valid, d2 / (d2 - 2), xp.nan)

    @property
    def mode(self) -> Tensor:
        valid = self.df1.array > 2
        d1 = _where(valid, self.df1, 3.0)
        return _where(valid, (d1 - 2) / d1 * self.df2 / (self.df2 + 2), xp.nan)

    @property
    def variance(self) -> Tensor:
        valid = self.df2.array > 4
        d1, d2 = self.df1, _where(valid, self.df2, 5.0)
        v = 2 * d2**2 * (d1 + d2 - 2) / (d1 * (d2 - 2) ** 2 * (d2 - 4))
        return _where(valid, v, xp.nan)

    def rsample(self, sample_shape=()) -> Tensor:
        """G₁/G₂ of the gamma draws (each with its implicit reparameterisation gradient),
        clipped below at the smallest positive float, as torch."""
        shape = self._extended_shape(sample_shape)
        g1, g2 = self._gammas
        x1 = g1.rsample(sample_shape).reshape(shape)
        x2 = g2.rsample(sample_shape).reshape(shape)
        return _clip_values(x1 / x2, xp.finfo(x1.dtype).tiny)

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.df1.dtype)
        ct1, ct2 = self.df1 * 0.5, self.df2 * 0.5
        ct3 = self.df1 / self.df2
        t1 = lgamma(ct1 + ct2) - lgamma(ct1) - lgamma(ct2)
        t2 = ct1 * ct3.log() + (ct1 - 1) * x.log()
        t3 = (ct1 + ct2) * (ct3 * x).log1p()
        return t1 + t2 - t3


class GeneralizedPareto(Distribution):
    """The generalised Pareto distribution, ``loc`` μ, ``scale`` σ > 0 and ``concentration``
    ξ (module docstring); draws are F⁻¹(u), u ~ U[0, 1)."""

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True
    _expand_params = {"loc": 0, "scale": 0, "concentration": 0}

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        batch_shape = _batch_shape(loc, scale, concentration, tensors=(self.loc,))
        super().__init__(batch_shape, validate_args=validate_args)

    def _safe_concentration(self):
        """(ξ ≈ 0 mask, ξ with 1 where it is ≈ 0)."""
        c = self.concentration
        eq_zero = xp.isclose(c.array, 0.0)
        return eq_zero, _where(eq_zero, Tensor(xp.ones_like(c.array)), c)

    def _z(self, x: Tensor) -> Tensor:
        return (x - self.loc) / self.scale

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.icdf(Tensor(draw_uniform(shape, self.loc.dtype)))

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.loc.dtype)
        z = self._z(x)
        eq_zero, c = self._safe_concentration()
        y = 1 / c + Tensor(xp.ones_like(z.array))
        with errstate(invalid="ignore", divide="ignore"):
            nonzero = _where(y.array == 0, y, y * (c * z).log1p())
        nonzero, z = broadcast_all(nonzero, z)
        return -self.scale.log() - _where(eq_zero, z, nonzero)

    def log_survival_function(self, value) -> Tensor:
        x = self._value(value, self.loc.dtype)
        z = self._z(x)
        eq_zero, c = self._safe_concentration()
        with errstate(invalid="ignore", divide="ignore"):
            nonzero = -(c * z).log1p() / c
        return _where(eq_zero, -z, nonzero)

    def log_cdf(self, value) -> Tensor:
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value) -> Tensor:
        u = value if isinstance(value, Tensor) else Tensor(xp.asarray(value, self.loc.dtype))
        eq_zero, c = self._safe_concentration()
        log_u = (-u).log1p()
        nonzero = self.loc + self.scale / c * (-c * log_u).expm1()
        zero = self.loc - self.scale * log_u
        return _where(eq_zero, zero, nonzero)

    @property
    def mean(self) -> Tensor:
        valid = self.concentration.array < 1
        c = _where(valid, self.concentration, 0.5)
        return _where(valid, self.loc + self.scale / (1 - c), xp.nan)

    @property
    def variance(self) -> Tensor:
        valid = self.concentration.array < 0.5
        c = _where(valid, self.concentration, 0.25)
        return _where(valid, self.scale**2 / ((1 - c) ** 2 * (1 - 2 * c)), xp.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    def entropy(self) -> Tensor:
        h = self.scale.log() + self.concentration + 1
        return h if h.shape == self._batch_shape else h.expand(self._batch_shape)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        c = self.concentration
        with errstate(divide="ignore"):
            upper = _where(c.array < 0, self.loc - self.scale / c, xp.inf)
        return constraints.interval(self.loc, upper)
