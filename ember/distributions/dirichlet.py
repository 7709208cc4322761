"""Dirichlet: the distribution of probability vectors on the simplex, as torch's.

For ``concentration`` α = (α_1, …, α_K), α_k > 0, α₀ = Σ_k α_k, on
Δ = {x : x_k ≥ 0, Σ_k x_k = 1}:

    p(x) = Γ(α₀) / Π_k Γ(α_k) · Π_k x_k^{α_k − 1}
    log p(x) = Σ_k (α_k − 1)·log x_k + log Γ(α₀) − Σ_k log Γ(α_k)   (xlogy: 0·log 0 = 0)
    H = Σ_k log Γ(α_k) − log Γ(α₀) − (K − α₀)·ψ(α₀) − Σ_k (α_k − 1)·ψ(α_k)
    mean_k = α_k/α₀,   variance_k = α_k·(α₀ − α_k) / (α₀²·(α₀ + 1))
    mode = (α − 1)₊ / Σ_k (α_k − 1)₊   (= (α − 1)/(α₀ − K) when every α_k ≥ 1)
    KL(p ‖ q) = log Γ(α₀) − log Γ(β₀) − Σ_k (log Γ(α_k) − log Γ(β_k))
                + Σ_k (α_k − β_k)·(ψ(α_k) − ψ(α₀))   (q with concentration β; kl.py)

Draws are reparameterised through gamma draws: x = z/Σ_k z_k with z_k ~ Gamma(α_k, 1)
independent. Each z_k is a StandardGammaDraw, whose backward gives dz_k/dα_k implicitly at
fixed CDF level (gamma_beta.py's module docstring); autograd carries the normalisation, so
∂x_i/∂α_j = (δ_ij − x_i)·(dz_j/dα_j)/Σ_k z_k. (torch differentiates the draw through the
Beta marginals instead, ``_dirichlet_grad``: another unbiased pathwise gradient, so draws'
gradients differ from torch's one by one while their expectations agree.)
"""

from __future__ import annotations

from ..backend import errstate, xp
from ..tensor import Tensor, apply
from . import constraints
from ._special import digamma, lgamma, xlogy
from .distribution import as_float_tensor
from .exp_family import ExponentialFamily
from .gamma_beta import StandardGammaDraw, _clip_values

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution on the (K − 1)-simplex, ``concentration`` α of shape
    (…, K), K ≥ 1, every α_k > 0: batch_shape = α.shape[:-1], event_shape = (K,). The
    equations are in the module docstring.
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True
    _expand_params = {"concentration": 1}

    def __init__(self, concentration, validate_args=None):
        concentration = as_float_tensor(concentration)
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def _total(self) -> Tensor:
        """α₀ = Σ_k α_k, keeping the event dim (…, 1)."""
        return self.concentration.sum(-1, keepdim=True)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self._total()

    @property
    def mode(self) -> Tensor:
        """(α − 1)₊ / Σ_k (α_k − 1)₊, torch's formula: nan where every α_k ≤ 1 but some equals
        1 (0/0). Where every α_k < 1 the density is unbounded at every vertex; torch reports
        the vertex one_hot(argmax) of its all-nan row, which is always e_1 (the first
        vertex), and so does this (no gradient reaches α there)."""
        am1 = (self.concentration - 1).clamp(min=0)
        all_low = (self.concentration.array < 1).all(-1, keepdims=True)
        one = Tensor(xp.ones((), am1.dtype))
        total = am1.sum(-1, keepdim=True).where(Tensor(~all_low), one)  # no 0/0 in the graph
        with errstate(invalid="ignore"):
            mode = am1 / total
        vertex = xp.zeros(am1.shape[-1:], am1.dtype)
        vertex[0] = 1
        return mode.where(Tensor(~all_low), Tensor(vertex))

    @property
    def variance(self) -> Tensor:
        a, a0 = self.concentration, self._total()
        return a * (a0 - a) / (a0**2 * (a0 + 1))

    def rsample(self, sample_shape=()) -> Tensor:
        """x = z/Σ_k z_k with z_k ~ Gamma(α_k, 1) (StandardGammaDraw, implicit dz/dα), the
        ratio differentiated by autograd; clipped into [tiny, 1 − eps] on the values only, as
        Beta's draws are. ``sample`` draws the same values (the base class's no_grad)."""
        shape = self._extended_shape(sample_shape)
        z = apply(StandardGammaDraw, self.concentration.expand(shape))
        eps = xp.finfo(z.dtype)
        return _clip_values(z / z.sum(-1, keepdim=True), eps.tiny, 1 - eps.eps)

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.concentration.dtype)
        a = self.concentration
        return xlogy(a - 1, x).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1)

    def entropy(self) -> Tensor:
        a = self.concentration
        k = a.shape[-1]
        a0 = a.sum(-1)
        return (
            lgamma(a).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0) - ((a - 1) * digamma(a)).sum(-1)
        )

    # ------------------------------------------------------------ exponential family
    @property
    def _natural_params(self) -> tuple:
        """θ = α of t(x) = log x (carrier −Σ_k log x_k)."""
        return (self.concentration,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """F(θ) = Σ_k log Γ(θ_k) − log Γ(Σ_k θ_k)."""
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))
