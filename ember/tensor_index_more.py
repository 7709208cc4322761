"""Tensor methods for torch's further index ops (ember/ops/index_more.py): index_add,
index_copy, index_fill, scatter_reduce (each with its in-place ``_`` form) and
take_along_dim (a gather after broadcasting).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import xp
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
