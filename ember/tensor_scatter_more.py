"""Tensor methods for torch's scatter variants: slice_scatter, select_scatter, diagonal_scatter,
split_with_sizes and index_reduce (with index_reduce_). Each is a composition of differentiable
ops (index_copy, index_put, split, scatter_reduce), so autograd gives torch's gradients: to self
outside the written region, and to src at the places it was written.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import xp
from .errors import InputError, KernelTypeError
from .ops.index import check_dim
from .ops.index_more import check_scalar_source
from .tensor_shape_methods import need_dims

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401

#: The reductions index_reduce knows (torch's: no 'sum', which is index_add)
INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def _src(op: str, src, x) -> Tensor:
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}(): argument 'src' must be Tensor, not {type(src).__name__}")
    if src.dtype != x.dtype:
        raise RuntimeError(
            f"{op}(): expected src to have the same dtype as self, got {src.dtype} and {x.dtype}"
        )
    return src


def _check_shape(op: str, src, shape) -> None:
    if tuple(src.shape) != tuple(shape):
        raise RuntimeError(
            f"{op}(): expected src to have a size equal to the slice of self. src size ="
            f" {list(src.shape)}, slice size = {list(shape)}"
        )


class ScatterMoreTensorMethods:
    """slice_scatter / select_scatter / diagonal_scatter / split_with_sizes / index_reduce."""

    __slots__ = ()

    def slice_scatter(self, src, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:
        """A copy of self with out[…, start:end:step, …] (along dim) = src."""
        op = "slice_scatter"
        src = _src(op, src, self)
        if self.ndim == 0:
            raise IndexError(f"{op}(): cannot slice a 0-d tensor")
        d = check_dim(op, dim, self.ndim)
        if step <= 0:
            raise RuntimeError(f"{op}(): slice step must be positive, got {step}")
        index = xp.arange(self.shape[d])[slice(start, end, step)]
        shape = list(self.shape)
        shape[d] = len(index)
        _check_shape(op, src, shape)
        return self.index_copy(d, index, src)

    def select_scatter(self, src, dim: int, index: int) -> Tensor:
        """A copy of self with out[…, index, …] (along dim) = src (self's shape without dim)."""
        op = "select_scatter"
        src = _src(op, src, self)
        if self.ndim == 0:
            raise IndexError(f"{op}(): cannot select from a 0-d tensor")
        d = check_dim(op, dim, self.ndim)
        n = self.shape[d]
        if not -n <= index < n:
            raise IndexError(
                f"{op}(): index {index} out of range for tensor of size {list(self.shape)}"
                f" at dimension {dim}"
            )
        _check_shape(op, src, self.shape[:d] + self.shape[d + 1 :])
        return self.index_copy(d, xp.asarray([index % n]), src.unsqueeze(d))

    def diagonal_scatter(self, src, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """A copy of self whose offset diagonal of the (dim1, dim2) planes is src (shaped as
        self.diagonal(offset, dim1, dim2): the other dims, then the diagonal)."""
        op = "diagonal_scatter"
        src = _src(op, src, self)
        a, b = check_dim(op, dim1, self.ndim), check_dim(op, dim2, self.ndim)
        if a == b:
            raise InputError(f"{op}(): dim1 and dim2 cannot be the same dim ({dim1})")
        r, c, k = self.shape[a], self.shape[b], offset
        n = max(0, min(r, c - k) if k >= 0 else min(r + k, c))
        rest = tuple(s for i, s in enumerate(self.shape) if i not in (a, b))
        _check_shape(op, src, rest + (n,))
        if n == 0:
            return self + src.sum() * 0  # nothing written; src still joins the graph
        i = xp.arange(n)
        # the (dim1, dim2) planes first: out[i, i + k, …] = src[…, i]
        x = self.movedim((a, b), (0, 1))
        out = x.index_put((i + max(0, -k), i + max(0, k)), src.movedim(-1, 0))
        out = out.movedim((0, 1), (a, b))
        # laid out as self, as torch's clone of it (the moved planes leave it column-major
        # for dims (1, 0); a later view or as_strided reads by the layout)
        return out.contiguous() if self.is_contiguous() and not out.is_contiguous() else out

    def split_with_sizes(self, split_sizes, dim: int = 0) -> tuple:
        """self split along dim into parts of the listed sizes (which must sum to its size)."""
        need_dims("split", self)
        d = check_dim("split_with_sizes", dim, self.ndim)
        sizes = [int(s) for s in split_sizes]
        n = self.shape[d]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size"
                f" at dimension {dim}), but got split_sizes={sizes}"
            )
        return tuple(self.split(sizes, d))

    def index_reduce(self, dim: int, index, source, reduce: str, *, include_self=True) -> Tensor:
        """A copy of self with each slice source[…, i, …] combined into out[…, index[i], …]
        along dim by reduce: 'prod', 'mean', 'amax' or 'amin' (torch.Tensor.index_reduce);
        scatter_reduce with index spread over source's shape, and its gradients."""
        op = "index_reduce"
        if reduce not in INDEX_REDUCTIONS:
            raise RuntimeError(
                f"{op}(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}."
            )
        if not isinstance(source, Tensor):
            raise TypeError(f"{op}(): argument 'source' must be Tensor, not {type(source)}")
        check_dim(op, dim, self.ndim)  # torch names a bad dim before a dtype
        if source.dtype != self.dtype:
            raise RuntimeError(
                f"{op}(): self ({self.dtype}) and source ({source.dtype}) must have the same"
                f" scalar type"
            )
        if self.array.dtype.kind == "c" and (self.ndim <= 1 or reduce in ("amax", "amin")):
            # torch's 1-d kernel has no complex version, nor have its amax/amin of more dims
            kernel = "index_func_" if self.ndim <= 1 else f"{reduce[1:4]}imum_cpu"
            raise KernelTypeError(
                f'"{kernel}" not implemented for {self.dtype}: index_reduce() of this complex'
                " tensor; reduce z.real and z.imag apart"
            )
        idx = as_array(index)
        if idx.ndim > 1:
            raise IndexError(f"{op}(): Index is supposed to be a vector, got {idx.ndim} dims")
        if idx.dtype.kind not in "iu":
            raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {idx.dtype}")
        idx = idx.reshape(-1)
        x, s = self, source
        if x.ndim == 0:  # torch treats a 0-d self (and a 0-d source) as one slot
            check_dim(op, dim, 0)
            check_scalar_source(op, source.shape, len(idx))
            x, s = x.reshape(1), s.reshape(-1)
        d = check_dim(op, dim, x.ndim)
        expect = list(x.shape)
        expect[d] = len(idx)
        if s.ndim != x.ndim or list(s.shape) != expect:
            raise RuntimeError(
                f"{op}(): source of shape {list(source.shape)} does not fit self of shape"
                f" {list(self.shape)} with {len(idx)} indices along dim {dim} (expected"
                f" {expect})"
            )
        # index[i] at every place of source's slice i along d
        where = xp.broadcast_to(idx.reshape([-1 if j == d else 1 for j in range(x.ndim)]), s.shape)
        out = x.scatter_reduce(d, where, s, reduce, include_self=include_self)
        return out.reshape(()) if self.ndim == 0 else out

    def index_reduce_(self, dim: int, index, source, reduce: str, *, include_self=True) -> Tensor:
        """index_reduce in place; returns self."""
        return self._arith_(
            "index_reduce_",
            lambda s: s.index_reduce(dim, index, source, reduce, include_self=include_self),
        )
