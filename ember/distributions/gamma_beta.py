"""Gamma and Beta: log_prob, entropy and moments differentiable in the concentrations (through
ember's lgamma/digamma ops); draws by Marsaglia–Tsang rejection from ember's seeded generator.

``rsample`` reparameterises a gamma draw implicitly, as torch does (Figurnov, Mohamed & Mnih
2018, "Implicit Reparameterization Gradients"): a rejection sampler's draw is no smooth
function of α, but holding the draw's CDF level P(α, z) = u fixed gives

    dz/dα = −(∂P/∂α) / (∂P/∂z),    ∂P/∂z = z^{α−1} e^{−z} / Γ(α)   (the density)

and Beta's draw X/(X + Y) of two gamma draws inherits it through autograd. Gamma's ``cdf`` is
P(α, β·x), differentiable in x and β, and (unlike torch's) in α.
"""

from __future__ import annotations

import numbers

from .. import backend
from ..backend import errstate, xp
from ..function import Function, unbroadcast
from ..tensor import Tensor, apply
from . import constraints
from ._special import digamma, lgamma, xlogy
from .distribution import broadcast_all
from .exp_family import ExponentialFamily


def standard_gamma(alpha, dtype):
    """Gamma(α, 1) draws, one per element of the array ``alpha`` (Marsaglia & Tsang 2000).

    For α ≥ 1, with d = α − ⅓ and c = 1/√(9d): draw z ~ N(0, 1) and u ~ U[0, 1), put
    v = (1 + c·z)³, accept x = d·v when v > 0 and log u < z²/2 + d − d·v + d·log v (else draw
    again). For α < 1: x = X·u^{1/α} with X ~ Gamma(α + 1, 1). Draws below the smallest
    positive number of ``dtype`` are raised to it (log x stays finite), as torch does.
    """
    gen = backend.generator_or_default(None)
    a = xp.asarray(alpha, dtype=xp.float64).reshape(-1)
    boost = a < 1
    a1 = xp.where(boost, a + 1, a)
    d = a1 - 1 / 3
    c = 1 / xp.sqrt(9 * d)
    x = xp.empty_like(a)
    todo = xp.arange(a.size)
    while todo.size:
        z = gen.standard_normal(todo.shape, xp.float64)
        u = gen.random(todo.shape, xp.float64)
        v = (1 + c[todo] * z) ** 3
        dt = d[todo]
        with errstate(invalid="ignore", divide="ignore"):
            ok = (v > 0) & (xp.log(u) < 0.5 * z * z + dt - dt * v + dt * xp.log(v))
        x[todo[ok]] = dt[ok] * v[ok]
        todo = todo[~ok]
    if boost.any():
        u = gen.random(a.shape, xp.float64)
        with errstate(divide="ignore"):
            x = xp.where(boost, x * xp.exp(xp.log(u) / a), x)
    x = x.astype(dtype).reshape(xp.shape(alpha))
    return xp.maximum(x, xp.finfo(dtype).tiny)


def gamma_p_grad_alpha(a, x):
    """∂P(α, x)/∂α of the regularised lower incomplete gamma P, float64: a central difference
    in α with the step 1e-5·α, of Q = 1 − P where P > ½ (there P rounds towards 1 and its
    differences lose digits); relative error ~1e-9."""
    h = 1e-5 * a
    with errstate(all="ignore"):
        upper = backend.gammainc(a, x) > 0.5
        dP = (backend.gammainc(a + h, x) - backend.gammainc(a - h, x)) / (2 * h)
        dQ = (backend.gammaincc(a + h, x) - backend.gammaincc(a - h, x)) / (2 * h)
    return xp.where(upper, -dQ, dP)


def gamma_density(a, x):
    """∂P(α, x)/∂x = x^{α−1} e^{−x} / Γ(α), the Gamma(α, 1) density, float64."""
    with errstate(all="ignore"):
        return xp.exp((a - 1) * xp.log(x) - x - backend.gammaln(a))


