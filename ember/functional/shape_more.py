"""Further shape functions as torch's: rot90, hsplit, vsplit, dsplit, msort, kthvalue (the
Tensor methods of tensor_shape_more.py, taking the tensor first), tensordot and block_diag.

Each is a composition of differentiable ops, so autograd gives its gradient; an input that
is not a Tensor (an array or a list) is taken as a constant tensor.
"""

from __future__ import annotations

from functools import reduce
from math import prod

from ..amp.composite import as_one_op
from ..backend import xp
from ..promotion import promote_types
from ..tensor import Tensor
from .shape import cat


def _t(input) -> Tensor:  # noqa: A002 - torch's argument name
    return input if isinstance(input, Tensor) else Tensor(input)


def rot90(input, k: int = 1, dims=(0, 1)) -> Tensor:  # noqa: A002
    """input rotated by 90° k times in the plane of dims, from dims[0] towards dims[1]."""
    return _t(input).rot90(k, dims)


def hsplit(input, indices_or_sections) -> tuple:  # noqa: A002
    """tensor_split along dim 1 (dim 0 of a 1-D tensor); an int must divide that size."""
    return _t(input).hsplit(indices_or_sections)


def vsplit(input, indices_or_sections) -> tuple:  # noqa: A002
    """tensor_split along dim 0 of a tensor of ≥ 2 dims; an int must divide that size."""
    return _t(input).vsplit(indices_or_sections)


def dsplit(input, indices_or_sections) -> tuple:  # noqa: A002
    """tensor_split along dim 2 of a tensor of ≥ 3 dims; an int must divide that size."""
    return _t(input).dsplit(indices_or_sections)


def msort(input) -> Tensor:  # noqa: A002
    """input sorted along dim 0 (values only)."""
    return _t(input).msort()


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """(values, indices) of the k-th smallest element (1-based) along dim."""
    return _t(input).kthvalue(k, dim, keepdim)


def _dim(d: int, ndim: int, which: str) -> int:
    if not -ndim <= d < max(ndim, 1) or ndim == 0:
        raise IndexError(
            f"tensordot(): dimension {d} of {which} is out of range (expected to be in range of"
            f" [{-ndim}, {ndim - 1}], but got {d})"
        )
    return d % ndim


@as_one_op("tensordot")
def tensordot(a, b, dims=2) -> Tensor:
    """The sum of products of a and b over dims: an int n pairs a's last n dims with b's first
    n; a pair of lists ([a dims], [b dims]) pairs them in order. The result has a's remaining
    dims then b's."""
    a, b = _t(a), _t(b)
    if isinstance(dims, int) and not isinstance(dims, bool):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(
                f"tensordot expects dims <= {min(a.ndim, b.ndim)} (the fewer dims of a and b),"
                f" but got dims={dims}"
            )
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError(
                f"tensordot expects dims to be an int or a pair of lists, got {len(dims)} items"
            )
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(da) != len(db):
            raise RuntimeError(
                f"both dimension lists should have same length, got {len(da)} and {len(db)}"
            )
        da = [_dim(d, a.ndim, "a") for d in da]
        db = [_dim(d, b.ndim, "b") for d in db]
    for i, j in zip(da, db, strict=True):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[i]} in dim"
                f" {i} and second has size {b.shape[j]} in dim {j}"
            )
    if len(set(da)) != len(da) or len(set(db)) != len(db):
        raise RuntimeError(f"tensordot(): a dim appears twice in dims: {da}, {db}")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    sa, sb = [a.shape[d] for d in fa], [b.shape[d] for d in fb]
    c = prod(a.shape[d] for d in da)
    am = a.permute(*fa, *da).reshape(prod(sa), c)
    bm = b.permute(*db, *fb).reshape(c, prod(sb))
    return (am @ bm).reshape(*sa, *sb)


def block_diag(*tensors) -> Tensor:
    """The tensors placed along the diagonal of a 2-D tensor, zeros elsewhere; a 0-d input is
    a 1×1 block, a 1-D one of n elements a 1×n block. The dtype is the inputs' promoted one."""
    ts = [_t(t) for t in tensors]
    for i, t in enumerate(ts):
        if t.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has"
                f" {t.ndim} dimensions"
            )
    if not ts:
        return Tensor(xp.zeros((1, 0), xp.float32))
    dtype = reduce(promote_types, (t.array.dtype for t in ts))
    blocks = [t.reshape(1, -1) if t.ndim < 2 else t for t in ts]
    blocks = [t if t.dtype == dtype else t.to(dtype) for t in blocks]
    width = sum(t.shape[1] for t in blocks)
    rows, left = [], 0
    for t in blocks:
        h, w = t.shape
        pieces = [Tensor(xp.zeros((h, left), dtype)), t]
        pieces.append(Tensor(xp.zeros((h, width - left - w), dtype)))
        rows.append(cat(pieces, 1))
        left += w
    return cat(rows, 0)
