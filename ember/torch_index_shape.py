"""ember.* functions for torch's further index and shape functions (index_put, masked_scatter, put,
take, select, moveaxis, diagflat, atleast_1d/2d/3d, column_stack, row_stack, hstack, vstack,
dstack), as torch's top-level functions; ``__all__`` lists them.

The index ones take the tensor first and call the Tensor methods of tensor_index_shape.py; the
stacks are cat of reshaped tensors, after torch's dtype promotion. All are differentiable.
"""

from __future__ import annotations

from functools import reduce

from .functional.shape import cat
from .promotion import promote_types
from .tensor import Tensor

__all__ = [
    "index_put",
    "index_put_",
    "masked_scatter",
    "put",
    "take",
    "select",
    "moveaxis",
    "diagflat",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "column_stack",
    "row_stack",
    "hstack",
    "vstack",
    "dstack",
]


def _t(input) -> Tensor:  # noqa: A002 - torch's argument name
    return input if isinstance(input, Tensor) else Tensor(input)


def index_put(input, indices, values, accumulate=False) -> Tensor:  # noqa: A002
    """A copy of input with out[indices] = values (broadcast), or += with accumulate."""
    return _t(input).index_put(indices, values, accumulate)


def index_put_(input, indices, values, accumulate=False) -> Tensor:  # noqa: A002
    """input[indices] = values (or += with accumulate) in place; returns input."""
    return input.index_put_(indices, values, accumulate)


def masked_scatter(input, mask, source) -> Tensor:  # noqa: A002
    """A copy of input (broadcast with mask) with its masked places filled in order from
    source's elements."""
    return _t(input).masked_scatter(mask, source)


def put(input, index, source, accumulate=False) -> Tensor:  # noqa: A002
    """A copy of input with the flattened out[index] = source (or += with accumulate)."""
    return _t(input).put(index, source, accumulate)


def take(input, index) -> Tensor:  # noqa: A002
    """The elements of the flattened input at index, shaped as index."""
    return _t(input).take(index)


def select(input, dim, index) -> Tensor:  # noqa: A002
    """The slice of input at index along dim, that dim removed."""
    return _t(input).select(dim, index)


def moveaxis(input, source, destination) -> Tensor:  # noqa: A002
    """input with dims source moved to positions destination, the rest in their order."""
    return _t(input).moveaxis(source, destination)


def diagflat(input, offset=0) -> Tensor:  # noqa: A002
    """The square matrix with input's flattened elements on diagonal offset, zeros elsewhere."""
    return _t(input).diagflat(offset)


def _atleast(n: int, tensors):
    """Each tensor with dims of size 1 added up to n dims (torch's placement); one tensor
    in, one out; several (or a list), a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast(n, (t,)) for t in tensors[0])
    if len(tensors) != 1:
        return tuple(_atleast(n, (t,)) for t in tensors)
    x = _t(tensors[0])
    if x.ndim >= n:
        return x
    if n == 1 or x.ndim == 0:
        return x.reshape((1,) * n)
    if n == 2:  # a 1-D (k,) becomes a row (1, k)
        return x.reshape(1, -1)
    return x.reshape(1, -1, 1) if x.ndim == 1 else x.unsqueeze(-1)  # n == 3


def atleast_1d(*tensors):
    """Each input with a 0-d tensor made 1-D (shape (1,)); others unchanged."""
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """Each input with fewer than 2 dims made 2-D: a 0-d one (1, 1), a 1-D (n,) one (1, n)."""
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """Each input with fewer than 3 dims made 3-D: 0-d (1, 1, 1), (n,) (1, n, 1), (m, n)
    (m, n, 1)."""
    return _atleast(3, tensors)


def _join(tensors, dim: int) -> Tensor:
    """cat along dim after torch's dtype promotion, with torch's error for clashing sizes."""
    ts = list(tensors)
    dtype = reduce(promote_types, (t.array.dtype for t in ts))
    ts = [t if t.array.dtype == dtype else t.to(dtype) for t in ts]
    legacy = any(t.ndim != 1 for t in ts)  # as cat, torch skips (0,) tensors among others
    kept = [(k, t) for k, t in enumerate(ts) if not (legacy and tuple(t.shape) == (0,))]
    kept = kept or list(enumerate(ts))
    ref = kept[0][1].shape
    for k, t in kept:
        if t.ndim != len(ref):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(ref)} and {t.ndim}"
            )
        for d, (a, b) in enumerate(zip(ref, t.shape)):
            if d != dim and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size {a}"
                    f" but got size {b} for tensor number {k} in the list."
                )
    return cat(ts, dim)


def _tensors(name: str, tensors, alias: str | None = None) -> list:
    """The tensors of a stack, with torch's errors (row_stack names itself only in the first)."""
    if isinstance(tensors, Tensor):
        raise TypeError(
            f"{alias or name}(): argument 'tensors' (position 1) must be tuple of Tensors,"
            " not Tensor"
        )
    ts = [_t(t) for t in tensors]
    if not ts:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return ts


def hstack(tensors) -> Tensor:
    """The tensors (made at least 1-D) joined along dim 1, or dim 0 when they are 1-D."""
    ts = atleast_1d(_tensors("hstack", tensors))
    return _join(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """The tensors (made at least 2-D, a 1-D one a row) joined along dim 0."""
    return _join(atleast_2d(_tensors("vstack", tensors)), 0)


def row_stack(tensors) -> Tensor:
    """The tensors (made at least 2-D, a 1-D one a row) joined along dim 0 (vstack)."""
    return _join(atleast_2d(_tensors("vstack", tensors, "row_stack")), 0)


def dstack(tensors) -> Tensor:
    """The tensors (made at least 3-D) joined along dim 2."""
    return _join(atleast_3d(_tensors("dstack", tensors)), 2)


def column_stack(tensors) -> Tensor:
    """The tensors joined along dim 1, each 0-d or 1-D one first made a column (n, 1)."""
    ts = _tensors("column_stack", tensors)
    return _join([t.reshape(-1, 1) if t.ndim <= 1 else t for t in ts], 1)