def gamma_draw_grad(alpha, z):
    """dz/dα = −(∂P/∂α)/(∂P/∂z) of Gamma(α, 1) draws z at fixed CDF level (module docstring):
    relative error ~1e-9 (torch's closed-form approximation: ~1e-4). Where the density
    underflows the result is not finite and becomes 0, as torch's does."""
    a, x = xp.asarray(alpha, xp.float64), xp.asarray(z, xp.float64)
    with errstate(all="ignore"):
        d = -gamma_p_grad_alpha(a, x) / gamma_density(a, x)
    return xp.where(xp.isfinite(d), d, 0.0).astype(xp.result_type(alpha))


class GammaCDF(Function):
    """P(α, x) = γ(α, x)/Γ(α), the regularised lower incomplete gamma (torch.special.gammainc);
    ∂P/∂x = x^{α−1} e^{−x}/Γ(α), ∂P/∂α by gamma_p_grad_alpha (torch has no ∂P/∂α)."""

    def forward(self, alpha, x):
        self.alpha, self.x = alpha, x
        return backend.gammainc(alpha, x).astype(xp.result_type(alpha, x))

    def backward(self, gy):
        a, x = xp.asarray(self.alpha, xp.float64), xp.asarray(self.x, xp.float64)
        need_a, need_x = self.needs_input_grad
        ga = gy * gamma_p_grad_alpha(a, x) if need_a else None
        gx = gy * xp.where(x > 0, gamma_density(a, x), 0.0) if need_x else None
        dt = gy.dtype
        ga = None if ga is None else unbroadcast(ga.astype(dt), xp.shape(self.alpha))
        gx = None if gx is None else unbroadcast(gx.astype(dt), xp.shape(self.x))
        return ga, gx


class StandardGammaDraw(Function):
    """z ~ Gamma(α, 1), one draw per element of α;  ∂L/∂α = ∂L/∂z · dz/dα (gamma_draw_grad)."""

    def forward(self, alpha):
        self.alpha = alpha
        self.z = standard_gamma(alpha, alpha.dtype)
        return self.z

    def backward(self, gz):
        return (gz * gamma_draw_grad(self.alpha, self.z),)


def _clip_values(t: Tensor, low, high=None) -> Tensor:
    """t with its values clipped to [low, high] in place, the gradient left as it is (torch
    clamps its reparameterised draws the same way, on the detached value)."""
    xp.clip(t.array, low, high, out=t.array)
    return t


