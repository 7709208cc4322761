"""ember.* functions for torch's matrix functions, decompositions and solvers (matrix_power,
matrix_exp, logdet, slogdet, pinverse, lu, cholesky_solve, triangular_solve), as torch's
top-level functions; ``__all__`` lists them. Split from torch_linalg_funcs.py (the products:
addmv, addbmm, vdot …), which re-exports every name here, with the helpers it shares.

Each is a composition of differentiable ops (ember.linalg's solvers …), so autograd gives the
gradients; the LU factorization is a primitive in ember/ops/linalg_funcs.py. Argument orders,
defaults and results are torch's legacy ones (``triangular_solve(b, A)`` returns
(solution, cloned_coefficient), ``lu`` LAPACK's 1-based int32 pivots), with named tuples where
torch returns them.
"""

from __future__ import annotations

from collections import namedtuple

from . import linalg as LA
from .backend import xp
from .ops.linalg_funcs import LuFactor
from .promotion import torch_dtype_name as _name
from .tensor import Tensor, apply
from .tensor_torch import zero_grad_one as _zero_grad_one

__all__ = [
    "cholesky_solve",
    "logdet",
    "lu",
    "matrix_exp",
    "matrix_power",
    "pinverse",
    "slogdet",
    "triangular_solve",
]

#: Named as torch.return_types: ``sign, logabsdet = ember.slogdet(A)`` …
SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])
TriangularSolveResult = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
LuWithInfoResult = namedtuple("_lu_with_info", ["LU", "pivots", "info"])


def _t(a) -> Tensor:
    return a if isinstance(a, Tensor) else Tensor(xp.asarray(a))


def _shape(t: Tensor) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


# ------------------------------------------------------------ linear algebra
def matrix_power(input, n) -> Tensor:  # noqa: A002
    """torch.matrix_power: inputⁿ for an integer n (I for n = 0, (input⁻¹)^|n| for n < 0)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(
            f"matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}"
        )
    A = _t(input)
    _at_least_2d("linalg.matrix_power", A)
    if n == 0 and A.requires_grad:  # I, with the zero gradient torch gives A
        return LA.matrix_power(A, 0) * _zero_grad_one(A)
    return LA.matrix_power(A, n)


def _at_least_2d(name: str, A: Tensor) -> Tensor:  # noqa: N803
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    return A


def matrix_exp(A) -> Tensor:  # noqa: N803 - torch's name
    """torch.matrix_exp: exp(A) = Σ_k Aᵏ/k!."""
    return LA.matrix_exp(_at_least_2d("linalg.matrix_exp", _t(A)))


def slogdet(input) -> SlogdetResult:  # noqa: A002
    """torch.slogdet: (sign, log|det input|), det(input) = sign·exp(logabsdet)."""
    sign, logabsdet = LA.slogdet(_at_least_2d("linalg.slogdet", _t(input)))
    return SlogdetResult(sign, logabsdet)


def logdet(input) -> Tensor:  # noqa: A002
    """torch.logdet: log det(input); nan where det < 0, −inf where det = 0."""
    A = _t(input)
    if A.dtype.kind not in "fc":
        raise RuntimeError(
            f"logdet: Expected a floating point or complex tensor as input. Got {_name(A.dtype)}"
        )
    if A.ndim < 2:
        raise RuntimeError("logdet: The input tensor A must have at least 2 dimensions.")
    sign, logabsdet = LA.slogdet(A)
    if A.dtype.kind == "c":  # the complex log det = log|det| + i·arg(det), as torch
        return sign.log() + logabsdet
    nan = Tensor(xp.asarray(xp.nan, dtype=logabsdet.dtype))
    return logabsdet.where(sign.array >= 0, nan)


def pinverse(input, rcond=1e-15) -> Tensor:  # noqa: A002
    """torch.pinverse: input⁺, the Moore–Penrose pseudo-inverse, σ ≤ rcond·σ_max dropped."""
    A = _t(input)
    if A.ndim < 2 or A.dtype.kind not in "fc":
        raise RuntimeError(
            f"linalg.pinv({_name(A.dtype)}{{{_shape(A).replace(' ', '')}}}): expected a tensor with"
            " 2 or more dimensions of float, double, cfloat or cdouble types"
        )
    return LA.pinv(A, atol=0.0, rtol=float(rcond))


def lu(A, pivot=True, get_infos=False):  # noqa: N803 - torch's name
    """torch.lu: A = P L U packed as (A_LU, pivots[, infos]), pivots LAPACK's 1-based int32."""
    A = _t(A)
    if A.ndim < 2:
        raise RuntimeError(
            f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: {_shape(A)}"
            " instead"
        )
    if A.dtype.kind not in "fc":
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_name(A.dtype)}'")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, pivots, info = apply(LuFactor, A)  # noqa: N806
    pivots, info = pivots.detach(), info.detach()
    if get_infos:
        return LuWithInfoResult(LU, pivots, info)
    return LU, pivots


