"""ember.* functions for torch's further special functions and legacy linear algebra (i0, igamma,
igammac, mvlgamma, polygamma, det, inverse, cholesky, cholesky_inverse, qr, svd, dist, trapz,
gradient, lu_solve, lu_unpack), as torch's top-level functions; ``__all__`` lists them.

I₀, P, Q and ψ⁽ⁿ⁾ are primitives with their derivatives in ember/ops/special_linalg.py; the
rest are compositions of differentiable ops (ember.linalg's decompositions and solvers, lgamma,
narrow, matmul …), so autograd gives their gradients. Arguments, defaults and results are
torch's legacy ones: ``svd`` returns V (not Vᴴ), ``qr`` takes ``some``, ``lu_solve`` and
``lu_unpack`` read LAPACK's 1-based int32 pivots (as ember.lu gives them).
"""

from __future__ import annotations

import math
import numbers
from collections import namedtuple

from . import linalg as LA
from .backend import xp
from .linalg.lu import permutation as lu_permutation
from .ops import special_linalg as SL
from .tensor import Tensor, apply
from .tensor_methods import _floating, _promoted
from .torch_gradient import gradient
from .torch_linalg_funcs import _name, _t
from .torch_stats_more import trapezoid

__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "dist",
    "gradient",
    "i0",
    "igamma",
    "igammac",
    "inverse",
    "lu_solve",
    "lu_unpack",
    "mvlgamma",
    "polygamma",
    "qr",
    "svd",
    "trapz",
]

#: Named as torch.return_types: ``Q, R = ember.qr(A)``, ``U, S, V = ember.svd(A)`` …
QRResult = namedtuple("qr", ["Q", "R"])
SVDResult = namedtuple("svd", ["U", "S", "V"])
LuUnpackResult = namedtuple("lu_unpack", ["P", "L", "U"])


def _int_arg(fn: str, arg: str, position: int, value) -> int:
    """value as torch's parser reads an int: an integer or a 0-d integer tensor (not a bool,
    a float or a tensor of either)."""
    if isinstance(value, Tensor) and value.ndim == 0 and value.array.dtype.kind in "iu":
        return int(value.item())
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{fn}(): argument '{arg}' (position {position}) must be int, not"
            f" {type(value).__name__}"
        )
    return int(value)


# ------------------------------------------------------------ special functions
def i0(input) -> Tensor:  # noqa: A002 - torch's name
    """torch.i0: I₀(x) = Σ_k (x/2)^{2k}/(k!)², the modified Bessel function of order 0."""
    return apply(SL.I0, _floating(_t(input)))


def _igamma(name: str, input, other, upper: bool) -> Tensor:  # noqa: A002
    for position, (arg, v) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(v, Tensor):
            raise TypeError(
                f"{name}(): argument '{arg}' (position {position}) must be Tensor, not"
                f" {type(v).__name__}"
            )
    a, x = _promoted(input, other)
    dtype = xp.result_type(a.array, x.array)
    if dtype.kind != "f":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_name(dtype)}'")
    a, x = (t if t.array.dtype == dtype else t.astype(dtype) for t in (a, x))
    return apply(SL.Igamma, a, x, upper=upper)


def igamma(input, other) -> Tensor:  # noqa: A002
    """torch.igamma: P(a, x) = γ(a, x)/Γ(a), the regularised lower incomplete gamma (a = input);
    differentiable in x only, as torch."""
    return _igamma("igamma", input, other, False)


def igammac(input, other) -> Tensor:  # noqa: A002
    """torch.igammac: Q(a, x) = Γ(a, x)/Γ(a) = 1 − P(a, x), the regularised upper incomplete
    gamma (a = input); differentiable in x only, as torch."""
    return _igamma("igammac", input, other, True)


def mvlgamma(input, p) -> Tensor:  # noqa: A002
    """torch.mvlgamma: log Γ_p(a) = ¼p(p−1)·log π + Σ_{j<p} log Γ(a − j/2)."""
    p = _int_arg("mvlgamma", "p", 2, p)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    a = _t(input)
    if a.array.dtype.kind == "b":  # torch's refusal (a bool would count as 0 and 1)
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    a = _floating(a)
    half_j = Tensor(xp.arange(p, dtype=a.array.dtype) / 2)  # j/2, j = 0 … p−1
    return (a.unsqueeze(-1) - half_j).lgamma().sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def polygamma(n, input) -> Tensor:  # noqa: A002
    """torch.polygamma: ψ⁽ⁿ⁾(x) = dⁿ⁺¹/dxⁿ⁺¹ log Γ(x) (ψ⁽⁰⁾ = digamma)."""
    n = _int_arg("polygamma", "n", 1, n)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return apply(SL.Polygamma, _floating(_t(input)), n=n)


