"""More of torch.distributions.transforms: powers, |x|, softplus, the simplex maps (softmax,
stick-breaking) and the matrix maps (lower Cholesky, positive definite, correlation Cholesky).

Each is composed from Tensor ops, so ``backward()`` reaches whatever made x (and a
PowerTransform's exponent); each formula, its inverse and log |det J| are torch's, so
log-densities of the distributions built from them agree with torch's to rounding.
"""

from __future__ import annotations

import math

from ..backend import xp
from ..functional import pad
from ..tensor import Tensor
from . import constraints
from ._special import cholesky, softplus
from .distribution import broadcast_all
from .transforms import Transform, _all_equal

__all__ = [
    "AbsTransform",
    "CorrCholeskyTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StickBreakingTransform",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]


def _clipped_sigmoid(x: Tensor) -> Tensor:
    """σ(x) clamped into [tiny, 1 − eps] (torch's): the stick never breaks to exactly 0 or 1."""
    f = xp.finfo(x.dtype)
    return x.sigmoid().clamp(min=float(f.tiny), max=1.0 - float(f.eps))


def _tril_index(n: int, diag: int):
    """Row and column indices of the entries with col < row + diag + 1, in row-major order
    (torch's tril_mask order)."""
    i = xp.arange(n)
    return xp.nonzero(i[None, :] < i[:, None] + (diag + 1))


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries on and below diagonal ``diag`` of (…, n, n), row by row: (…, N)."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = _tril_index(n, diag)
    return mat[..., rows, cols]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """tril_matrix_to_vec's inverse: (…, N) into the lower part of (…, n, n), zeros above;
    n solves n² + (1 + 2·diag)·n − |diag|·(diag + 1) = 2N."""
    N = vec.shape[-1]
    b = 1 + 2 * diag
    n_real = (-b + math.sqrt(b * b + 8 * N + 4 * abs(diag) * (diag + 1))) / 2
    n = round(n_real)
    if abs(n - n_real) > 1e-9:
        raise ValueError(f"The size of last dimension is {N} which cannot be expressed as a tril")
    rows, cols = _tril_index(n, diag)
    index = xp.full((n, n), N, dtype=xp.int64)  # N points at the zero appended below
    index[rows, cols] = xp.arange(rows.size)
    padded = pad(vec, (0, 1), value=0.0)
    return padded[..., index]


class PowerTransform(Transform):
    """y = x^p on the positive reals, ``exponent`` p;  log |dy/dx| = log |p·y/x|.
    sign = sign(p)."""

    domain = constraints.positive
    codomain = constraints.positive

    def __init__(self, exponent, cache_size: int = 0):
        super().__init__(cache_size)
        (self.exponent,) = broadcast_all(exponent)

    def __eq__(self, other) -> bool:
        return isinstance(other, PowerTransform) and _all_equal(self.exponent, other.exponent)

    @property
    def sign(self):
        return self.exponent.sign()

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape) -> tuple:
        return tuple(xp.broadcast_shapes(tuple(shape), self.exponent.shape))

    inverse_shape = forward_shape

    def __repr__(self) -> str:
        return "PowerTransform()"


class AbsTransform(Transform):
    """y = |x| (not bijective: inv returns y, the non-negative preimage)."""

    _equal_by_type = True

    bijective = False
    codomain = constraints.positive

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


class SoftplusTransform(Transform):
    """y = log(1 + eˣ);  x = log(e^y − 1) = y + log(−expm1(−y));  log |dy/dx| = −softplus(−x).
    (torch's reverts to y = x for x > 20; this softplus is exact everywhere, which differs
    from torch's by < 2e-9 there.)"""

    _equal_by_type = True

    codomain = constraints.positive
    sign = 1

    def _call(self, x):
        return softplus(x)

    def _inverse(self, y):
        return (-(-y).expm1()).log() + y

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x)


class SoftmaxTransform(Transform):
    """y = exp(x − max x)/Σ exp(x − max x) onto the simplex; inv y = log y (one of the
    preimages: not bijective, no log |det J|, as torch's)."""

    _equal_by_type = True

    bijective = False
    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        p = (x - x.amax(-1, keepdim=True).detach()).exp()
        return p / p.sum(-1, keepdim=True)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape) -> tuple:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape)

    inverse_shape = forward_shape


