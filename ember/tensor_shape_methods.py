"""Tensor methods that give another shape, as views where torch's are: reshape, view, permute,
transpose, expand, squeeze, unsqueeze, split and chunk.

Split from tensor_methods.py, whose ``TensorMethods`` inherits ``ShapeTensorMethods``.
``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import InputError
from .ops import shape as S
from .ops.index import check_dim
from .tensor_stats_more import wrap_dim
from .tensor_view_of import view_of

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


class ShapeTensorMethods:
    """The shape methods of TensorMethods (see the module docstring)."""

    __slots__ = ()

    def reshape(self, *shape):
        shape = shape_arg(shape)
        try:
            return apply(S.Reshape, self, shape=shape)
        except ValueError:
            raise InputError(
                f"cannot reshape a tensor of shape {self.shape} ({self.array.size} elements)"
                f" into shape {shape}"
            ) from None

    def view(self, *shape, dtype=None):
        """torch.Tensor.view: another shape of the same memory, or its bytes as another dtype
        (tensor_view_of.view_of)."""
        return view_of(self, shape, dtype)

    def permute(self, *axes):
        return apply(S.Permute, self, axes=shape_arg(axes))

    def transpose(self, dim0=-2, dim1=-1):
        if self.ndim == 0:  # torch takes dims 0 and -1 of a 0-d tensor: the tensor itself
            check_dim("transpose", dim0, 0), check_dim("transpose", dim1, 0)
            return apply(S.Permute, self, axes=())
        axes = list(range(self.ndim))
        dim0, dim1 = (check_dim("transpose", d, self.ndim) for d in (dim0, dim1))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return apply(S.Permute, self, axes=tuple(axes))

    def expand(self, *shape):
        shape = shape_arg(shape)  # sizes given one by one or as one tuple, as torch takes them
        lead = (None,) * (len(shape) - self.ndim)  # new leading dims: -1 is not allowed there
        for i, n in enumerate(shape[: len(lead)]):
            if n == -1:
                raise RuntimeError(
                    f"The expanded size of the tensor (-1) isn't allowed in a leading,"
                    f" non-existing dimension {i}"
                )
        shape = tuple(o if n == -1 else n for n, o in zip(shape, lead + self.array.shape))
        return apply(S.Expand, self, shape=shape)

    def squeeze(self, dim=None):
        if dim is None:
            shape = tuple(n for n in self.array.shape if n != 1)
        else:
            listed = [wrap_dim(d, self.ndim) for d in ((dim,) if isinstance(dim, int) else dim)]
            dims = set(listed)
            if len(dims) < len(listed):  # torch refuses a dim named twice (-1 and n - 1 too)
                twice = next(d for d in listed if listed.count(d) > 1)
                raise InputError(f"dim {twice} appears multiple times in the list of dims")
            shape = tuple(n for i, n in enumerate(self.array.shape) if not (i in dims and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim):
        shape = list(self.array.shape)
        shape.insert(wrap_dim(dim, self.ndim + 1), 1)
        return self.reshape(tuple(shape))

    def split(self, split_size_or_sections, dim=0):
        """torch.split: chunks of one size, or a list of sizes."""
        need_dims("split", self)
        if isinstance(split_size_or_sections, int) and split_size_or_sections < 0:
            raise RuntimeError(  # torch names a negative size before a bad dim
                f"split expects split_size be non-negative, but got split_size="
                f"{split_size_or_sections}"
            )
        dim = check_dim("split", dim, self.ndim)
        n = self.array.shape[dim]
        if isinstance(split_size_or_sections, int):
            k = split_size_or_sections
            if k == 0 and n:  # a size of 0 splits only an empty dim (into itself)
                raise RuntimeError(
                    "split_size can only be 0 if dimension size is 0, but got dimension size"
                    f" of {n}"
                )
            bounds = list(range(k, n, k)) if k else []
        else:
            sizes = list(split_size_or_sections)
            if any(k < 0 for k in sizes):  # [5, -1] sums to 4 but cannot split 4 elements
                raise InputError(
                    f"split_with_sizes expects split_sizes have only non-negative entries, but"
                    f" got split_sizes={sizes}"
                )
            if sum(sizes) != n:
                raise InputError(f"split sizes {sizes} sum to {sum(sizes)}, but dim {dim} is {n}")
            bounds, acc = [], 0
            for k in sizes[:-1]:
                acc += k
                bounds.append(acc)
        return apply(S.Split, self, indices=bounds, axis=dim)

    def chunk(self, chunks, dim=0):
        if chunks <= 0:  # torch's RuntimeError (the division below would raise ZeroDivisionError)
            raise InputError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        need_dims("chunk", self)
        dim = check_dim("chunk", dim, self.ndim)
        n = self.array.shape[dim]
        if n == 0:  # torch: as many empty chunks as asked for
            return apply(S.Split, self, indices=[0] * (chunks - 1), axis=dim)
        return self.split(-(-n // chunks), dim)


def need_dims(op: str, t) -> None:
    """torch's RuntimeError for splitting a 0-d tensor (its dims could not be indexed)."""
    if t.ndim == 0:
        raise InputError(f"{op} expects at least a 1-dimensional tensor, got a 0-d tensor")


def shape_arg(shape):
    """Sizes given one by one (t.reshape(2, 3)) or as one tuple (t.reshape((2, 3))), as torch
    takes them."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)
