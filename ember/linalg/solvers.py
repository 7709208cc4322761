"""Determinants, inverses, solvers and matrix products: det, slogdet, inv, solve,
solve_triangular, lstsq, pinv, matrix_power, matrix_exp, multi_dot, vecdot, matmul.

The primitives (Function classes with their adjoint formulas) are in ember/ops/linalg_more.py
and linalg_decomp.py; matrix_power, multi_dot, vecdot and matmul are compositions of matmul,
inv and sums, so their gradients are exact by construction.
"""

from __future__ import annotations

from collections import namedtuple

from ..amp.composite import as_one_op
from ..backend import xp
from ..ops import elementwise as E
from ..ops import linalg_decomp as D
from ..ops import linalg_more as M
from ..promotion import torch_dtype_name
from ..tensor import Tensor, apply
from . import _common as C
from .norms import _tolerances

SlogdetResult = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
LstsqResult = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
# torch's type names (repr, type(r).__name__); the qualified names stay these modules'
# attributes, so that pickle finds the types
SlogdetResult.__qualname__ = "SlogdetResult"
LstsqResult.__qualname__ = "LstsqResult"


def det(A) -> Tensor:
    """det(A) for A of shape (*, n, n).

        ∂det(A)/∂A = cof(A) = det(A)·A⁻ᵀ

    (the cofactor matrix, computed from the SVD so that it stays right for singular A).
    """
    return apply(M.Det, C.square("linalg.det", A))


def slogdet(A) -> SlogdetResult:
    """(sign, logabsdet) with det(A) = sign·exp(logabsdet); logabsdet = −inf for singular A.

    ∂log|det A|/∂A = A⁻ᵀ;  a real sign has no gradient, a complex one e^{iθ} has (torch's
    slogdet_backward, in ember/ops/linalg_more.py).
    """
    sign, logabsdet = apply(M.SlogDet, C.square("linalg.slogdet", A))
    return SlogdetResult(sign if sign.dtype.kind == "c" else sign.detach(), logabsdet)


def inv(A) -> Tensor:
    """A⁻¹ for A of shape (*, n, n); LinAlgError (a RuntimeError) if some A is singular.

    Y = A⁻¹,  dY = −Y dA Y,  Ā = −Yᵀ Ȳ Yᵀ
    """
    return apply(M.Inv, C.square("linalg.inv", A))


def solve(A, B, *, left=True) -> Tensor:
    """X with AX = B (XA = B if not left), A (*, n, n), B (*, n, k) ((*, k, n) if not left) or,
    left only, a vector batch (*, n) (B is a vector when 1-D or when B.shape == A.shape[:-1]);
    batch dims broadcast.

        B̄ = A⁻ᵀ X̄,  Ā = −B̄ Xᵀ

    LinAlgError (a RuntimeError) if A is singular.
    """
    name = "linalg.solve"
    A = C.square(name, A)
    B = C.tensor(name, B)
    C.same_dtype(name, A, B)
    vector = C.is_vector_rhs(A, B)
    if not vector and B.ndim < 2:
        raise RuntimeError(f"{name}: B of shape {B.shape} is neither a vector nor a matrix batch")
    if not left:  # XA = B  ⇔  AᵀXᵀ = Bᵀ
        if vector:
            raise RuntimeError(
                f"{name}: Vector broadcasting of the left hand side is not supported for"
                f" left=False (A of shape {A.shape}, B of shape {B.shape}); pass B as a matrix"
            )
        # B is a matrix batch (*, k, n) here: checked before the transpose, so that Bᵀ
        # (*, n, k) is never taken for a vector batch that happens to be A's shape[:-1]
        C.batch_shape(name, A, B, A.shape[-1], B.shape[-1], "XA = B")
        return apply(M.Solve, A.mT, B.mT, vector=False).mT
    rows = B.shape[-1] if vector else B.shape[-2]
    B_mat = B.unsqueeze(-1) if vector else B
    C.batch_shape(name, A, B_mat, A.shape[-1], rows, "AX = B")
    return apply(M.Solve, A, B, vector=vector)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False) -> Tensor:
    """X with TX = B (XT = B if not left), T the upper (lower) triangle of A (*, n, n), with
    ones on the diagonal if unitriangular; the rest of A is not read. B is (*, n, k) (left) or
    (*, k, n); batch dims broadcast.

        B̄ = T⁻ᵀ X̄,  Ā = −B̄ Xᵀ on T's triangle (its strict part if unitriangular)

    A zero on T's diagonal gives inf/NaN, as torch (no error).
    """
    name = "linalg.solve_triangular"
    A = C.square(name, A)
    B = C.matrices(name, B, "B")
    C.same_dtype(name, A, B)
    if not left:  # XT = B  ⇔  TᵀXᵀ = Bᵀ, Tᵀ triangular the other way
        C.batch_shape(name, A, B, A.shape[-1], B.shape[-1], "XA = B")
        x = solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular)
        return x.mT
    C.batch_shape(name, A, B, A.shape[-1], B.shape[-2], "AX = B")
    return apply(M.SolveTriangular, A, B, upper=bool(upper), unitriangular=bool(unitriangular))