def _check_rhs(name: str, b: Tensor, A: Tensor, label: str) -> None:
    if b.ndim < 2:
        if name == "triangular_solve":
            raise RuntimeError(
                f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has"
                f" {b.ndim} dimensions instead"
            )
        raise RuntimeError(
            f"b should have at least 2 dimensions, but has {b.ndim} dimensions instead"
        )
    if A.ndim < 2:
        raise RuntimeError(
            f"A should have at least 2 dimensions, but has {A.ndim} dimensions instead"
        )
    if b.dtype != A.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {_name(b.dtype)} and"
            f" A of type {_name(A.dtype)} instead."
        )
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"A must be batches of square matrices, but they are {A.shape[-2]} by"
            f" {A.shape[-1]} matrices"
        )
    if A.shape[-1] != b.shape[-2]:
        raise RuntimeError(
            f"Incompatible matrix sizes for {name}: each A matrix is {A.shape[-1]} by"
            f" {A.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}"
        )


def cholesky_solve(B, L, upper=False) -> Tensor:  # noqa: N803 - torch's names
    """torch.cholesky_solve: X = (L Lᵀ)⁻¹ B (X = (Uᵀ U)⁻¹ B if upper), L the Cholesky factor.

    Only L's triangle is read; its gradient is torch's, on the whole of L:
    L̄ = −(B̄ Xᵀ + X B̄ᵀ) L (L̄ = −U (B̄ Xᵀ + X B̄ᵀ) if upper), B̄ = (L Lᵀ)⁻¹ X̄.
    """
    B, L = _t(B), _t(L)  # noqa: N806
    _check_rhs("cholesky_solve", B, L, "L")
    # the triangle's values, with the identity as gradient to every entry of L
    off = L.triu(1) if not upper else L.tril(-1)
    T = (L.tril() if not upper else L.triu()) + (off - off.detach())  # noqa: N806
    Th = T.mH if T.dtype.kind == "c" else T.mT  # noqa: N806 - A = L Lᴴ for complex L
    A = T @ Th if not upper else Th @ T  # noqa: N806
    return LA.solve(A, B)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):  # noqa: N803
    """torch.triangular_solve: (X, A.clone()) with op(T) X = b, T A's upper (lower) triangle
    (unit diagonal if unitriangular), op(T) = Tᵀ if transpose."""
    b, A = _t(b), _t(A)  # noqa: N806
    _check_rhs("triangular_solve", b, A, "A")
    T = A.mT if transpose else A  # noqa: N806
    x = LA.solve_triangular(
        T, b, upper=bool(upper) != bool(transpose), unitriangular=bool(unitriangular)
    )
    batch = xp.broadcast_shapes(tuple(b.shape[:-2]), tuple(A.shape[:-2]))
    coefficient = A.expand(batch + tuple(A.shape[-2:])).clone()
    return TriangularSolveResult(x, coefficient)
