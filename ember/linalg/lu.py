"""The LU factorization with partial pivoting and its solver, as torch.linalg's: lu_factor,
lu_factor_ex, lu and lu_solve.

    A = P·L·U      A (*, m, n); P (*, m, m) a permutation, L (*, m, k) unit lower triangular,
                   U (*, k, n) upper triangular, k = min(m, n)

lu_factor packs L (its strict lower part, the unit diagonal implied) over U into one LU
(*, m, n) and returns LAPACK's 1-based int32 ``pivots`` (*, k): at step j row j was swapped with
row pivots[j]. The factorization is the primitive ember/ops/linalg_funcs.py's LuFactor, with
torch's linalg_lu_backward (with L̄ = tril(LŪ, −1), Ū = triu(LŪ), square A):

    Ā = P L⁻ᴴ [tril(Lᴴ L̄, −1) + triu(Ū Uᴴ)] U⁻ᴴ

lu (unpacking P, L, U) and lu_solve are compositions on the packed LU (tril, triu, triangular
solves), so their gradients are those of the formulas by construction. Only pivoting LU exists
on the CPU, as in torch (pivot=False is torch's RuntimeError).
"""

from __future__ import annotations

import math
from collections import namedtuple

from ..backend import xp
from ..errors import KernelTypeError
from ..ops.linalg_funcs import LuFactor
from ..promotion import torch_dtype_name
from ..tensor import Tensor, apply
from . import _common as C
from .solvers import solve_triangular

