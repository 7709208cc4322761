"""The "_ex" variants of torch.linalg's inverse, Cholesky factorization and solver: inv_ex,
cholesky_ex, solve_ex. Each returns its result with an ``info`` tensor (int32, one per matrix of
the batch) in place of raising:

    inv_ex:       Y = A⁻¹,   info = j > 0 when U_jj = 0 in A = P·L·U (A singular)
    cholesky_ex:  A = L·Lᴴ,  info = j > 0 when the leading j×j minor is not positive-definite
    solve_ex:     A·X = B,   info as inv_ex's

With check_errors=True a non-zero info raises :class:`LinAlgError` (a RuntimeError) naming the
batch element, as torch's; with the default False nothing is raised. Where info ≠ 0 the result
holds NaN (torch leaves what LAPACK stopped at, inf or NaN or a partial factor: undefined either
way); the other matrices of the batch are exact and differentiable, with the gradients of inv,
cholesky and solve (ember/linalg/solvers.py, decompositions.py).
"""

from __future__ import annotations

from collections import namedtuple

from ..backend import xp
from ..ops import elementwise as E
from ..ops.linalg_funcs import LuFactor
from ..ops.linalg_more import LinAlgError
from ..ops.linalg_nan import cholesky_info
from ..tensor import Tensor, apply
from . import _common as C
from .decompositions import cholesky
from .lu import first_failure
from .solvers import solve

InvExResult = namedtuple("linalg_inv_ex", ["inverse", "info"])
CholeskyExResult = namedtuple("linalg_cholesky_ex", ["L", "info"])
SolveExResult = namedtuple("linalg_solve_ex", ["result", "info"])
# torch's type names (repr, type(r).__name__); the qualified names stay these modules'
# attributes, so that pickle finds the types
InvExResult.__qualname__ = "InvExResult"
CholeskyExResult.__qualname__ = "CholeskyExResult"
SolveExResult.__qualname__ = "SolveExResult"


def _lu_info(A: Tensor):
    """getrf's info for each matrix of A (*, n, n): 0, or the first j with U_jj = 0."""
    return apply(LuFactor, A.detach())[2].array


def _prefix(info, k: int) -> str:
    return f"(Batch element {k}): " if info.ndim > 0 else ""


def _masked(fn, A: Tensor, bad, extra_dims: int) -> Tensor:
    """fn(A) with every matrix where ``bad`` replaced by I first and its result by NaN, so one
    failing matrix leaves the rest of the batch (and its gradient) intact."""
    if not bool(bad.any()):
        return fn(A)
    eye = xp.eye(A.shape[-1], dtype=A.dtype)
    safe = apply(E.Where, Tensor(eye), A, cond=bad[..., None, None])
    out = fn(safe)
    cond = bad.reshape(bad.shape + (1,) * extra_dims)
    return apply(E.Where, Tensor(xp.asarray(xp.nan, dtype=out.dtype)), out, cond=cond)


def inv_ex(A, *, check_errors=False) -> InvExResult:  # noqa: N803 - torch's name
    """(A⁻¹, info) for A (*, n, n); info (*,) int32 as the module's note.

    Y = A⁻¹,  Ā = −Yᴴ Ȳ Yᴴ
    """
    from .solvers import inv

    A = C.square("linalg.inv", A)  # noqa: N806
    info = _lu_info(A)
    k = first_failure(info)
    if check_errors and k is not None:
        j = int(info.reshape(-1)[k])
        raise LinAlgError(
            f"linalg.inv_ex: {_prefix(info, k)}The diagonal element {j} is zero, the inversion"
            " could not be completed because the input matrix is singular."
        )
    return InvExResult(_masked(inv, A, info != 0, 2), Tensor(info))


_cholesky_info = cholesky_info


def cholesky_ex(A, *, upper=False, check_errors=False) -> CholeskyExResult:  # noqa: N803
    """(L, info): L lower triangular with A = L·Lᴴ (U = Lᴴ with A = Uᴴ·U if upper), for
    Hermitian positive-definite A (*, n, n), its lower triangle read; info as the module's.

        Ā = L⁻ᴴ Φ L⁻¹,  Φ = ½(T + tril(T, −1)ᴴ),  T = tril(Lᴴ L̄)
    """
    A = C.square("linalg.cholesky", A)  # noqa: N806
    a = xp.tril(A.array)
    a = a + xp.swapaxes(xp.tril(a, -1), -1, -2).conj()  # the Hermitian matrix actually read
    info = _cholesky_info(a)
    k = first_failure(info)
    if check_errors and k is not None:
        j = int(info.reshape(-1)[k])
        raise LinAlgError(
            f"linalg.cholesky_ex: {_prefix(info, k)}The factorization could not be completed"
            f" because the input is not positive-definite (the leading minor of order {j} is"
            " not positive-definite)."
        )
    L = _masked(lambda t: cholesky(t, upper=bool(upper)), A, info != 0, 2)  # noqa: N806
    return CholeskyExResult(L, Tensor(info))


def solve_ex(A, B, *, left=True, check_errors=False) -> SolveExResult:  # noqa: N803
    """(X, info) with A·X = B (X·A = B if not left), shapes and broadcasting as
    :func:`ember.linalg.solve`; info (*,) int32 over A's batch, as the module's note.

        B̄ = A⁻ᴴ X̄,  Ā = −B̄ Xᴴ
    """
    A = C.square("linalg.solve", A)  # noqa: N806
    B = C.tensor("linalg.solve", B)  # noqa: N806
    info = _lu_info(A)
    k = first_failure(info)
    if check_errors and k is not None:
        raise LinAlgError(
            f"torch.linalg.solve_ex: {_prefix(info, k)}The solver failed because the input"
            " matrix is singular."
        )
    extra = 1 if left and C.is_vector_rhs(A, B) else 2
    X = _masked(lambda t: solve(t, B, left=left), A, info != 0, extra)  # noqa: N806
    return SolveExResult(X, Tensor(info))