class Gamma(ExponentialFamily):
    """The gamma distribution, ``concentration`` α > 0 and ``rate`` β > 0.

    p(x) = β^α x^{α−1} e^{−βx} / Γ(α)   for x ≥ 0
    log p(x) = α·log β + (α − 1)·log x − β·x − log Γ(α)
    H = α − log β + log Γ(α) + (1 − α)·ψ(α)
    mean = α/β,   mode = max((α − 1)/β, 0),   variance = α/β²
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    _mean_carrier_measure = 0
    has_rsample = True
    _expand_params = {"concentration": 0, "rate": 0}

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number)
        batch_shape = () if scalar else self.concentration.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate**2

    def rsample(self, sample_shape=()) -> Tensor:
        """x = z/β with z ~ Gamma(α, 1), differentiable in α (implicitly, see the module
        docstring) and β; ``sample`` is this draw outside the graph."""
        shape = self._extended_shape(sample_shape)
        z = apply(StandardGammaDraw, self.concentration.expand(shape))
        return _clip_values(z / self.rate.expand(shape), xp.finfo(z.dtype).tiny)

    def cdf(self, value) -> Tensor:
        """P(X ≤ x) = P(α, β·x), the regularised lower incomplete gamma (torch's formula)."""
        x = self._value(value, self.rate.dtype)
        return apply(GammaCDF, self.concentration, self.rate * x)

    def log_prob(self, value) -> Tensor:
        # in the parameters' dtype, as torch's Gamma (a float64 value of a float32 Gamma
        # gives float32)
        x = self._value(value, self.rate.dtype).to(self.rate.dtype)
        alpha, beta = self.concentration, self.rate
        return xlogy(alpha, beta) + xlogy(alpha - 1, x) - beta * x - lgamma(alpha)

    def entropy(self) -> Tensor:
        alpha = self.concentration
        return alpha - self.rate.log() + lgamma(alpha) + (1.0 - alpha) * digamma(alpha)

    # ------------------------------------------------------------ exponential family
    @property
    def _natural_params(self) -> tuple:
        """θ = (α − 1, −β) of t(x) = (log x, x)."""
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        """F(θ₁, θ₂) = log Γ(θ₁ + 1) + (θ₁ + 1)·log(−1/θ₂)."""
        return lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()


class Beta(ExponentialFamily):
    """The beta distribution on [0, 1], ``concentration1`` α > 0 and ``concentration0`` β > 0.

    p(x) = x^{α−1} (1 − x)^{β−1} / B(α, β),   B(α, β) = Γ(α)Γ(β)/Γ(α + β)
    log p(x) = (α − 1)·log x + (β − 1)·log(1 − x) + log Γ(α + β) − log Γ(α) − log Γ(β)
    H = log B(α, β) − (α − 1)·ψ(α) − (β − 1)·ψ(β) + (α + β − 2)·ψ(α + β)
    mean = α/(α + β),   mode = (α − 1)/(α + β − 2),
    variance = α·β / ((α + β)²·(α + β + 1))
    draws: X/(X + Y) with X ~ Gamma(α, 1), Y ~ Gamma(β, 1)
    """

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True
    _expand_params = {"concentration1": 0, "concentration0": 0}

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        scalar = isinstance(concentration1, numbers.Number) and isinstance(
            concentration0, numbers.Number
        )
        batch_shape = () if scalar else self.concentration1.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        """(α − 1)/(α + β − 2) for α, β ≥ 1 (nan at α = β = 1); 0 for α < 1 ≤ β, 1 for β < 1 ≤ α;
        for α, β < 1 (modes at both ends) 1, as torch reports."""
        a1 = (self.concentration1 - 1).clamp(min=0)
        b1 = (self.concentration0 - 1).clamp(min=0)
        with errstate(invalid="ignore"):
            mode = a1 / (a1 + b1)
        both = (self.concentration1.array < 1) & (self.concentration0.array < 1)
        return mode.where(Tensor(~both), Tensor(xp.ones((), mode.dtype)))

    @property
    def variance(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total**2 * (total + 1))

    def rsample(self, sample_shape=()) -> Tensor:
        """X/(X + Y) of the gamma draws X ~ Gamma(α, 1), Y ~ Gamma(β, 1), each reparameterised
        implicitly; autograd carries the ratio. ``sample`` is this draw outside the graph."""
        shape = self._extended_shape(sample_shape)
        x = apply(StandardGammaDraw, self.concentration1.expand(shape))
        y = apply(StandardGammaDraw, self.concentration0.expand(shape))
        eps = xp.finfo(x.dtype)
        return _clip_values(x / (x + y), eps.tiny, 1 - eps.eps)

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.concentration1.dtype)
        a, b = self.concentration1, self.concentration0
        log_norm = lgamma(a + b) - lgamma(a) - lgamma(b)
        return xlogy(a - 1, x) + xlogy(b - 1, 1 - x) + log_norm

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        total = a + b
        log_beta = lgamma(a) + lgamma(b) - lgamma(total)
        return log_beta - (a - 1) * digamma(a) - (b - 1) * digamma(b) + (total - 2) * digamma(total)

    # ------------------------------------------------------------ exponential family
    @property
    def _natural_params(self) -> tuple:
        """θ = (α, β) of t(x) = (log x, log(1 − x)) (carrier −log x(1 − x))."""
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        """F(θ₁, θ₂) = log Γ(θ₁) + log Γ(θ₂) − log Γ(θ₁ + θ₂)."""
        return lgamma(x) + lgamma(y) - lgamma(x + y)
