"""LKJCholesky: the LKJ distribution over correlation matrices Ω = L·Lᵀ, on their lower
Cholesky factors L (Lewandowski, Kurowicka & Joe 2009), with torch's density and sampler.

    p(Ω | η) ∝ det(Ω)^{η−1},   so on L (the Jacobian of Ω ↦ L folded in):
    log p(L) = Σ_{i=2}^{d} (2(η − 1) + d − i)·log L_ii − log Z
    log Z = ½(d − 1)·log π + log Γ_{d−1}(α − ½) − (d − 1)·log Γ(α),   α = η + ½(d − 1)

with Γ_p the multivariate gamma: log Γ_p(x) = ¼p(p − 1)·log π + Σ_{j=1}^{p} log Γ(x + (1 − j)/2).

Draws (the onion method, as torch's): row i of L is √yᵢ·uᵢ on its first i entries, uᵢ
uniform on the unit sphere (a normalised normal draw), yᵢ ~ Beta(kᵢ + ½, η + ½(d − 2) − ½kᵢ)
with k = (0, 0, 1, …, d − 2) (row 0 is e₁), and L_ii = √(1 − Σ_{j<i} L_ij²). No rsample, as torch.
"""

from __future__ import annotations

import math

from ..backend import errstate, xp
from ..tensor import Tensor
from ..torch_special_linalg import mvlgamma  # log Γ_p, torch.mvlgamma
from . import constraints
from ._special import lgamma
from .distribution import Distribution, broadcast_all, draw_normal
from .gamma_beta import Beta

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """The LKJ distribution on d×d correlation Cholesky factors, ``concentration`` η > 0
    (module docstring); η = 1 is uniform over correlation matrices, η > 1 favours the
    identity."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(
                f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}."
            )
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        super().__init__(self.concentration.shape, (dim, dim), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._batch_shape = tuple(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape))
        return new

    def _beta(self) -> Beta:
        eta = self.concentration
        k = xp.concatenate([xp.zeros(1), xp.arange(self.dim - 1)]).astype(eta.dtype)
        marginal = eta + 0.5 * (self.dim - 2)
        return Beta(Tensor(k + 0.5), marginal.unsqueeze(-1) - Tensor(0.5 * k))

    def sample(self, sample_shape=()) -> Tensor:
        y = self._beta().sample(sample_shape).array[..., None]
        u = xp.tril(draw_normal(self._extended_shape(sample_shape), y.dtype), -1)
        with errstate(invalid="ignore", divide="ignore"):
            u = u / xp.sqrt((u * u).sum(-1, keepdims=True))
        u[..., 0, :] = 0.0
        w = xp.sqrt(y) * u
        diag = xp.sqrt(xp.maximum(1 - (w * w).sum(-1), xp.finfo(w.dtype).tiny))
        idx = xp.arange(self.dim)
        w[..., idx, idx] += diag
        return Tensor(w)

    def log_prob(self, value) -> Tensor:
        L = self._value(value, self.concentration.dtype)
        d, eta = self.dim, self.concentration
        diag = L.diagonal(dim1=-2, dim2=-1)[..., 1:]
        i = Tensor(xp.arange(2, d + 1).astype(eta.dtype))
        order = 2 * (eta - 1).unsqueeze(-1) + d - i
        unnormalised = (order * diag.log()).sum(-1)
        dm1 = d - 1
        alpha = eta + 0.5 * dm1
        log_z = 0.5 * dm1 * math.log(math.pi) + mvlgamma(alpha - 0.5, dm1) - lgamma(alpha) * dm1
        return unnormalised - log_z
