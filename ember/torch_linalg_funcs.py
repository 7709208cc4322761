"""ember.* functions for torch's further products and linear algebra (addbmm, baddbmm, addmv,
addr, chain_matmul, vdot, inner, ger, mv, matrix_power, matrix_exp, logdet, slogdet, pinverse,
lu, cholesky_solve, triangular_solve), as torch's top-level functions; ``__all__`` lists them.
The float and integer maths (frexp, ldexp, gcd, lcm, copysign) are in torch_int_math.py.

Each is a composition of differentiable ops (matmul, ember.linalg's solvers …), so autograd
gives the gradients; the LU factorization is a primitive in ember/ops/linalg_funcs.py. Argument
orders, defaults and results are torch's legacy ones (``triangular_solve(b, A)`` returns
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

__all__ = [
    "addbmm",
    "addmv",
    "addr",
    "baddbmm",
    "chain_matmul",
    "cholesky_solve",
    "ger",
    "inner",
    "logdet",
    "lu",
    "matrix_exp",
    "matrix_power",
    "mv",
    "pinverse",
    "slogdet",
    "triangular_solve",
    "vdot",
]

#: Named as torch.return_types: ``sign, logabsdet = ember.slogdet(A)`` …
SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])
TriangularSolveResult = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
LuWithInfoResult = namedtuple("_lu_with_info", ["LU", "pivots", "info"])


def _t(a) -> Tensor:
    return a if isinstance(a, Tensor) else Tensor(xp.asarray(a))


def _shape(t: Tensor) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


def _expand_check(t: Tensor, target: tuple) -> None:
    """torch's expand(): t must broadcast to exactly ``target``."""
    shape = tuple(t.shape)
    if len(shape) > len(target):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(target)}) must be greater or equal to"
            f" the number of dimensions in the tensor ({len(shape)})"
        )
    pad = (1,) * (len(target) - len(shape)) + shape
    for d, (s, n) in enumerate(zip(pad, target)):
        if s != 1 and s != n:
            raise RuntimeError(
                f"The expanded size of the tensor ({n}) must match the existing size ({s}) at"
                f" non-singleton dimension {d}.  Target sizes: {list(target)}.  Tensor sizes:"
                f" {list(shape)}"
            )


def _zero_grad_one(t: Tensor) -> Tensor:
    """1, of t's shape and dtype, whose gradient to t is 0: out·_zero_grad_one(t) keeps out's
    values (−0.0 and all) yet gives t the zero gradient torch gives an ignored input."""
    zero = Tensor(xp.zeros((), dtype=t.dtype))
    return t.where(xp.zeros(t.shape, dtype=bool), zero) + 1


def _add_scaled(input, product: Tensor, beta, alpha) -> Tensor:  # noqa: A002
    """β·input + α·product, input broadcast to product's shape; β = 0 ignores input (nan too)."""
    input = _t(input)  # noqa: A001
    _expand_check(input, tuple(product.shape))
    out = product if alpha == 1 else product * alpha
    if beta == 0:
        # input's values are ignored (its nan too), but its gradient is 0, as torch's
        return out * _zero_grad_one(input) if input.requires_grad else out
    return out + (input if beta == 1 else input * beta)


# ------------------------------------------------------------ products
def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """torch.addmv: β·input + α·(mat @ vec)."""
    input, mat, vec = _t(input), _t(mat), _t(vec)  # noqa: A001
    if mat.ndim != 2 or vec.ndim != 1 or input.ndim > 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}"
        )
    if mat.shape[1] != vec.shape[0] or (
        input.ndim == 1 and input.shape[0] not in (1, mat.shape[0])
    ):
        size = f"({input.shape[0]})" if input.ndim == 1 else "()"
        raise RuntimeError(
            f"size mismatch, got input {size}, mat ({mat.shape[0]}x{mat.shape[1]}),"
            f" vec ({vec.shape[0]})"
        )
    if not input.dtype == mat.dtype == vec.dtype:
        raise RuntimeError(
            "addmv input tensors must have the same dtype, but got"
            f" {_name(input.dtype)}, {_name(mat.dtype)}, and {_name(vec.dtype)}"
        )
    return _add_scaled(input, mat @ vec, beta, alpha)