def pinv(A, *, atol=None, rtol=None, hermitian=False) -> Tensor:
    """A⁺, the Moore–Penrose pseudo-inverse of A (*, m, n), from the SVD (eigh if hermitian)
    with σ ≤ max(atol, rtol·σ_max) dropped; rtol defaults to eps·max(m, n) (0 when atol > 0).

        dA⁺ = −A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I − AA⁺) + (I − A⁺A) dAᵀ A⁺ᵀA⁺   (constant rank)
    """
    A = C.matrices("linalg.pinv", A)
    if A.numel() == 0:  # torch answers an empty A from its SVD, hermitian or not, square or not
        hermitian = False
    A = C.square("linalg.pinv", A) if hermitian else A
    atol_a, rtol_a = _tolerances(A, atol, rtol)
    return apply(M.Pinv, A, atol=atol_a, rtol=rtol_a, hermitian=bool(hermitian))


def lstsq(A, B, rcond=None, *, driver=None) -> LstsqResult:
    """The least-squares solution X = argmin ‖AX − B‖_F (of minimum norm), A (*, m, n),
    B (*, m, k) or (*, m); batch dims broadcast.

    Computed from the SVD as X = A⁺B with σ ≤ rcond·σ_max dropped (rcond defaults to
    eps·max(m, n)); gradients as torch's, through A⁺. Only ``solution`` is differentiable.
    The other fields are filled as torch fills them for ``driver``: ``residuals`` (‖AX − B‖²
    per column, when m > n and every A has full rank) for all but 'gelsy' (the CPU default),
    ``rank`` for all but 'gels', ``singular_values`` for 'gelsd' and 'gelss'.
    """
    name = "linalg.lstsq"
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(
            f"{name}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss), got {driver}"
        )
    A = C.matrices(name, A)
    B = C.tensor(name, B)
    C.same_dtype(name, A, B)
    if not (A.ndim >= B.ndim and A.ndim - B.ndim <= 1):
        raise RuntimeError(
            f"{name}: A.dim() must be greater or equal to B.dim() and (A.dim() - B.dim()) <= 1,"
            f" got A of shape {A.shape} and B of shape {B.shape}"
        )
    vector = C.is_vector_rhs(A, B) and B.ndim == A.ndim - 1
    B_mat = B.unsqueeze(-1) if vector else B
    if B_mat.ndim < 2:
        raise RuntimeError(f"{name}: B must have at least 2 dimensions, got shape {B.shape}")
    C.batch_shape(name, A, B_mat, A.shape[-2], B_mat.shape[-2], "AX = B")
    m, n = A.shape[-2:]
    if rcond is None:
        rcond = xp.finfo(A.dtype).eps * max(m, n)
    x = apply(M.Lstsq, A, B_mat, rcond=float(rcond), driver=driver or "gelsy")
    s = xp.linalg.svd(A.array, compute_uv=False)
    rank = (s > rcond * s[..., :1]).sum(-1).astype(xp.int64)
    if (driver or "gelsy") == "gelsy" and B_mat.shape[-1] == 0:
        rank = xp.zeros_like(rank)  # LAPACK's gelsy returns at once, rank 0, for no columns in B
    empty = xp.zeros((0,), dtype=C.real_dtype(A))  # σ's dtype, real for a complex A as torch's
    driver = driver or "gelsy"
    residuals = empty
    if driver == "gels" and m > n == 0:  # LAPACK's gels zeroes B for an empty A: residuals 0
        batch = xp.broadcast_shapes(A.shape[:-2], B_mat.shape[:-2])
        residuals = xp.zeros(batch + B_mat.shape[-1:], dtype=C.real_dtype(A))
    elif driver != "gelsy" and m > n and bool((rank == n).all()):
        r = A.array @ x.array - B_mat.array
        residuals = (r * r.conj()).real.sum(-2)  # |r|², (*, k), k = 1 for a vector B, as torch
    return LstsqResult(
        x.squeeze(-1) if vector else x,
        Tensor(residuals),
        Tensor(rank if driver != "gels" else xp.zeros((0,), dtype=xp.int64)),
        Tensor(s if driver in ("gelsd", "gelss") else empty),
    )