# ------------------------------------------------------------ legacy linear algebra
def _matrices(name: str, A, square: bool = True) -> Tensor:  # noqa: N803
    """torch's checks (and messages) for a batch of (square) float matrices."""
    A = _t(A)  # noqa: N806
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if A.dtype.kind not in "fc":
        raise RuntimeError(
            f"{name}: Expected a floating point or complex tensor as input. Got {_name(A.dtype)}"
        )
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are {A.shape[-2]} by"
            f" {A.shape[-1]} matrices"
        )
    return A


def det(input) -> Tensor:  # noqa: A002
    """torch.det: det(A) = Σ_σ sgn σ Π_i A_{i,σ(i)}; ∂det/∂A = det(A)·A⁻ᵀ."""
    return LA.det(_matrices("linalg.det", input))


def inverse(input) -> Tensor:  # noqa: A002
    """torch.inverse: A⁻¹ with A A⁻¹ = I; Ā = −A⁻ᵀ Ȳ A⁻ᵀ."""
    return LA.inv(_matrices("linalg.inv", input))


def cholesky(input, upper=False) -> Tensor:  # noqa: A002
    """torch.cholesky: L lower triangular with A = L Lᵀ (U = Lᵀ, A = Uᵀ U, if upper)."""
    A = _matrices("cholesky", input)  # noqa: N806
    try:
        return LA.cholesky(A, upper=bool(upper))
    except RuntimeError as err:
        raise type(err)(str(err).replace("linalg.cholesky", "cholesky")) from None


def cholesky_inverse(L, upper=False) -> Tensor:  # noqa: N803 - torch's name
    """torch.cholesky_inverse: A⁻¹ = (L Lᵀ)⁻¹ from its Cholesky factor L ((Uᵀ U)⁻¹ if upper).

    Only L's triangle is read; its gradient is torch's, on the whole of L:
    L̄ = −A⁻¹ (Ȳ + Ȳᵀ) A⁻¹ L (L̄ = −U A⁻¹ (Ȳ + Ȳᵀ) A⁻¹ if upper).
    """
    L = _matrices("cholesky_inverse", L)  # noqa: N806
    # the triangle's values, with the identity as gradient to every entry of L
    off = L.triu(1) if not upper else L.tril(-1)
    T = (L.tril() if not upper else L.triu()) + (off - off.detach())  # noqa: N806
    Th = T.mH if T.dtype.kind == "c" else T.mT  # noqa: N806 - A = L Lᴴ for complex L
    return LA.inv(T @ Th if not upper else Th @ T)


def qr(input, some=True) -> QRResult:  # noqa: A002
    """torch.qr: A = QR, Q (*, m, k) orthonormal columns, R (*, k, n) upper triangular,
    k = min(m, n) if some else m."""
    Q, R = LA.qr(_matrices("linalg.qr", input, square=False), "reduced" if some else "complete")  # noqa: N806
    return QRResult(Q, R)


def svd(input, some=True, compute_uv=True) -> SVDResult:  # noqa: A002
    """torch.svd: A = U diag(S) Vᵀ, S descending, U (*, m, k), V (*, n, k), k = min(m, n)
    (U (*, m, m), V (*, n, n) unless some); zero U and V when not compute_uv."""
    A = _t(input)  # noqa: N806
    if A.ndim < 2:
        raise RuntimeError(
            f"linalg.svd: input should have at least 2 dimensions, but has {A.ndim} dimensions"
            " instead"
        )
    A = _matrices("linalg.svd", A, square=False)  # noqa: N806
    m, n = A.shape[-2:]
    if not compute_uv:
        batch = tuple(A.shape[:-2])
        zeros = (Tensor(xp.zeros(batch + (k, k), dtype=A.dtype)) for k in (m, n))
        U, V = zeros  # noqa: N806
        return SVDResult(U, LA.svdvals(A), V)
    U, S, Vh = LA.svd(A, full_matrices=not some)  # noqa: N806
    return SVDResult(U, S, Vh.mT)


def dist(input, other, p=2) -> Tensor:  # noqa: A002
    """torch.dist: ‖input − other‖_p = (Σ |xᵢ − yᵢ|^p)^{1/p} over all elements (broadcast)."""
    d = _t(input) - _t(other)
    if d.dtype.kind not in "fc":  # complex: the norm of |xᵢ − yᵢ|, its gradient torch's
        raise RuntimeError(
            "norm(): input dtype should be either floating point or complex. Got"
            f" {_name(d.dtype)} instead."
        )
    return LA.vector_norm(d, ord=float(p))  # p = 0, the count of non-zeros: no gradient