def mv(input, vec) -> Tensor:  # noqa: A002
    """torch.mv: input @ vec, a matrix (n, m) times a vector (m,)."""
    input, vec = _t(input), _t(vec)  # noqa: A001
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x"
            f"{input.shape[1]}), vec ({vec.shape[0]})"
        )
    if input.dtype != vec.dtype:
        raise RuntimeError(
            "addmv input tensors must have the same dtype, but got"
            f" {_name(vec.dtype)}, {_name(input.dtype)}, and {_name(vec.dtype)}"
        )
    return input @ vec


def _outer(name: str, vec1: Tensor, vec2: Tensor, names=("vec1", "vec2")) -> Tensor:
    for arg, v in zip(names, (vec1, vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"{name}: Expected 1-D argument {arg}, but got {v.ndim}-D")
    return vec1.reshape(-1, 1) * vec2.reshape(1, -1)


def addr(input, vec1, vec2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """torch.addr: β·input + α·(vec1 ⊗ vec2), out[i, j] = β·input[i, j] + α·vec1ᵢ·vec2ⱼ."""
    return _add_scaled(input, _outer("addr", _t(vec1), _t(vec2)), beta, alpha)


def ger(input, vec2) -> Tensor:  # noqa: A002
    """torch.ger (torch.outer): out[i, j] = inputᵢ·vec2ⱼ."""
    return _outer("outer", _t(input), _t(vec2), ("self", "vec2"))


def _batches(name: str, batch1: Tensor, batch2: Tensor, input_dtype=None) -> None:
    for arg, b in (("batch1", batch1), ("batch2", batch2)):
        if b.ndim != 3:
            raise RuntimeError(f"{arg} must be a 3D tensor")
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(
            f"batch1 and batch2 must have same number of batches, got {batch1.shape[0]} and"
            f" {batch2.shape[0]}"
        )
    if batch1.shape[2] != batch2.shape[1] and name == "addbmm":
        raise RuntimeError(
            f"Incompatible matrix sizes for bmm ({batch1.shape[1]}x{batch1.shape[2]} and"
            f" {batch2.shape[1]}x{batch2.shape[2]})"
        )
    if batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{batch1.shape[0]}, {batch1.shape[2]}] but got: "
            f"[{batch2.shape[0]}, {batch2.shape[1]}]."
        )
    dtypes = (input_dtype, batch1.dtype, batch2.dtype)
    if name == "addbmm" and len(set(dtypes)) > 1:
        pair = dtypes[:2] if dtypes[0] != dtypes[1] else dtypes[1:]
        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {_name(pair[0])} and {_name(pair[1])}"
        )
    if batch1.dtype != batch2.dtype:
        raise RuntimeError(
            f"expected scalar type {_name(batch1.dtype)} but found {_name(batch2.dtype)}"
        )
    if len(set(dtypes)) > 1:
        low = [_name(d).lower() for d in dtypes]
        raise RuntimeError(
            f"Input dtypes must be the same, got: input {low[0]}, batch1: {low[1]},"
            f" batch2: {low[2]}"
        )


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """torch.baddbmm: β·input + α·(batch1 @ batch2), per batch b: β·input_b + α·(B1_b @ B2_b)."""
    batch1, batch2 = _t(batch1), _t(batch2)
    _batches("baddbmm", batch1, batch2, _t(input).dtype)
    return _add_scaled(input, batch1 @ batch2, beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """torch.addbmm: β·input + α·Σ_b (batch1_b @ batch2_b)."""
    batch1, batch2 = _t(batch1), _t(batch2)
    _batches("addbmm", batch1, batch2, _t(input).dtype)
    b, n, m = batch1.shape
    p = batch2.shape[2]
    # Σ_b B1_b B2_b = [B1_1 … B1_b] (n, b·m) @ [B2_1; …; B2_b] (b·m, p): one product
    product = batch1.permute(1, 0, 2).reshape(n, b * m) @ batch2.reshape(b * m, p)
    return _add_scaled(input, product, beta, alpha)


def chain_matmul(*matrices) -> Tensor:
    """torch.chain_matmul: M₁ M₂ ⋯ M_N of 2-D matrices, multiplied in the cheapest order."""
    if len(matrices) == 0:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    ms = [_t(m) for m in matrices]
    for m in ms:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    if len(ms) == 1:
        return ms[0].clone()
    return LA.multi_dot(ms)


def vdot(input, other) -> Tensor:  # noqa: A002
    """torch.vdot: Σᵢ conj(inputᵢ)·otherᵢ of two 1-D tensors (real tensors: the dot product)."""
    x, y = _t(input), _t(other)
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src [{y.shape[0]}] to"
            " have the same number of elements, but got"
            f" {x.shape[0]} and {y.shape[0]} elements respectively"
        )
    if x.dtype != y.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found"
            f" {_name(x.dtype)} and {_name(y.dtype)}"
        )
    return x.conj() @ y  # conj() is x itself for a real x