LUFactorResult = namedtuple("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUResult = namedtuple("linalg_lu", ["P", "L", "U"])
# torch's type names (repr, type(r).__name__); the qualified names stay these modules'
# attributes, so that pickle finds the types
LUFactorResult.__qualname__ = "LUFactorResult"
LUFactorExResult.__qualname__ = "LUFactorExResult"
LUResult.__qualname__ = "LUResult"


def _batch(info, k: int) -> str:
    """torch's '(Batch element i): ' prefix for a batched input, '' for a single matrix."""
    return f"(Batch element {k}): " if info.ndim > 0 else ""


def first_failure(info):
    """The flat index of the first non-zero info, or None."""
    flat = info.reshape(-1)
    bad = xp.flatnonzero(flat)
    return None if bad.size == 0 else int(bad[0])


def _factor(name: str, A, pivot: bool):
    A = A if isinstance(A, Tensor) else Tensor(A)
    if A.ndim < 2:
        raise RuntimeError(
            f"{name}: Expected tensor with 2 or more dimensions. Got size:"
            f" [{', '.join(str(s) for s in A.shape)}] instead"
        )
    if A.dtype.kind not in "fc" or A.dtype.name == "float16":  # no LAPACK kernel, as torch
        raise KernelTypeError(f"\"lu_cpu\" not implemented for '{torch_dtype_name(A.dtype)}'")
    if not pivot and A.numel() != 0:  # torch returns before the missing kernel when empty
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, pivots, info = apply(LuFactor, A)  # noqa: N806
    return LU, pivots.detach(), info.detach()


def lu_factor_ex(A, *, pivot=True, check_errors=False) -> LUFactorExResult:  # noqa: N803
    """(LU, pivots, info) with A = P·L·U packed as in the module's note; info (*,) int32 is 0,
    or j when U_jj = 0 (1-based, the first such j). With check_errors a non-zero info raises
    torch's RuntimeError; without, a singular A factors without complaint."""
    name = "torch.linalg.lu_factor_ex"
    LU, pivots, info = _factor("linalg.lu_factor_ex", A, pivot)  # noqa: N806
    if check_errors:
        _raise_singular(name, info)
    return LUFactorExResult(LU, pivots, info)


def _raise_singular(name: str, info: Tensor) -> None:
    k = first_failure(info.array)
    if k is not None:
        j = int(info.array.reshape(-1)[k])
        raise RuntimeError(
            f"{name}: {_batch(info.array, k)}U[{j},{j}] is zero and using it on lu_solve would"
            " result in a division by zero. If you still want to perform the factorization,"
            " consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"
        )


def lu_factor(A, *, pivot=True) -> LUFactorResult:  # noqa: N803
    """(LU, pivots) with A = P·L·U (see the module's note); RuntimeError, as torch's, when some
    U_jj = 0 (use lu_factor_ex or lu for singular matrices).

        Ā = P L⁻ᴴ [tril(Lᴴ L̄, −1) + triu(Ū Uᴴ)] U⁻ᴴ     (square A; L̄, Ū read off LŪ)
    """
    LU, pivots, info = _factor("linalg.lu_factor", A, pivot)  # noqa: N806
    _raise_singular("torch.linalg.lu_factor", info)
    return LUFactorResult(LU, pivots)


def permutation(pivots, m: int, dtype):
    """P (*, m, m) with A = P·L·U from LAPACK's pivots (rows j and pivots[j] − 1 swapped at
    step j, in order): P[r, i] = 1 where row i of PᵀA is row r of A."""
    piv = pivots.astype(xp.int64) - 1
    batch = piv.shape[:-1]
    piv = piv.reshape((math.prod(batch), piv.shape[-1]))  # not -1: k = 0 leaves no size
    rows = xp.arange(piv.shape[0])
    perm = xp.broadcast_to(xp.arange(m), (piv.shape[0], m)).copy()
    for j in range(piv.shape[-1]):  # the swaps in order, all matrices at once
        p = piv[:, j]
        perm_j, perm_p = perm[rows, j].copy(), perm[rows, p].copy()
        perm[rows, p], perm[rows, j] = perm_j, perm_p
    P = perm[:, None, :] == xp.arange(m)[None, :, None]  # noqa: N806
    return P.reshape(batch + (m, m)).astype(dtype)


def _unpack(LU: Tensor):  # noqa: N803
    """L (*, m, k) = tril(LU, −1) + I and U (*, k, n) = triu(LU), differentiable in LU."""
    m, n = LU.shape[-2:]
    k = min(m, n)
    L = LU[..., :, :k].tril(-1) + Tensor(xp.eye(m, k, dtype=LU.dtype))  # noqa: N806
    U = LU[..., :k, :].triu()  # noqa: N806
    return L, U


def lu(A, *, pivot=True) -> LUResult:  # noqa: N803
    """(P, L, U) with A = P·L·U for A (*, m, n): P (*, m, m) of A's dtype, L (*, m, k) unit
    lower triangular, U (*, k, n) upper triangular, k = min(m, n). Singular A is fine.

    Gradients as torch's linalg_lu_backward (L and U are read off the packed LU of
    :func:`lu_factor`, whose backward is that formula; P is piecewise constant).
    """
    LU, pivots, _ = _factor("linalg.lu", A, pivot)  # noqa: N806
    L, U = _unpack(LU)  # noqa: N806
    if not pivot:  # empty A only (see _factor): torch's P is then an empty 1-D tensor
        return LUResult(Tensor(xp.zeros((0,), dtype=LU.dtype)), L, U)
    P = Tensor(permutation(pivots.array, LU.shape[-2], LU.dtype))  # noqa: N806
    return LUResult(P, L, U)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False) -> Tensor:  # noqa: N803
    """X from A's packed LU factorization (A = P·L·U, as :func:`lu_factor` returns it):

        left:  A X = B   →  X = U⁻¹ L⁻¹ Pᵀ B      adjoint:  Aᴴ X = B  →  X = P L⁻ᴴ U⁻ᴴ B
        right: X A = B   →  X = B U⁻¹ L⁻¹ Pᵀ      adjoint:  X Aᴴ = B  →  X = B P L⁻ᴴ U⁻ᴴ

    LU (*, n, n), pivots (*, n) int32, B (*, n, k) (left) or (*, k, n); batch dims broadcast.
    Differentiable in LU and B (triangular solves on L and U, whose gradients are torch's
    linalg_lu_solve_LU / linalg_lu_solve backward formulas).
    """
    name = "linalg.lu_solve"
    LU = C.tensor(name, LU)  # noqa: N806
    B = C.tensor(name, B)  # noqa: N806
    pivots = pivots if isinstance(pivots, Tensor) else Tensor(pivots)
    if pivots.dtype != xp.int32:
        raise RuntimeError(f"{name}: pivots should be a Tensor of scalar type torch.int32")
    if LU.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor LU must have at least 2 dimensions.")
    if B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    n = LU.shape[-1]
    if LU.shape[-2] != n:
        raise RuntimeError(
            f"torch.{name}: A must be batches of square matrices, but they are {LU.shape[-2]} by"
            f" {n} matrices"
        )
    rows = B.shape[-2] if left else B.shape[-1]
    if rows != n:
        eq = "AX = B" if left else "XA = B"
        shp = f"{B.shape[-2]}x{B.shape[-1]}"
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation {eq} ({n}x{n} and {shp})"
        )
    if LU.dtype != B.dtype:
        raise RuntimeError(
            f"{name}: Expected LU and B to have the same dtype, but found LU of type"
            f" {torch_dtype_name(LU.dtype)} and B of type {torch_dtype_name(B.dtype)} instead"
        )
    if tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise RuntimeError(
            f"{name}: Incompatible shapes of LU and pivots: LU {list(LU.shape)},"
            f" pivots {list(pivots.shape)}"
        )
    P = Tensor(permutation(pivots.array, n, LU.dtype))  # noqa: N806
    if not left:  # X A = B ⇔ Aᴴ Xᴴ = Bᴴ (adjoint: A Xᴴ = Bᴴ)
        return lu_solve(LU, pivots, B.mH, adjoint=not adjoint).mH
    if adjoint:  # Uᴴ Lᴴ Pᵀ X = B: Uᴴ y = B, Lᴴ z = y, X = P z
        y = solve_triangular(LU.mH, B, upper=False)
        z = solve_triangular(LU.mH, y, upper=True, unitriangular=True)
        return P @ z
    y = solve_triangular(LU, P.mT @ B, upper=False, unitriangular=True)  # L y = Pᵀ B
    return solve_triangular(LU, y, upper=True)  # U X = y
