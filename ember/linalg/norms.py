"""Norms and the quantities built on singular values: vector_norm, matrix_norm, norm, cond,
matrix_rank, with torch.linalg's arguments, dispatch and gradients.

Every norm is a composition of differentiable ops whose gradients are torch's: |x| and Σ give
sign(x) (0 at 0) for ord 1, max/min of |x| share the gradient evenly among ties (torch's amax),
and the p-norms are ember's PNorm (0 where the norm is 0) or, for p < 0, NegativePNorm.
"""

from __future__ import annotations

import math

from ..backend import xp
from ..ops import elementwise as E
from ..ops import linalg_decomp as D
from ..ops.linalg_funcs import NoGradient
from ..promotion import torch_dtype_name as _name
from ..tensor import Tensor, apply
from . import _common as C

_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def _axes(dim, ndim: int, name: str) -> tuple:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):  # a 0-d tensor takes dim 0 and -1, as torch
            raise IndexError(f"{name}: dim {d} is out of range for a tensor of {ndim} dims")
        out.append(d % max(ndim, 1))
    if len(set(out)) != len(out):
        raise RuntimeError(f"{name}: dims {dims} repeat a dimension")
    return tuple(out)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None) -> Tensor:  # noqa: A002
    """‖x‖_ord over ``dim`` (all elements when None), as torch.linalg.vector_norm.

        ord = 2:     √(Σ x_i²)           ∂/∂x = x / ‖x‖ (0 at x = 0)
        ord = p:     (Σ |x_i|^p)^{1/p}   ∂/∂x_i = sign(x_i)|x_i|^{p−1} / ‖x‖^{p−1}
        ord = 1:     Σ |x_i|             ∂/∂x = sign(x)
        ord = ±inf:  max / min |x_i|     the gradient shared evenly among the tied x_i
        ord = 0:     #{x_i ≠ 0}          no gradient

    p < 0 gives 0 when some x_i is 0. ``dtype`` casts x first.
    """
    if isinstance(ord, str) or isinstance(ord, bool):
        raise TypeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    x = _cast("linalg.vector_norm", C.tensor("linalg.vector_norm", x), dtype)
    axes = () if dim is None else _axes(dim, x.ndim, "linalg.vector_norm")
    if ord < 0 or ord == math.inf:
        _refuse_empty(x, ord, dim, axes)
    axes = axes or tuple(range(x.ndim))  # dim None or (): every dim, as torch
    if x.ndim == 0:
        x, axes = x.reshape(1), (0,)
        if keepdim:
            return vector_norm(x, ord, None, False).reshape(())
    if ord < 0 and ord != -math.inf:
        return apply(D.NegativePNorm, x, p=float(ord), axes=axes, keepdim=keepdim)
    if ord == 0:  # a count, real: torch records it, and its backward leaves x.grad None
        count = x.detach().norm(p=0, dim=axes, keepdim=keepdim).array
        return apply(NoGradient, x, value=count.real.astype(C.real_dtype(x), copy=False))
    return x.norm(p=ord, dim=axes, keepdim=keepdim)


def _cast(name: str, x: Tensor, dtype) -> Tensor:
    """x cast to ``dtype``, which torch lets only widen x within its kind (real stays real,
    complex stays complex): a narrower or other-kind dtype is refused, not silently rounded."""
    if dtype is None:
        return x
    want = xp.dtype(dtype)
    if want.kind not in "fc":
        raise RuntimeError(
            f"{name}: dtype should be floating point or complex, but got {_name(want)}"
        )
    kind = "complex" if x.dtype.kind == "c" else "real"
    if (want.kind == "c") != (kind == "complex"):
        raise RuntimeError(
            f"{name}: dtype should be {kind} for {kind} inputs, but got {_name(want)}"
        )
    if xp.promote_types(x.dtype, want) != want:
        raise RuntimeError(
            f"{name}: the dtype of the input ({_name(x.dtype)}) should be convertible without"
            f" narrowing to the specified dtype ({_name(want)})"
        )
    return x.to(dtype)