def inner(input, other) -> Tensor:  # noqa: A002
    """torch.inner: out[i…, j…] = Σ_k input[i…, k]·other[j…, k] (a 0-dim operand scales)."""
    x, y = _t(input), _t(other)
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    k = x.shape[-1]
    if y.shape[-1] != k:
        raise RuntimeError(
            "inner() the last dimension must match on both input tensors but got shapes"
            f" {_shape(x)} and {_shape(y)}"
        )
    out = x.reshape(-1, k) @ y.reshape(-1, k).transpose(0, 1)
    return out.reshape(tuple(x.shape[:-1]) + tuple(y.shape[:-1]))


# ------------------------------------------------------------ linear algebra
def matrix_power(input, n) -> Tensor:  # noqa: A002
    """torch.matrix_power: inputⁿ for an integer n (I for n = 0, (input⁻¹)^|n| for n < 0)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(
            f"matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}"
        )
    A = _t(input)
    _at_least_2d("linalg.matrix_power", A)
    if A.dtype.kind in "biu" and n < 0:
        raise RuntimeError(
            "linalg.inv: Expected a floating point or complex tensor as input. Got"
            f" {_name(A.dtype)}"
        )
    if A.dtype.kind in "biu":  # integer matrices: products only, as torch
        if A.shape[-1] != A.shape[-2]:
            raise RuntimeError(
                f"linalg.matrix_power: A must be batches of square matrices, but they are"
                f" {A.shape[-2]} by {A.shape[-1]} matrices"
            )
        if n == 0:
            eye = xp.eye(A.shape[-1], dtype=A.dtype)
            return Tensor(xp.broadcast_to(eye, A.shape).copy())
        out = A
        for _ in range(n - 1):
            out = out @ A
        return out
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
    if A.dtype.kind != "f":
        raise RuntimeError(
            f"logdet: Expected a floating point or complex tensor as input. Got {_name(A.dtype)}"
        )
    if A.ndim < 2:
        raise RuntimeError("logdet: The input tensor A must have at least 2 dimensions.")
    sign, logabsdet = LA.slogdet(A)
    nan = Tensor(xp.asarray(xp.nan, dtype=logabsdet.dtype))
    return logabsdet.where(sign.array >= 0, nan)


def pinverse(input, rcond=1e-15) -> Tensor:  # noqa: A002
    """torch.pinverse: input⁺, the Moore–Penrose pseudo-inverse, σ ≤ rcond·σ_max dropped."""
    A = _t(input)
    if A.ndim < 2 or A.dtype.kind != "f":
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
    if A.dtype.kind != "f":
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
    A = T @ T.mT if not upper else T.mT @ T  # noqa: N806
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
