"""Wishart: the distribution of X = Σᵢ₌₁^ν zᵢ·zᵢᵀ, zᵢ ~ N(0, Σ), on p×p positive-definite
matrices, with ν = ``df`` > p − 1 real (torch.distributions.Wishart).

    log p(X) = −ν·(½p·log 2 + log|L|) − log Γ_p(ν/2) + ½(ν − p − 1)·log|X| − ½·tr(Σ⁻¹X)
    H = (p + 1)·(½p·log 2 + log|L|) + log Γ_p(ν/2) − ½(ν − p − 1)·ψ_p(ν/2) + ½νp
    mean = ν·Σ,   mode = (ν − p − 1)·Σ (nan where ν ≤ p + 1),
    variance of X_ij = ν·(Σ_ij² + Σ_ii·Σ_jj)

with Σ = L·Lᵀ (L lower triangular, log|L| = Σᵢ log L_ii), Γ_p the multivariate gamma
(log Γ_p(x) = ¼p(p − 1)·log π + Σⱼ₌₀^{p−1} log Γ(x − j/2)) and ψ_p(x) = Σⱼ₌₀^{p−1} ψ(x − j/2)
its logarithmic derivative.

Draws by the Bartlett decomposition, as torch: X = (L·A)(L·A)ᵀ with A lower triangular,
A_ii = √cᵢ, cᵢ ~ χ²(ν − i) (i = 0 … p − 1; clamped above eps), A_ij ~ N(0, 1) below the
diagonal. ``rsample`` is differentiable in Σ and, through the chi-squared draws' implicit
reparameterisation gradient (ember's Gamma.rsample), in ν.

As an exponential family: θ = (−½Σ⁻¹, ½(ν − p − 1)) of t(X) = (X, log|X|), with
F(θ₁, θ₂) = (θ₂ + ½(p + 1))·(p·log 2 − log|−2θ₁|) + log Γ_p(θ₂ + ½(p + 1)); the KL between
two Wisharts is the generic Bregman one (exp_family.py), as torch has no closed form.
"""

from __future__ import annotations

import math
import numbers
import warnings

from .. import linalg
from ..backend import xp
from ..tensor import Tensor
from ..torch_special_linalg import mvlgamma
from . import constraints
from ._special import diagonal, digamma, solve_tril
from .continuous_more import Chi2
from .distribution import _size, as_float_tensor, draw_normal, lazy_property
from .exp_family import ExponentialFamily
from .multivariate import one_matrix, scale_tril_of

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def mvdigamma(x: Tensor, p: int) -> Tensor:
    """ψ_p(x) = Σⱼ₌₀^{p−1} ψ(x − j/2), for x > (p − 1)/2."""
    if not xp.all(x.array > (p - 1) / 2):
        raise ValueError("Wrong domain for multivariate digamma function.")
    return digamma(x.unsqueeze(-1) - Tensor(xp.arange(p).astype(x.dtype) / 2)).sum(-1)


def _expand(t: Tensor, shape: tuple) -> Tensor:
    return t if t.shape == shape else t.expand(shape)


