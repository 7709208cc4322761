"""VonMises: the circular normal distribution on angles (torch.distributions.VonMises).

With ``loc`` μ (any real; read modulo 2π) and ``concentration`` κ > 0:

    p(x) = exp(κ·cos(x − μ)) / (2π·I₀(κ))
    log p(x) = κ·cos(x − μ) − log 2π − log I₀(κ)
    mean = mode = μ (circular),   variance = 1 − I₁(κ)/I₀(κ) (circular)

log I₀ and log I₁ are torch's polynomial approximations (Abramowitz & Stegun 9.8.1–9.8.4,
relative error ~1e-7), composed from Tensor ops so gradients reach κ and agree with
torch's. Draws: Best & Fisher's (1979) rejection sampler, in float64, as torch; no rsample
(torch has none).
"""

from __future__ import annotations

import math

from ..backend import errstate, xp
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, broadcast_all, draw_uniform, lazy_property

__all__ = ["VonMises"]

_I0_COEF_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_COEF_LARGE = [
    0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2,
    -0.2057706e-1, 0.2635537e-1, -0.1647633e-1, 0.392377e-2,
]  # fmt: skip
_I1_COEF_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3]
_I1_COEF_LARGE = [
    0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1,
    0.2282967e-1, -0.2895312e-1, 0.1787654e-1, -0.420059e-2,
]  # fmt: skip
_COEF_SMALL = [_I0_COEF_SMALL, _I1_COEF_SMALL]
_COEF_LARGE = [_I0_COEF_LARGE, _I1_COEF_LARGE]


def _eval_poly(y: Tensor, coef) -> Tensor:
    """Σ_i c_i·yⁱ by Horner's rule."""
    result = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def log_modified_bessel_fn(x: Tensor, order: int = 0) -> Tensor:
    """log I_order(x) for x > 0, order 0 or 1 (module docstring): the small-x polynomial in
    (x/3.75)² below 3.75, x − ½·log x + log(polynomial in 3.75/x) above."""
    if order not in (0, 1):
        raise ValueError(f"order must be 0 or 1, got {order}")
    y = (x / 3.75) ** 2
    small = _eval_poly(y, _COEF_SMALL[order])
    if order == 1:
        small = x.abs() * small
    with errstate(divide="ignore", invalid="ignore"):  # each branch is used where it is valid
        small = small.log()
        large = x - 0.5 * x.log() + _eval_poly(3.75 / x, _COEF_LARGE[order]).log()
    return small.where(Tensor(x.array < 3.75), large)


class VonMises(Distribution):
    """The von Mises distribution, ``loc`` μ (radians) and ``concentration`` κ > 0 (module
    docstring)."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False
    _expand_params = {"loc": 0, "concentration": 0}

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, (), validate_args=validate_args)

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.loc.dtype)
        lp = self.concentration * (x - self.loc).cos()
        return lp - math.log(2 * math.pi) - log_modified_bessel_fn(self.concentration, 0)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        k = self.concentration
        return 1 - (log_modified_bessel_fn(k, 1) - log_modified_bessel_fn(k, 0)).exp()

    def sample(self, sample_shape=()) -> Tensor:
        """Best & Fisher (1979): with r = (1 + ρ²)/(2ρ), ρ = (τ − √(2τ))/(2κ),
        τ = 1 + √(1 + 4κ²), draw u₁, u₂, u₃ ~ U[0, 1), put z = cos(π·u₁),
        f = (1 + r·z)/(r + z), c = κ·(r − f), and accept x = sign(u₃ − ½)·acos f when
        c·(2 − c) > u₂ or log(c/u₂) + 1 − c ≥ 0; the draw is (x + μ) wrapped into [−π, π).
        float64 throughout (small κ hangs in float32, torch's note)."""
        shape = self._extended_shape(sample_shape)
        loc = xp.broadcast_to(self.loc.array.astype(xp.float64), shape)
        kappa = xp.broadcast_to(self.concentration.array.astype(xp.float64), shape)
        with errstate(all="ignore"):
            tau = 1 + xp.sqrt(1 + 4 * kappa**2)
            rho = (tau - xp.sqrt(2 * tau)) / (2 * kappa)
            r = xp.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho**2) / (2 * rho))
            x = xp.zeros(shape)
            done = xp.zeros(shape, dtype=bool)
            while not done.all():
                u = draw_uniform((3,) + tuple(shape), xp.float64)
                z = xp.cos(math.pi * u[0])
                f = (1 + r * z) / (r + z)
                c = kappa * (r - f)
                accept = ((c * (2 - c) - u[1]) > 0) | (xp.log(c / u[1]) + 1 - c >= 0)
                take = accept & ~done
                x = xp.where(take, xp.sign(u[2] - 0.5) * xp.arccos(f), x)
                done = done | accept
        wrapped = (x + math.pi + loc) % (2 * math.pi) - math.pi
        return Tensor(wrapped.astype(self.loc.dtype))
