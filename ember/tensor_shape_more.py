"""Tensor methods for torch's further shape ops, each a composition of differentiable ops
(so autograd gives their gradients): rot90, hsplit, vsplit, dsplit, msort and kthvalue.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

from .backend import xp
from .errors import IndexInputError
from .memory_formats import contiguous_format
from .ops.complex_refuse import refuse_complex
from .ops.index import check_dim

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401

#: What kthvalue() returns, named as torch.return_types: ``values, indices = x.kthvalue(2)``
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])


def _split_along(x, name: str, min_ndim: int, dim: int, indices_or_sections) -> tuple:
    if x.ndim < min_ndim:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {min_ndim} dimension"
            f"{'s' if min_ndim > 1 else ''}, but got a tensor with {x.ndim} dimensions!"
        )
    if isinstance(indices_or_sections, int) and not isinstance(indices_or_sections, bool):
        size = x.shape[dim]
        if indices_or_sections <= 0 or size % indices_or_sections:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the"
                f" dimension {size} is not divisible by the split_size {indices_or_sections}!"
            )
    return x.tensor_split(indices_or_sections, dim)


class ShapeMoreTensorMethods:
    """flatten / rot90 / hsplit / vsplit / dsplit / msort / kthvalue; see above."""

    __slots__ = ()

    def flatten(self, start_dim=0, end_dim=-1):
        """Dims start_dim..end_dim merged into one (a 0-d tensor becomes 1-D); torch's dim
        checks and errors. One dim to merge (a 1-D tensor, start_dim = end_dim) gives the
        tensor itself, as torch's."""
        nd = self.ndim
        n = max(nd, 1)
        for d in (start_dim, end_dim):
            if not -n <= d < n:  # torch's message and error type
                raise IndexError(
                    f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but"
                    f" got {d})"
                )
        if start_dim % n > end_dim % n:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if nd == 0:
            return self.reshape(1)
        s, e = start_dim % nd, end_dim % nd
        if s == e:  # nothing to merge: torch hands back the tensor itself, not a view of it
            return self
        shape = self.array.shape
        n = 1
        for k in shape[s : e + 1]:
            n *= k
        return self.reshape(shape[:s] + (n,) + shape[e + 1 :])

    def rot90(self, k: int = 1, dims=(0, 1)) -> Tensor:
        """self rotated by 90° k times in the plane of dims, from dims[0] towards dims[1]."""
        dims = tuple(dims)
        if len(dims) != 2:
            raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
        if self.ndim < 2:
            raise RuntimeError(f"expected total dims >= 2, but got total dims = {self.ndim}")
        d0, d1 = (check_dim("rot90", d, self.ndim) for d in dims)
        if d0 == d1:
            raise RuntimeError(
                f"expected rotation dims to be different, but got dim0 = {dims[0]} and"
                f" dim1 = {dims[1]}"
            )
        k %= 4
        if k == 1:
            return self.flip(d1).transpose(d0, d1)
        if k == 2:
            return self.flip(d0, d1)
        if k == 3:
            return self.flip(d0).transpose(d0, d1)
        return self.clone(memory_format=contiguous_format)  # k = 0: torch's copy is row-major

    def hsplit(self, indices_or_sections) -> tuple:
        """tensor_split along dim 1 (dim 0 of a 1-D tensor); an int must divide that size."""
        return _split_along(self, "hsplit", 1, 0 if self.ndim == 1 else 1, indices_or_sections)

    def vsplit(self, indices_or_sections) -> tuple:
        """tensor_split along dim 0 of a tensor of ≥ 2 dims; an int must divide that size."""
        return _split_along(self, "vsplit", 2, 0, indices_or_sections)

    def dsplit(self, indices_or_sections) -> tuple:
        """tensor_split along dim 2 of a tensor of ≥ 3 dims; an int must divide that size."""
        return _split_along(self, "dsplit", 3, 2, indices_or_sections)

    def msort(self) -> Tensor:
        """The values sorted along dim 0 (ascending)."""
        return self.sort(0).values

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False):
        """(values, indices) of the k-th smallest element (1-based) along dim, the gradient to
        the element at the index; among equal values the first of a stable sort, nan largest."""
        refuse_complex(self.array, "kthvalue", NotImplementedError)
        d = check_dim("kthvalue", dim, self.ndim)
        x = self.reshape(1) if self.ndim == 0 else self
        n = x.shape[d]
        if not 1 <= k <= n:
            raise IndexInputError(
                f"kthvalue(): selected number k out of range for dimension {dim}: expected"
                f" 1 <= k <= {n}, got k = {k}"
            )
        if self.array.dtype.kind == "b" and self.ndim:  # torch has no bool kernel (checked
            # after k, as torch; a 0-d tensor is its own k-th value there)
            raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
        index = xp.take(xp.argsort(x.array, axis=d, kind="stable"), [k - 1], axis=d)
        index = index.astype(xp.int64)
        return self._values_at(x, d, index, keepdim, KthvalueResult)
