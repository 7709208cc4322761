"""MultivariateNormal and Independent: distributions whose events are vectors."""

from __future__ import annotations

import math

from ..backend import xp
from ..tensor import Tensor
from . import constraints
from ._special import cholesky, diagonal, inverse, solve_tril
from .distribution import Distribution, as_float_tensor, draw_normal, lazy_property, sum_rightmost

_LOG_2PI = math.log(2 * math.pi)


def _expand(t: Tensor, shape: tuple) -> Tensor:
    return t if t.shape == shape else t.expand(shape)


def batch_mahalanobis(L: Tensor, v: Tensor) -> Tensor:
    """vᵀ·(L·Lᵀ)⁻¹·v = ‖L⁻¹·v‖² over the last dim of v, batch dims broadcast."""
    y = solve_tril(L, v.unsqueeze(-1)).squeeze(-1)
    return (y * y).sum(-1)


def scale_tril_of(name: str, m: Tensor) -> Tensor:
    """L with L·Lᵀ = Σ from the matrix parameter ``name`` given (one_matrix): m itself for
    scale_tril, the Cholesky factor of Σ or of Σ⁻¹ for the other two (MultivariateNormal and
    Wishart alike); a matrix that is not positive definite is a ValueError naming it."""
    if name == "scale_tril":
        return m
    try:
        return cholesky(m if name == "covariance_matrix" else inverse(m))
    except xp.linalg.LinAlgError:
        raise ValueError(
            f"{name} is not positive definite (its Cholesky factorisation failed)"
        ) from None


def one_matrix(covariance_matrix, precision_matrix, scale_tril) -> tuple:
    """(name, matrix) of the one matrix parameter given, as MultivariateNormal and Wishart
    take it: exactly one of the three (torch's rule)."""
    given = [
        (name, m)
        for name, m in (
            ("covariance_matrix", covariance_matrix),
            ("precision_matrix", precision_matrix),
            ("scale_tril", scale_tril),
        )
        if m is not None
    ]
    if len(given) != 1:
        raise ValueError(
            "Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified."
        )
    return given[0]


class MultivariateNormal(Distribution):
    """The multivariate normal distribution N(μ, Σ) on ℝ^d, ``loc`` μ (…, d) and exactly one
    of ``covariance_matrix`` Σ, ``precision_matrix`` Σ⁻¹ or ``scale_tril`` L (Σ = L·Lᵀ, L
    lower triangular with a positive diagonal), each (…, d, d); batch dims broadcast.

        log p(x) = −½·(d·log 2π + ‖L⁻¹(x − μ)‖²) − Σᵢ log Lᵢᵢ
        H = ½·d·(1 + log 2π) + Σᵢ log Lᵢᵢ
        mean = mode = μ,   variance = diag Σ = Σⱼ Lᵢⱼ²
        rsample: x = μ + L·ε,  ε ~ N(0, I_d)

    L is Cholesky(Σ) (or Cholesky((Σ⁻¹)⁻¹)), differentiable, so gradients reach whichever
    matrix was given.
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True
    _expand_params = {"loc": 1, "covariance_matrix": 2, "precision_matrix": 2, "scale_tril": 2}

    def __init__(
        self,
        loc,
        covariance_matrix=None,
        precision_matrix=None,
        scale_tril=None,
        validate_args=None,
    ):
        loc = as_float_tensor(loc)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        name, m = one_matrix(covariance_matrix, precision_matrix, scale_tril)
        m = as_float_tensor(m, loc.dtype if not isinstance(m, Tensor) else None)
        if m.ndim < 2:
            raise ValueError(
                f"{name} must be at least two-dimensional, with optional leading batch dimensions"
            )
        d = loc.shape[-1]
        if m.shape[-2:] != (d, d):
            shape = tuple(m.shape)
            raise ValueError(
                f"{name} must be of shape (..., {d}, {d}) for a loc of size {d}: {shape}"
            )
        batch_shape = xp.broadcast_shapes(m.shape[:-2], loc.shape[:-1])
        setattr(self, name, _expand(m, batch_shape + (d, d)))
        self.loc = _expand(loc, batch_shape + (d,))
        super().__init__(batch_shape, (d,), validate_args=validate_args)
        self._unbroadcasted_scale_tril = scale_tril_of(name, m)

    def _matrix_shape(self) -> tuple:
        return self._batch_shape + self._event_shape + self._event_shape

    @lazy_property
    def scale_tril(self) -> Tensor:
        return _expand(self._unbroadcasted_scale_tril, self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return _expand(L @ L.mT, self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return _expand(inverse(L @ L.mT), self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return _expand((L * L).sum(-1), self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = Tensor(draw_normal(shape, self.loc.dtype))
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        return diagonal(self._unbroadcasted_scale_tril).log().sum(-1)

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.loc.dtype)
        d = self._event_shape[0]
        m = batch_mahalanobis(self._unbroadcasted_scale_tril, x - self.loc)
        return -0.5 * (d * _LOG_2PI + m) - self._half_log_det()

    def entropy(self) -> Tensor:
        d = self._event_shape[0]
        h = 0.5 * d * (1.0 + _LOG_2PI) + self._half_log_det()
        return _expand(h, self._batch_shape) if self._batch_shape else h


class Independent(Distribution):
    """Reinterpret the rightmost ``reinterpreted_batch_ndims`` batch dims of a distribution
    as event dims: p(x) = Πᵢ p_base(xᵢ) over those dims.

        log p(x) = Σ_{event dims} log p_base(x),   H = Σ_{event dims} H_base

    E.g. Independent(Normal(μ, σ), 1) with μ, σ of shape (B, d) is a diagonal Gaussian with
    batch shape (B,) and event shape (d,).
    """

    arg_constraints: dict = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims: int, validate_args=None):
        n = int(reinterpreted_batch_ndims)
        base = base_distribution
        if n < 0 or n > len(base.batch_shape):
            raise ValueError(
                "Expected 0 <= reinterpreted_batch_ndims <= len(base_distribution.batch_shape),"
                f" actual {n} vs {len(base.batch_shape)}"
            )
        shape = base.batch_shape + base.event_shape
        event_dim = n + len(base.event_shape)
        cut = len(shape) - event_dim
        self.base_dist = base
        self.reinterpreted_batch_ndims = n
        super().__init__(shape[:cut], shape[cut:], validate_args=validate_args)

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self) -> bool:
        return self.reinterpreted_batch_ndims == 0 and self.base_dist.has_enumerate_support

    @property
    def support(self):
        s = self.base_dist.support
        n = self.reinterpreted_batch_ndims
        return constraints.independent(s, n) if n else s

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        n = self.reinterpreted_batch_ndims
        base_batch = self.base_dist.batch_shape
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.base_dist = self.base_dist.expand(batch_shape + base_batch[len(base_batch) - n :])
        new._batch_shape = batch_shape
        return new

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def sample(self, sample_shape=()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value) -> Tensor:
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self) -> Tensor:
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        if self.reinterpreted_batch_ndims > 0:
            raise NotImplementedError("Enumeration over cartesian product is not implemented")
        return self.base_dist.enumerate_support(expand=expand)

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
