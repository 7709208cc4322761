"""Tensor methods for torch's further index ops (ember/ops/index_more.py): index_add,
index_copy, index_fill, scatter_reduce (each with its in-place ``_`` form) and
take_along_dim (a gather after broadcasting).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from .backend import xp
from .errors import InputError, InputTypeError
from .ops import index as I
from .ops import index_more as M
from .promotion import require_same_dtype
from .scalar_fits import CHECKED_SCALARS, check_scalar_fits

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


class IndexMoreTensorMethods:
    """index_add / index_copy / index_fill / scatter_reduce / take_along_dim; see above."""

    __slots__ = ()

    def index_add(self, dim, index, source, *, alpha=1) -> Tensor:
        """A copy of self with out[…, index[i], …] += alpha·source[…, i, …] along dim."""
        I.check_dim("index_add", dim, self.ndim)  # torch names a bad dim before the dtypes
        if isinstance(source, Tensor):
            require_same_dtype("index_add", self.array.dtype, source.array.dtype)
        return apply(M.IndexAdd, self, _like(source, self), as_array(index), dim=dim, alpha=alpha)

    def index_copy(self, dim, index, source) -> Tensor:
        """A copy of self with out[…, index[i], …] = source[…, i, …] along dim."""
        I.check_dim("index_copy", dim, self.ndim)  # torch names a bad dim before the dtypes
        if isinstance(source, Tensor):
            require_same_dtype("index_copy", self.array.dtype, source.array.dtype)
        return apply(M.IndexCopy, self, _like(source, self), as_array(index), dim=dim)

    def index_fill(self, dim, index, value) -> Tensor:
        """A copy of self with the slices index[i] along dim set to ``value`` (a number)."""
        if isinstance(value, Tensor):
            if value.ndim:
                raise RuntimeError(
                    f"index_fill(): value must be a number or a 0-d tensor, got a tensor of"
                    f" shape {tuple(value.shape)}"
                )
            value = value.array[()]
        elif type(value) in CHECKED_SCALARS:  # torch's refusal past the dtype's range
            value = check_scalar_fits(value, self.array.dtype)
        return apply(M.IndexFill, self, as_array(index), dim=dim, value=value)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True) -> Tensor:
        """A copy of self with each src[i][j] combined into out[index[i][j]][j] (dim 0) by
        reduce: 'sum', 'prod', 'mean', 'amax' or 'amin' (torch.Tensor.scatter_reduce)."""
        src = src if isinstance(src, Tensor) else Tensor(as_array(src, self.dtype))
        I.check_dim("scatter_reduce", dim, self.ndim)  # torch names a bad dim first
        require_same_dtype("scatter", self.array.dtype, src.array.dtype)
        if self.ndim == 0:  # torch's 0-d self (and 0-d index or src): one element each, as
            index = as_array(index)  # recorded reshapes, so that higher gradients see them
            one = [t.reshape(1) if t.ndim == 0 else t for t in (self, src)]
            index = index.reshape(1) if index.ndim == 0 else index
            out = one[0].scatter_reduce(0, index, one[1], reduce, include_self=include_self)
            return out.reshape(())
        return apply(
            M.ScatterReduce,
            self,
            src,
            as_array(index),
            dim=dim,
            reduce=reduce,
            include_self=include_self,
        )

    def _scatter_with_reduce(self, dim, index, src, value, reduce: str) -> Tensor:
        """scatter's ``reduce='add'`` / ``'multiply'``: scatter_reduce's 'sum' / 'prod' with
        self included; a number ``value`` (cast to self's dtype first, as torch) stands for a
        src of index's shape. torch has no gradient for it; ember's is scatter_reduce's."""
        if reduce not in _SCATTER_REDUCES:
            raise InputError(
                f"reduce argument must be either add or multiply. (scatter() got {reduce!r})"
            )
        if src is None:
            idx = as_array(index)
            src = Tensor(xp.full(idx.shape, value).astype(self.array.dtype))
        else:
            warnings.warn(
                "The reduce argument of torch.scatter with Tensor src is deprecated and will be"
                " removed in a future PyTorch release. Use torch.scatter_reduce instead for more"
                " reduction options.",
                UserWarning,
                stacklevel=3,
            )
        return self.scatter_reduce(dim, index, src, _SCATTER_REDUCES[reduce], include_self=True)

    def index_add_(self, dim, index, source, *, alpha=1) -> Tensor:
        return self._arith_("index_add_", lambda s: s.index_add(dim, index, source, alpha=alpha))

    def index_copy_(self, dim, index, source) -> Tensor:
        return self._arith_("index_copy_", lambda s: s.index_copy(dim, index, source))

    def index_fill_(self, dim, index, value) -> Tensor:
        return self._arith_("index_fill_", lambda s: s.index_fill(dim, index, value))

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True) -> Tensor:
        return self._arith_(
            "scatter_reduce_",
            lambda s: s.scatter_reduce(dim, index, src, reduce, include_self=include_self),
        )

    def take_along_dim(self, indices, dim=None) -> Tensor:
        """out = self gathered at ``indices`` along dim, the two broadcast against each other
        apart from dim; with dim None, the flattened self at the flattened indices."""
        idx = as_array(indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(
                f"take_along_dim(): indices must be an integer tensor (int64), got dtype"
                f" {idx.dtype}"
            )
        if dim is None:
            return self.reshape(-1).gather(0, idx.reshape(-1))
        M.require_int64("take_along_dim", idx)
        if idx.ndim != self.ndim:
            raise RuntimeError(
                f"take_along_dim(): input and indices should have the same number of"
                f" dimensions, but got {self.ndim} dimensions for input, and {idx.ndim}"
                f" dimensions for indices"
            )
        d = I.check_dim("take_along_dim", dim, self.ndim)
        a, b = list(self.shape), list(idx.shape)
        a[d] = b[d] = 1
        try:
            shape = list(xp.broadcast_shapes(tuple(a), tuple(b)))
        except ValueError:
            raise RuntimeError(
                f"take_along_dim(): shapes of input {list(self.shape)} and indices"
                f" {list(idx.shape)} do not broadcast apart from dimension {d}"
            ) from None
        sx, si = list(shape), list(shape)
        sx[d], si[d] = self.shape[d], idx.shape[d]
        x = self if list(self.shape) == sx else self.expand(*sx)
        if list(idx.shape) != si:
            idx = xp.broadcast_to(idx, tuple(si))
        return x.gather(d, idx)


def _like(src, ref):
    """src as a Tensor of ref's dtype (a list or array becomes a constant)."""
    return src if isinstance(src, Tensor) else Tensor(as_array(src, ref.dtype))


#: scatter's reduce names and the scatter_reduce reductions they are
_SCATTER_REDUCES = {"add": "sum", "multiply": "prod"}


def check_sparse_grad(sparse_grad) -> None:
    """gather's ``sparse_grad``: a bool, as torch's; True (a sparse COO gradient) is not made
    (NotImplementedError, as embedding's sparse=True)."""
    if sparse_grad.__class__ is not bool:
        raise InputTypeError(
            f"gather(): argument 'sparse_grad' must be bool, not {type(sparse_grad).__name__}"
        )
    if sparse_grad:
        raise NotImplementedError(
            "gather: sparse_grad=True (a sparse gradient) is not supported; ember's gradient of"
            " a gather is a dense array with the picks scattered into it"
        )


def check_output_size(output_size, n: int, one_count: bool) -> None:
    """repeat_interleave's ``output_size``: an int equal to the result's length n, as torch's
    (its messages differ for one repeat count and for a tensor of counts)."""
    if output_size.__class__ is bool or not isinstance(output_size, int):
        raise InputTypeError(
            f"repeat_interleave(): argument 'output_size' must be int, not"
            f" {type(output_size).__name__}"
        )
    if output_size == n:
        return
    if one_count:
        raise InputError(
            f"repeat_interleave: Invalid output_size, expected {n} but got {output_size}"
        )
    if output_size < 0:
        raise InputError(
            f"Trying to create tensor with negative dimension {output_size}: [{output_size}]"
        )
    raise InputError(
        f"allocated size does not match required size (repeat_interleave: output_size"
        f" {output_size}, the repeats sum to {n})"
    )