def _offset_log(k: int, dtype, extra: int):
    """log(K + extra − i) for i = 1 … k: the stick-breaking offsets (torch's), which make
    x = 0 map to the simplex's centre."""
    return Tensor(xp.log(k + extra - xp.arange(1, k + 1, dtype=dtype)))


class StickBreakingTransform(Transform):
    """ℝ^K → the K-simplex in ℝ^{K+1} by stick breaking:

    z_i = σ(x_i − log(K + 1 − i)),   y_i = z_i·Π_{j<i}(1 − z_j),   y_{K+1} = Π_j (1 − z_j)
    x_i = log y_i − log(1 − Σ_{j≤i} y_j) + log(K + 1 − i)
    log |det J| = Σ_i (−x̃_i + log σ(x̃_i) + log y_i),   x̃_i = x_i − log(K + 1 − i)
    """

    _equal_by_type = True

    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        z = _clipped_sigmoid(x - _offset_log(x.shape[-1], x.dtype, 1))
        z_cumprod = (1 - z).cumprod(-1)
        return pad(z, (0, 1), value=1.0) * pad(z_cumprod, (1, 0), value=1.0)

    def _inverse(self, y):
        y_crop = y[..., :-1]
        sf = (1 - y_crop.cumsum(-1)).clamp(min=float(xp.finfo(y.dtype).tiny))
        return y_crop.log() - sf.log() + _offset_log(y_crop.shape[-1], y.dtype, 1)

    def log_abs_det_jacobian(self, x, y):
        x = x - _offset_log(x.shape[-1], x.dtype, 1)
        return (-x - softplus(-x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape) -> tuple:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape) -> tuple:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] - 1,)


class LowerCholeskyTransform(Transform):
    """Square matrices → lower-triangular ones with a positive diagonal:
    y = tril(x, −1) + diag(exp(diag x)) (no log |det J|, as torch's)."""

    _equal_by_type = True

    bijective = False
    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(Transform):
    """Square matrices → positive-definite ones: y = L·Lᵀ with L = LowerCholeskyTransform(x);
    inv: L = cholesky(y), then LowerCholeskyTransform's inverse."""

    bijective = False
    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x):
        L = LowerCholeskyTransform()(x)
        return L @ L.mT

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(cholesky(y))


class CorrCholeskyTransform(Transform):
    """ℝ^{D(D−1)/2} → Cholesky factors of D×D correlation matrices (torch's construction):
    r = tanh(x) (clamped into (−1, 1)) filled row by row below the diagonal, then each row
    is made unit-norm by a signed stick breaking:

        y_ij = r_ij·Π_{k<j} √(1 − r_ik²)  (j < i),   y_ii = Π_{k<i} √(1 − r_ik²)
        log |det J| = ½·Σ_{j<i−1} log(1 − Σ_{k≤j} y_ik²) + Σ log(1 − tanh² x)
    """

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky

    def _call(self, x):
        eps = float(xp.finfo(x.dtype).eps)
        r = vec_to_tril_matrix(x.tanh().clamp(min=-1 + eps, max=1 - eps), diag=-1)
        z1m_cumprod_sqrt = (1 - r**2).sqrt().cumprod(-1)
        r = r + Tensor(xp.eye(r.shape[-1], dtype=r.dtype))
        return r * pad(z1m_cumprod_sqrt[..., :-1], (1, 0), value=1.0)

    def _inverse(self, y):
        y_cumsum = 1 - (y * y).cumsum(-1)
        y_cumsum_shifted = pad(y_cumsum[..., :-1], (1, 0), value=1.0)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(y_cumsum_shifted, diag=-1).sqrt()
        return (t.log1p() - (-t).log1p()) / 2

    def log_abs_det_jacobian(self, x, y):
        y1m_cumsum = 1 - (y * y).cumsum(-1)
        stick_breaking_logdet = 0.5 * tril_matrix_to_vec(y1m_cumsum, diag=-2).log().sum(-1)
        tanh_logdet = -2 * (x + softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick_breaking_logdet + tanh_logdet

    def forward_shape(self, shape) -> tuple:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        N = shape[-1]
        D = round((0.25 + 2 * N) ** 0.5 + 0.5)
        if D * (D - 1) // 2 != N:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return tuple(shape[:-1]) + (D, D)

    def inverse_shape(self, shape) -> tuple:
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        D = shape[-1]
        return tuple(shape[:-2]) + (D * (D - 1) // 2,)