def trapz(y, x=None, *, dx=None, dim=-1) -> Tensor:
    """torch.trapz: Σ_i (x_i − x_{i−1})/2 · (y_i + y_{i−1}) along dim (Δx = dx, default 1)."""
    return trapezoid(y, x, dx=dx, dim=dim)


# ------------------------------------------------------------ LU
def _pivots_check(name: str, LU: Tensor, pivots, msg_dtype: str) -> Tensor:  # noqa: N803
    pivots = _t(pivots)
    if str(pivots.dtype) != "int32":
        raise RuntimeError(msg_dtype)
    return pivots


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True) -> LuUnpackResult:  # noqa: N803
    """torch.lu_unpack: (P, L, U) with A = P L U from ember.lu's packed (A_LU, pivots); L unit
    lower (*, m, k), U upper (*, k, n), k = min(m, n); empty P (L, U) if not unpack_pivots
    (unpack_data)."""
    LU = _t(LU_data)  # noqa: N806
    if LU.ndim < 2:
        raise RuntimeError(
            "torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size:"
            f" [{', '.join(str(s) for s in LU.shape)}] instead"
        )
    m, n = LU.shape[-2:]
    k = min(m, n)
    empty = Tensor(xp.zeros((0,), dtype=LU.dtype))
    P = empty  # noqa: N806
    if unpack_pivots:
        pivots = _pivots_check(
            "lu_unpack",
            LU,
            LU_pivots,
            "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32"
            " dtype.\nNote: this function is intended to be used with the output produced by"
            " torch.linalg.lu_factor",
        )
        if tuple(pivots.shape) != tuple(LU.shape[:-2]) + (k,):
            raise RuntimeError(
                "torch.lu_unpack: LU_pivots must have shape"
                f" {list(LU.shape[:-2]) + [k]}, but got {list(pivots.shape)}"
            )
        if pivots.numel() and (bool((pivots.array < 1).any()) or bool((pivots.array > m).any())):
            raise RuntimeError(
                "pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive."
                "Did you properly pass the result of lu_factor?"
            )
        P = Tensor(lu_permutation(pivots.array, m, LU.dtype))  # noqa: N806
    if not unpack_data:
        return LuUnpackResult(P, empty, empty)
    eye = Tensor(xp.eye(m, k, dtype=LU.dtype))
    L = LU[..., :, :k].tril(-1) + eye  # noqa: N806
    U = LU[..., :k, :].triu()  # noqa: N806
    return LuUnpackResult(P, L, U)


def lu_solve(b, LU_data, LU_pivots) -> Tensor:  # noqa: N803
    """torch.lu_solve: X with A X = b from A = P L U packed as ember.lu gives it:
    X = U⁻¹ L⁻¹ Pᵀ b (batch dims broadcast)."""
    B, LU = _t(b), _t(LU_data)  # noqa: N806
    pivots = _pivots_check(
        "lu_solve",
        LU,
        LU_pivots,
        "linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32",
    )
    if LU.ndim < 2 or B.ndim < 2:
        raise RuntimeError(
            "linalg.lu_solve: The input tensor A must have at least 2 dimensions."
            if LU.ndim < 2
            else "linalg.lu_solve: The input tensor B must have at least 2 dimensions."
        )
    if LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError(
            f"torch.linalg.lu_solve: A must be batches of square matrices, but they are"
            f" {LU.shape[-2]} by {LU.shape[-1]} matrices"
        )
    n = LU.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(
            f"linalg.lu_solve: Incompatible shapes of A and B for the equation AX = B"
            f" ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})"
        )
    if LU.dtype != B.dtype:
        raise RuntimeError(
            "linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type"
            f" {_name(LU.dtype)} and B of type {_name(B.dtype)} instead"
        )
    if tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise RuntimeError(
            "linalg.lu_solve: Incompatible shapes of LU and pivots: LU"
            f" {list(LU.shape)}, pivots {list(pivots.shape)}"
        )
    P = Tensor(lu_permutation(pivots.array, n, LU.dtype))  # noqa: N806
    y = P.mT @ B
    z = LA.solve_triangular(LU, y, upper=False, unitriangular=True)  # L z = Pᵀ b
    return LA.solve_triangular(LU, z, upper=True)  # U x = z
