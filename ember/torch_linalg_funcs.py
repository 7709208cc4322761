"""ember.* functions for torch's further products (addbmm, baddbmm, addmv, addr, chain_matmul,
vdot, inner, ger, mv), as torch's top-level functions, and the matrix functions and solvers of
torch_matrix_funcs.py (matrix_power, matrix_exp, logdet, slogdet, pinverse, lu, cholesky_solve,
triangular_solve), re-exported here; ``__all__`` lists them all. The float and integer maths
(frexp, ldexp, gcd, lcm, copysign) are in torch_int_math.py.

Each is a composition of differentiable ops (matmul, baddbmm's batched products …), so autograd
gives the gradients. Argument orders, defaults and broadcasting are torch's legacy ones
(``addmv(input, mat, vec, *, beta, alpha)``; β = 0 ignores input, nan included).
"""

from __future__ import annotations

from . import linalg as LA
from .amp.composite import as_one_op
from .promotion import torch_dtype_name as _name
from .tensor import Tensor
from .torch_matrix_funcs import (  # noqa: F401 - re-exported: ember.*, torch_int_math, …
    LuWithInfoResult,
    SlogdetResult,
    TriangularSolveResult,
    _shape,
    _t,
    _zero_grad_one,
    cholesky_solve,
    logdet,
    lu,
    matrix_exp,
    matrix_power,
    pinverse,
    slogdet,
    triangular_solve,
)

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
@as_one_op("addmv")
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


@as_one_op("mv")
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


@as_one_op("addr")
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


@as_one_op("baddbmm")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """torch.baddbmm: β·input + α·(batch1 @ batch2), per batch b: β·input_b + α·(B1_b @ B2_b)."""
    batch1, batch2 = _t(batch1), _t(batch2)
    _batches("baddbmm", batch1, batch2, _t(input).dtype)
    return _add_scaled(input, batch1 @ batch2, beta, alpha)


@as_one_op("addbmm")
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


@as_one_op("vdot")
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
