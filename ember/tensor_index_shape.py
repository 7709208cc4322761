"""Tensor methods for torch's further index and shape functions: index_put, masked_scatter and
put (each with its in-place ``_`` form), take, select, movedim/moveaxis and diagflat.

index_put and masked_scatter are Functions (ember/ops/index_put.py); put is an index_put on the
flattened tensor; the rest are compositions of differentiable ops, so autograd gives their
gradients.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ops import index_put as P
from .promotion import require_same_dtype
from .tensor_stats_more import wrap_dim

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


def _long_index(op: str, index, numel: int):
    """index as an int64 array whose values lie in [-numel, numel), with torch's errors."""
    idx = as_array(index)
    if str(idx.dtype) != "int64":
        raise RuntimeError(
            f"{op}(): Expected a long tensor for index, but got {P.torch_name(idx.dtype)}"
        )
    bad = (idx < -numel) | (idx >= numel)
    if bad.any():
        value = int(idx[bad].reshape(-1)[0])
        raise IndexError(
            f"out of range: tried to access index {value} on a tensor of {numel} elements."
        )
    return idx


class IndexShapeTensorMethods:
    """index_put / masked_scatter / put / take / select / movedim / diagflat; see above."""

    __slots__ = ()

    def index_put(self, indices, values, accumulate=False) -> Tensor:
        """A copy of self with out[indices] = values (broadcast), or += with accumulate."""
        if not isinstance(values, Tensor):
            raise TypeError(
                f"index_put(): argument 'values' (position 2) must be Tensor,"
                f" not {type(values).__name__}"
            )
        if isinstance(indices, Tensor):
            raise TypeError("index_put(): argument 'indices' must be tuple of Tensors, not Tensor")
        arrays = []
        for k, i in enumerate(indices):
            if i is None:
                raise TypeError(f"expected Tensor as element {k} in argument 0, but got NoneType")
            arrays.append(as_array(i))
        if not arrays:
            raise RuntimeError("index_put(): expected at least one index tensor, got none")
        return apply(P.IndexPut, self, values, indices=tuple(arrays), accumulate=accumulate)

    def index_put_(self, indices, values, accumulate=False) -> Tensor:
        """self[indices] = values (or += with accumulate) in place; returns self."""
        return self._arith_("index_put_", lambda s: s.index_put(indices, values, accumulate))

    def masked_scatter(self, mask, source) -> Tensor:
        """A copy of self (broadcast with mask) with its masked places filled in order from
        source's elements."""
        if not isinstance(source, Tensor):
            raise TypeError(
                f"masked_scatter(): argument 'source' (position 2) must be Tensor,"
                f" not {type(source).__name__}"
            )
        require_same_dtype("masked_scatter", self.array.dtype, source.array.dtype)
        return apply(P.MaskedScatter, self, source, as_array(mask))

    def masked_scatter_(self, mask, source) -> Tensor:
        """self's masked places filled in order from source's elements, in place; returns self."""
        m = as_array(mask)
        if m.ndim > self.ndim or any(
            a != b and a != 1 for a, b in zip(m.shape[::-1], self.shape[::-1])
        ):
            raise RuntimeError(
                f"masked_scatter_(): mask of shape {list(m.shape)} does not broadcast to self's"
                f" shape {list(self.shape)}"
            )
        return self._arith_("masked_scatter_", lambda s: s.masked_scatter(mask, source))

    def put(self, index, source, accumulate=False) -> Tensor:
        """A copy of self with the flattened out[index] = source (or += with accumulate)."""
        idx = as_array(index)
        if str(idx.dtype) != "int64":
            raise RuntimeError(
                f"put_(): Expected a long tensor for index, but got {P.torch_name(idx.dtype)}"
            )
        if not isinstance(source, Tensor):
            source = Tensor(as_array(source, self.dtype))
        require_same_dtype("put", self.array.dtype, source.array.dtype)
        if source.numel() != idx.size:
            raise IndexError(
                f"put_(): Expected source and index to have the same number of elements, but"
                f" got source.numel() = {source.numel()}, index.numel() = {idx.size}"
            )
        if source.array.dtype != self.array.dtype:
            raise RuntimeError(
                f"put_(): self and source expected to have the same dtype, but got"
                f" self.dtype = {P.torch_name(self.array.dtype)} and source.dtype ="
                f" {P.torch_name(source.array.dtype)}"
            )
        if self.numel() == 0 and idx.size:
            raise IndexError("put_(): Tried to put elements into an empty tensor")
        idx = _long_index("put_", idx, self.numel())
        flat = self.reshape(-1).index_put((idx.reshape(-1),), source.reshape(-1), accumulate)
        return flat.reshape(self.shape)

    def put_(self, index, source, accumulate=False) -> Tensor:
        """The flattened self[index] = source (or += with accumulate) in place; returns self."""
        return self._arith_("put_", lambda s: s.put(index, source, accumulate))

    def take(self, index) -> Tensor:
        """The elements of the flattened self at index, shaped as index."""
        idx = as_array(index)
        if str(idx.dtype) != "int64":
            raise RuntimeError(
                f"take(): Expected a long tensor for index, but got {P.torch_name(idx.dtype)}"
            )
        if self.numel() == 0 and idx.size:
            raise IndexError("take(): tried to take from an empty tensor")
        idx = _long_index("take", idx, self.numel())
        return self.reshape(-1)[idx]

    def select(self, dim, index) -> Tensor:
        """The slice of self at index along dim, that dim removed."""
        if self.ndim == 0:
            raise IndexError("select() cannot be applied to a 0-dim tensor.")
        if isinstance(index, Tensor):
            index = index.item()
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(
                f"select(): argument 'index' (position 2) must be int, not {type(index).__name__}"
            )
        d = wrap_dim(dim, self.ndim)
        n = self.shape[d]
        if not -n <= index < n:
            raise IndexError(
                f"select(): index {index} out of range for tensor of size {list(self.shape)}"
                f" at dimension {dim}"
            )
        return self[(slice(None),) * d + (index % n,)]

    def movedim(self, source, destination) -> Tensor:
        """self with dims source moved to positions destination, the rest in their order."""
        src = [source] if isinstance(source, int) else list(source)
        dst = [destination] if isinstance(destination, int) else list(destination)
        if len(src) != len(dst):
            raise RuntimeError(
                f"movedim: Invalid source or destination dims: source ({src} dims) should"
                f" contain the same number of dims as destination ({dst} dims)"
            )
        s = [wrap_dim(d, self.ndim) for d in src]
        t = [wrap_dim(d, self.ndim) for d in dst]
        for name, given, dims in (("source", src, s), ("destination", dst, t)):
            if len(set(dims)) != len(dims):
                raise RuntimeError(f"movedim: repeated dim in `{name}` ({given})")
        if self.ndim == 0:
            return self.reshape(())
        rest = iter(d for d in range(self.ndim) if d not in s)
        where = dict(zip(t, s))
        return self.permute(tuple(where[i] if i in where else next(rest) for i in range(self.ndim)))

    moveaxis = movedim

    def diagflat(self, offset=0) -> Tensor:
        """The square matrix with self's flattened elements on diagonal offset, zeros elsewhere."""
        return self.reshape(-1).diag(offset)