def _refuse_empty(x: Tensor, ord, dim, axes: tuple) -> None:
    """torch's error for a norm without an identity (ord < 0, or inf) over an empty dim."""
    what = f"linalg.vector_norm cannot compute the {ord:g} norm on"
    why = "the operation does not have an identity"
    if not axes and x.numel() == 0:
        raise RuntimeError(f"{what} an empty tensor because {why}")
    given = (dim,) if isinstance(dim, int) else tuple(dim or ())
    for d, a in zip(given, axes):
        if x.ndim and x.shape[a] == 0:  # torch's message, its missing space included
            raise RuntimeError(f"{what} the dimension {d}because this dimension is empty and {why}")


def _extreme(t: Tensor, dim: int, keepdim: bool, largest: bool, shown=None) -> Tensor:
    """max / min over ``dim``; over an empty dim torch's matrix_norm gives 0 for the max, with
    no graph, and amin's IndexError (naming the dim as ``shown``) for the min."""
    if t.shape[dim] == 0:
        if not largest:
            shown = dim if shown is None else shown
            raise IndexError(f"amin(): Expected reduction dim {shown} to have non-zero size.")
        shape = list(t.shape)
        shape[dim : dim + 1] = [1] if keepdim else []
        return Tensor(xp.zeros(shape, dtype=t.dtype))
    # NumPy's axis= (values only, ties share the gradient, as amax): torch's dim= is one int
    return t.max(axis=(dim,), keepdims=keepdim) if largest else t.min(axis=(dim,), keepdims=keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None) -> Tensor:  # noqa: A002
    """The matrix norm of A over the two dims ``dim``, as torch.linalg.matrix_norm.

        'fro':    √(Σ_ij a_ij²)            'nuc':  Σ σ_i (the nuclear norm)
        2 / -2:   σ_max / σ_min            1 / -1: max / min over columns of Σ_i |a_ij|
        inf/-inf: max / min over rows of Σ_j |a_ij|

    Gradients through svdvals (∂σ_i/∂A = u_i v_iᵀ) and max/min (shared among ties).
    """
    A = _cast("linalg.matrix_norm", C.matrices("linalg.matrix_norm", A), dtype)
    if isinstance(dim, int) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    d0, d1 = _axes(dim, A.ndim, "linalg.matrix_norm")
    if ord not in _MATRIX_ORDS or isinstance(ord, bool):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        rest = [d for d in range(A.ndim) if d not in (d0, d1)]
        s = svdvals(A.permute(*rest, d0, d1))
        out = s.sum(dim=-1) if ord == "nuc" else _extreme(s, s.ndim - 1, False, ord == 2, -1)
        if keepdim:
            for d in sorted((d0, d1)):
                out = out.unsqueeze(d)
        return out
    if abs(ord) == math.inf:  # the inf-norm is the 1-norm of the transpose
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:  # summing over d0 first shifts d1 down
        d1 -= 1
    return _extreme(vector_norm(A, 1, (d0,), keepdim), d1, keepdim, ord > 0)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None) -> Tensor:  # noqa: A002
    """torch.linalg.norm: a matrix norm when ord is given and dim has 2 entries (or dim is None
    and A is 2-D), else a vector norm (ord None meaning 2, over all of A when dim is None).

    A string ord ('fro', 'nuc') is always a matrix norm, over dims (0, 1) when dim is None.
    """
    A = C.tensor("linalg.norm", A)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) not in (1, 2):
        raise RuntimeError(
            f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {dim}"
        )
    if dim is None and (ord is not None) and A.ndim not in (1, 2):
        raise RuntimeError(
            "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D."
            f" Got {A.ndim}D (shape {A.shape})."
        )
    if isinstance(ord, str):
        return matrix_norm(A, ord, (0, 1) if dim is None else dim, keepdim, dtype=dtype)
    if ord is not None and ((dim is not None and len(dim) == 2) or (dim is None and A.ndim == 2)):
        return matrix_norm(A, ord, (0, 1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def svdvals(A) -> Tensor:
    """σ_1 ≥ … ≥ σ_k of A (k = min(m, n)), as torch.linalg.svdvals; ∂σ_i/∂A = u_i v_iᵀ."""
    return apply(D.SvdVals, C.matrices("linalg.svdvals", A))


def cond(A, p=None) -> Tensor:
    """κ_p(A) = ‖A‖_p·‖A⁻¹‖_p; for p None or 2 (−2) σ_max/σ_min (σ_min/σ_max) from svdvals,
    for any matrix shape; the other orders ('fro', 'nuc', ±1, ±inf) need square A.

    An empty A gives 0 per matrix, as torch's (no graph; only 'fro' and 'nuc' check the shape).
    """
    if p is not None and p not in _MATRIX_ORDS:
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    A = C.as_tensor(A)
    if A.ndim >= 2 and A.numel() == 0:  # torch's zeros, in A's real dtype (an integer one too)
        m, n = A.shape[-2:]
        if p in ("fro", "nuc") and m != n:
            raise RuntimeError(
                f"linalg.cond(ord={p}): A must be batches of square matrices, but they are {m} by"
                f" {n} matrices"
            )
        return Tensor(xp.zeros(A.shape[:-2], dtype=C.real_dtype(A)))
    if p is None or p in (2, -2):
        s = svdvals(C.matrices("linalg.cond", A))
        ratio = s[..., 0] / s[..., -1]
        return ratio if p != -2 else 1 / ratio
    from .ex import _lu_info  # norms ← solvers would be a cycle at import time
    from .solvers import inv

    A = C.square("linalg.cond", A)
    bad = _lu_info(A) != 0
    if not bool(bad.any()):
        return matrix_norm(A, p) * matrix_norm(inv(A), p)
    # a singular A has no inverse: κ = inf there, as torch (not inv's LinAlgError); I stands
    # in for it so that the rest of the batch keeps its values and gradients
    eye = Tensor(xp.eye(A.shape[-1], dtype=A.dtype))
    out = matrix_norm(A, p) * matrix_norm(inv(apply(E.Where, eye, A, cond=bad[..., None, None])), p)
    return apply(E.Where, Tensor(xp.asarray(xp.inf, dtype=out.dtype)), out, cond=bad)


def matrix_rank(A, tol=None, *args, atol=None, rtol=None, hermitian=False) -> Tensor:
    """The number of singular values σ > max(atol, rtol·σ_max) (|λ| for hermitian), int64, no
    gradient; rtol defaults to eps·max(m, n) when atol is not given (or is 0).

    torch's older form ``matrix_rank(A, tol, hermitian=False)`` is atol = tol, rtol = 0; it
    takes neither atol nor rtol beside it."""
    if tol is None and args:
        raise TypeError("linalg.matrix_rank: tol must be given to pass hermitian positionally")
    if tol is not None:
        if atol is not None or rtol is not None or len(args) > 1:
            raise TypeError("linalg.matrix_rank: tol cannot be combined with atol or rtol")
        atol, rtol, hermitian = tol, 0.0, bool(args[0]) if args else hermitian
    A = C.matrices("linalg.matrix_rank", A)
    atol_a, rtol_a = _tolerances(A, atol, rtol)
    if A.numel() == 0:  # no σ_max to scale rtol by: torch's 0 per matrix (square or not)
        return Tensor(xp.zeros(A.shape[:-2], dtype=xp.int64))
    a = A.array
    s = xp.abs(xp.linalg.eigvalsh(a)) if hermitian else xp.linalg.svd(a, compute_uv=False)
    tol = xp.maximum(atol_a[..., None], rtol_a[..., None] * s.max(-1, keepdims=True))
    return Tensor((s > tol).sum(-1).astype(xp.int64))


def _tolerances(A: Tensor, atol, rtol):
    """torch's get_atol_rtol: atol 0 by default; rtol eps·max(m, n) unless atol is given (then
    0 where atol > 0)."""
    eps = xp.finfo(A.dtype).eps * max(A.shape[-2:])
    atol_a = C.tolerance(atol, A)
    rtol_a = C.tolerance(rtol, A)
    real = C.real_dtype(A)
    if rtol_a is None:
        default = xp.asarray(eps, dtype=real)
        rtol_a = default if atol_a is None else xp.where(atol_a > 0, 0, default).astype(real)
    if atol_a is None:
        atol_a = xp.zeros((), dtype=real)
    return atol_a, rtol_a
