"""LowRankMultivariateNormal: N(μ, W·Wᵀ + D) with a d×m factor W (m ≪ d) and a positive
diagonal D, in O(d·m²) per density instead of O(d³) (torch.distributions').

Everything goes through the m×m capacitance C = I + Wᵀ·D⁻¹·W, L_C = cholesky(C):

    log |Σ| = 2·Σ log diag L_C + Σ log D                  (matrix determinant lemma)
    xᵀΣ⁻¹x = Σ x²/D − ‖L_C⁻¹·Wᵀ·D⁻¹·x‖²                    (Woodbury identity)
    log p(x) = −½·(d·log 2π + log |Σ| + (x − μ)ᵀΣ⁻¹(x − μ)),   H = ½·(d·(1 + log 2π) + log |Σ|)
    rsample: x = μ + W·ε_W + √D·ε_D,  ε_W ~ N(0, I_m), ε_D ~ N(0, I_d)
"""

from __future__ import annotations

import math

from ..backend import xp
from ..tensor import Tensor
from . import constraints
from ._special import cholesky, diagonal, solve_tril
from .distribution import Distribution, as_float_tensor, draw_normal, lazy_property
from .multivariate import batch_mahalanobis

__all__ = ["LowRankMultivariateNormal"]

_LOG_2PI = math.log(2 * math.pi)


def _batch_mv(m: Tensor, v: Tensor) -> Tensor:
    return (m @ v.unsqueeze(-1)).squeeze(-1)


def _eye(n: int, dtype) -> Tensor:
    return Tensor(xp.eye(n, dtype=dtype))


def _capacitance_tril(W: Tensor, D: Tensor) -> Tensor:
    """cholesky(I + Wᵀ·D⁻¹·W)."""
    Wt_Dinv = W.mT / D.unsqueeze(-2)
    return cholesky(Wt_Dinv @ W + _eye(W.shape[-1], W.dtype))


def _lowrank_logdet(W: Tensor, D: Tensor, C_tril: Tensor) -> Tensor:
    return 2 * diagonal(C_tril).log().sum(-1) + D.log().sum(-1)


def _lowrank_mahalanobis(W: Tensor, D: Tensor, x: Tensor, C_tril: Tensor) -> Tensor:
    Wt_Dinv = W.mT / D.unsqueeze(-2)
    return (x**2 / D).sum(-1) - batch_mahalanobis(C_tril, _batch_mv(Wt_Dinv, x))


class LowRankMultivariateNormal(Distribution):
    """N(μ, W·Wᵀ + diag(D)), ``loc`` μ (…, d), ``cov_factor`` W (…, d, m), ``cov_diag`` D
    (…, d) > 0, batch dims broadcast (module docstring)."""

    arg_constraints = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }
    support = constraints.real_vector
    _expand_params = {"loc": 1, "cov_diag": 1, "cov_factor": 2}
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args: bool | None = None):
        loc = as_float_tensor(loc)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        cov_factor = as_float_tensor(cov_factor, loc.dtype)
        cov_diag = as_float_tensor(cov_diag, loc.dtype)
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.ndim < 2:
            raise ValueError(
                "cov_factor must be at least two-dimensional, with optional leading batch"
                " dimensions"
            )
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(
                f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m"
            )
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        try:
            shape = xp.broadcast_shapes(
                tuple(loc.shape) + (1,), tuple(cov_factor.shape), tuple(cov_diag.shape) + (1,)
            )
        except ValueError:
            raise ValueError(
                f"Incompatible batch shapes: loc {tuple(loc.shape)}, cov_factor"
                f" {tuple(cov_factor.shape)}, cov_diag {tuple(cov_diag.shape)}"
            ) from None
        vec_shape = shape[:-1]
        self.loc = loc if loc.shape == vec_shape else loc.expand(vec_shape)
        self.cov_factor = cov_factor if cov_factor.shape == shape else cov_factor.expand(shape)
        self.cov_diag = cov_diag if cov_diag.shape == vec_shape else cov_diag.expand(vec_shape)
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)
        super().__init__(vec_shape[:-1], event_shape, validate_args=validate_args)

    def _full(self, t: Tensor, event_dims: int) -> Tensor:
        shape = self._batch_shape + self._event_shape * event_dims
        return t if t.shape == shape else t.expand(shape)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return self._full((W**2).sum(-1) + D, 1)

    @lazy_property
    def scale_tril(self) -> Tensor:
        """√D·cholesky(I + D^{-½}·W·Wᵀ·D^{-½}) (torch's route: the d×d factor, computed once)."""
        n = self._event_shape[0]
        d_sqrt = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        Dinvsqrt_W = self._unbroadcasted_cov_factor / d_sqrt
        K = Dinvsqrt_W @ Dinvsqrt_W.mT + _eye(n, d_sqrt.dtype)
        return self._full(d_sqrt * cholesky(K), 2)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        W = self._unbroadcasted_cov_factor
        return self._full(W @ W.mT + self._unbroadcasted_cov_diag.diag_embed(), 2)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """D⁻¹ − AᵀA with A = L_C⁻¹·Wᵀ·D⁻¹ (Woodbury)."""
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        A = solve_tril(self._capacitance_tril, W.mT / D.unsqueeze(-2))
        return self._full(D.reciprocal().diag_embed() - A.mT @ A, 2)

    def _factors(self) -> tuple[Tensor, Tensor, Tensor]:
        """W, D and L_C, unbroadcast."""
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return W, D, self._capacitance_tril

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        w_shape = shape[:-1] + tuple(self.cov_factor.shape[-1:])
        eps_W = Tensor(draw_normal(w_shape, self.loc.dtype))
        eps_D = Tensor(draw_normal(shape, self.loc.dtype))
        return (
            self.loc
            + _batch_mv(self._unbroadcasted_cov_factor, eps_W)
            + self._unbroadcasted_cov_diag.sqrt() * eps_D
        )

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.loc.dtype)
        W, D, C = self._factors()
        M = _lowrank_mahalanobis(W, D, x - self.loc, C)
        log_det = _lowrank_logdet(W, D, C)
        return -0.5 * (self._event_shape[0] * _LOG_2PI + log_det + M)

    def entropy(self) -> Tensor:
        W, D, C = self._factors()
        H = 0.5 * (self._event_shape[0] * (1.0 + _LOG_2PI) + _lowrank_logdet(W, D, C))
        return H if not self._batch_shape else self._full(H, 0)