def matrix_power(A, n: int) -> Tensor:
    """Aⁿ for an integer n: I for n = 0, (A⁻¹)^|n| for n < 0; by repeated squaring, as torch.
    Integer matrices take n ≥ 0 (products only), as torch's do."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {n!r}")
    if isinstance(A, Tensor) and A.dtype.kind in "biu":
        _check_integer_power(A, n)
    else:
        A = C.square("linalg.matrix_power", A)
    if n == 0:  # I, but kept in A's graph with a zero gradient, as torch's copy_ into A's clone
        eye = Tensor(xp.eye(A.shape[-1], dtype=A.dtype))
        return apply(E.Where, eye, A, cond=xp.ones((), dtype=bool))
    if n < 0:
        A, n = inv(A), -n
    if n == 1:
        return A * 1
    if n == 2:
        return A @ A
    if n == 3:
        return A @ A @ A
    z = result = None
    while n > 0:  # z runs through A, A², A⁴, …; result gathers the set bits of n
        bit, n = n % 2, n // 2
        z = A if z is None else z @ z
        if bit:
            result = z if result is None else result @ z
    return result


def _check_integer_power(A: Tensor, n: int) -> None:
    """An integer matrix takes n ≥ 0 only (no inverse), and must be square: torch's errors."""
    if n < 0:
        raise RuntimeError(
            "linalg.inv: Expected a floating point or complex tensor as input. Got"
            f" {torch_dtype_name(A.dtype)}"
        )
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            "linalg.matrix_power: A must be batches of square matrices, but they are"
            f" {A.shape[-2] if A.ndim >= 2 else 1} by {A.shape[-1]} matrices"
        )


def matrix_exp(A) -> Tensor:
    """exp(A) = Σ_k Aᵏ/k! for A (*, n, n), by scaling and squaring with a Padé approximant.

    Ā = [exp([[Aᵀ, Ȳ], [0, Aᵀ]])]_{12}   (the Fréchet derivative of exp at Aᵀ along Ȳ)
    """
    return apply(D.MatrixExp, C.square("linalg.matrix_exp", A))


def _chain_order(dims: list) -> list:
    """split[i][j]: where the optimal product of matrices i..j splits (the classic O(n³)
    matrix-chain dynamic programme on the p_0 × p_1, …, p_{n−1} × p_n shapes)."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def multi_dot(tensors) -> Tensor:
    """A_1 A_2 ⋯ A_N in the cheapest order; the first may be a 1-D row vector and the last a
    1-D column vector (their dims are dropped from the result), the rest are 2-D."""
    name = "multi_dot()"
    ts = [C.tensor("linalg.multi_dot", t) for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"{name}: expected at least 2 tensors but got {len(ts)}")
    for k, t in enumerate(ts):
        where = "first" if k == 0 else "last" if k == len(ts) - 1 else None
        ok = t.ndim in (1, 2) if where else t.ndim == 2
        if not ok:
            what = f"the {where} tensor must be 1D or 2D" if where else f"tensor {k} must be 2D"
            raise RuntimeError(f"{name}: {what} but got {t.ndim}D (shape {t.shape})")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for k in range(len(ts) - 1):
        if ts[k].shape[1] != ts[k + 1].shape[0]:
            raise RuntimeError(
                f"{name}: tensors {k} and {k + 1} with shapes {ts[k].shape} and"
                f" {ts[k + 1].shape} cannot be multiplied"
            )
    split = _chain_order([ts[0].shape[0]] + [t.shape[1] for t in ts])

    def product(i, j):
        if i == j:
            return ts[i]
        k = split[i][j]
        return product(i, k) @ product(k + 1, j)

    out = product(0, len(ts) - 1)
    if first_vec:
        out = out.squeeze(0)
    if last_vec:
        out = out.squeeze(-1)
    return out


@as_one_op("linalg_vecdot")
def vecdot(x, y, *, dim=-1) -> Tensor:
    """Σ_i x̄_i y_i along dim, x and y broadcast (torch.linalg.vecdot: x conjugated when
    complex)."""
    x, y = C.tensor("linalg.vecdot", x), C.tensor("linalg.vecdot", y)
    if x.dtype != y.dtype:  # torch does not promote here
        raise RuntimeError(
            f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type"
            f" {torch_dtype_name(x.dtype)} and y of type {torch_dtype_name(y.dtype)} instead"
        )
    return ((x.conj() if x.dtype.kind == "c" else x) * y).sum(dim=dim)


def matmul(input, other) -> Tensor:  # noqa: A002 - torch's name
    """torch.linalg.matmul: the same as ``input @ other``, integer matrices included."""
    return C.as_tensor(input) @ C.as_tensor(other)