class Wishart(ExponentialFamily):
    """The Wishart distribution (module docstring), ``df`` ν > p − 1 and exactly one of
    ``covariance_matrix`` Σ, ``precision_matrix`` Σ⁻¹ or ``scale_tril`` L, each (…, p, p);
    batch dims of ν and the matrix broadcast. Everything is computed from L (the Cholesky
    factor of the matrix given, differentiable)."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0
    _expand_params = {
        "df": 0,
        "covariance_matrix": 2,
        "precision_matrix": 2,
        "scale_tril": 2,
        "_unbroadcasted_scale_tril": 2,
    }

    @property
    def arg_constraints(self) -> dict:
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self.event_shape[-1] - 1),
        }

    def __init__(
        self,
        df,
        covariance_matrix=None,
        precision_matrix=None,
        scale_tril=None,
        validate_args=None,
    ):
        name, m = one_matrix(covariance_matrix, precision_matrix, scale_tril)
        m = as_float_tensor(m)
        if m.ndim < 2:
            raise ValueError(
                "scale_tril must be at least two-dimensional, with optional leading batch"
                " dimensions"
            )
        p = m.shape[-1]
        if m.shape[-2] != p:
            raise ValueError(f"{name} must be square, of shape (..., p, p): {tuple(m.shape)}")
        if isinstance(df, numbers.Number):
            batch_shape = tuple(m.shape[:-2])
            self.df = Tensor(xp.asarray(df, m.dtype))
        else:
            df = as_float_tensor(df, m.dtype)
            batch_shape = tuple(xp.broadcast_shapes(tuple(m.shape[:-2]), tuple(df.shape)))
            self.df = _expand(df, batch_shape)
        if xp.any(self.df.array <= p - 1):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        if xp.any(self.df.array < p):
            warnings.warn(
                "Low df values detected. Singular samples are highly likely to occur for"
                " ndim - 1 < df < ndim.",
                stacklevel=2,
            )
        setattr(self, name, _expand(m, batch_shape + (p, p)))
        super().__init__(batch_shape, (p, p), validate_args=validate_args)
        self._unbroadcasted_scale_tril = scale_tril_of(name, m)

    # ------------------------------------------------------------ the matrices
    def _matrix_shape(self) -> tuple:
        return self._batch_shape + self._event_shape

    @lazy_property
    def scale_tril(self) -> Tensor:
        return _expand(self._unbroadcasted_scale_tril, self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return _expand(L @ L.mT, self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """Σ⁻¹ = L⁻ᵀ·L⁻¹."""
        L = self._unbroadcasted_scale_tril
        L_inv = solve_tril(L, Tensor(xp.eye(L.shape[-1], dtype=L.dtype)))
        return _expand(L_inv.mT @ L_inv, self._matrix_shape())

    def _df_matrix(self, df: Tensor) -> Tensor:
        return df.reshape(self._batch_shape + (1, 1))

    def _half_log_det(self) -> Tensor:
        """½·log|Σ| = Σᵢ log L_ii."""
        return diagonal(self._unbroadcasted_scale_tril).log().sum(-1)

    # ------------------------------------------------------------ moments
    @property
    def mean(self) -> Tensor:
        return self._df_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        factor = self.df - self._event_shape[-1] - 1
        nan = Tensor(xp.asarray(xp.nan, factor.dtype))
        factor = factor.where(Tensor(factor.array > 0), nan)
        return self._df_matrix(factor) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        V = self.covariance_matrix
        d = diagonal(V)
        return self._df_matrix(self.df) * (V**2 + d.unsqueeze(-1) * d.unsqueeze(-2))

    # ------------------------------------------------------------ draws
    def _bartlett_sampling(self, sample_shape) -> Tensor:
        """(L·A)(L·A)ᵀ, A the Bartlett factor (module docstring)."""
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        chi2_df = self.df.unsqueeze(-1) - Tensor(xp.arange(p).astype(L.dtype))
        chi2 = Chi2(_expand(chi2_df, self._batch_shape + (p,)), validate_args=False)
        diag = chi2.rsample(sample_shape).sqrt().clamp(min=float(xp.finfo(L.dtype).eps))
        below = xp.tril(draw_normal(_size(sample_shape) + self._matrix_shape(), L.dtype), -1)
        noise = diag.unsqueeze(-1) * Tensor(xp.eye(p, dtype=L.dtype)) + Tensor(below)
        chol = L @ noise
        return chol @ chol.mT

    def _singular(self, sample: Tensor):
        """Per sample index: does any batch member fail to be positive definite?"""
        bad = ~xp.asarray(self.support.check(sample))
        n = len(self._batch_shape)
        return bad.reshape(bad.shape[: bad.ndim - n] + (-1,)).any(-1) if n else bad

    def rsample(self, sample_shape=(), max_try_correction=None) -> Tensor:
        """A Bartlett draw, differentiable in ν and Σ. A sample index whose draw is singular
        (possible for ν < p, or by round-off) is drawn again, up to ``max_try_correction``
        (default 10) times, with a warning; it may stay singular (log_prob −inf there).
        (torch's check is inverted, so torch warns, and redraws, when the draws are fine.)"""
        tries = 10 if max_try_correction is None else max_try_correction
        sample = self._bartlett_sampling(sample_shape)
        bad = self._singular(sample)
        if xp.any(bad):
            warnings.warn("Singular sample detected.", stacklevel=2)
            pad = (1,) * (len(self._batch_shape) + 2)
            for _ in range(tries):
                new = self._bartlett_sampling(sample_shape)
                sample = new.where(Tensor(bad.reshape(bad.shape + pad)), sample)
                bad = bad & self._singular(new)
                if not xp.any(bad):
                    break
        return sample

    # ------------------------------------------------------------ density and entropy
    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.df.dtype)
        nu, p = self.df, self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        # tr(Σ⁻¹X) = tr(L⁻ᵀ·L⁻¹·X), torch's cholesky_solve
        y = linalg.solve_triangular(L.mT, solve_tril(L, x), upper=True)
        trace = diagonal(y).sum(-1)
        return (
            -nu * (p * _LOG_2 / 2 + self._half_log_det())
            - mvlgamma(nu / 2, p)
            + (nu - p - 1) / 2 * linalg.slogdet(x).logabsdet
            - trace / 2
        )

    def entropy(self) -> Tensor:
        nu, p = self.df, self._event_shape[-1]
        return (
            (p + 1) * (p * _LOG_2 / 2 + self._half_log_det())
            + mvlgamma(nu / 2, p)
            - (nu - p - 1) / 2 * mvdigamma(nu / 2, p)
            + nu * p / 2
        )

    # ------------------------------------------------------------ exponential family
    @property
    def _natural_params(self) -> tuple:
        """θ = (−½Σ⁻¹, ½(ν − p − 1))."""
        p = self._event_shape[-1]
        return (-self.precision_matrix / 2, (self.df - p - 1) / 2)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        """F(θ₁, θ₂) = (θ₂ + ½(p + 1))·(p·log 2 − log|−2θ₁|) + log Γ_p(θ₂ + ½(p + 1))."""
        p = self._event_shape[-1]
        a = y + (p + 1) / 2
        return a * (-linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p) + mvlgamma(a, p)
