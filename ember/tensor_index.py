"""Tensor methods that run the index and scan ops of ``ember/ops/index.py`` and ``scan.py``.

``IndexTensorMethods`` is a mixin that ``Tensor`` (tensor.py) inherits: gather and scatter,
index_select, masked_select, cumulative sums and products, sorting and top-k, each one
``apply`` of a primitive op with a hand-written backward (gradchecked, and held against
torch in the tests). norm composes abs/sum/max where that is exact and runs the PNorm op
otherwise; repeat_interleave is an index_select; argsort, nonzero and unique carry no gradient.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py (see
the note at the end of tensor.py).
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import TYPE_CHECKING

from .backend import xp
from .errors import InPlaceCastError, InputTypeError
from .function import observers
from .ops import argindex as AI
from .ops import index as I
from .ops import rounding as RO
from .ops import scan as C
from .ops import shape as S
from .ops.complex_refuse import refuse_complex
from .ops.elementwise import not_implemented_for
from .ops.linalg_decomp import NegativePNorm
from .ops.linalg_funcs import NoGradient
from .ops.reduce import normalize_axis
from .promotion import require_same_dtype, torch_dtype_name
from .scalar_fits import CHECKED_SCALARS, check_scalar_fits
from .tensor_index_more import check_output_size, check_sparse_grad

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


#: What sort() and topk() return, named as torch.return_types: ``values, indices = x.sort()``
#: or ``x.sort().values``.
SortResult = namedtuple("sort", ["values", "indices"])
TopKResult = namedtuple("topk", ["values", "indices"])


class IndexTensorMethods:
    """Methods running the ops of ember/ops/index.py and scan.py; see the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ gather and scatter
    def gather(self, dim, index, *, sparse_grad=False) -> Tensor:
        """out[i][j] = self[index[i][j]][j] for dim 0 (torch.gather). ``sparse_grad=True``
        (torch's sparse gradient) is refused: ember's gradient is a dense array."""
        check_sparse_grad(sparse_grad)
        return apply(I.Gather, self, _index(index), dim=dim)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None) -> Tensor:
        """A copy of self with out[index[i][j]][j] = src[i][j] for dim 0 (src a tensor, or a
        number: ``value``); torch's deprecated ``reduce='add'`` / ``'multiply'`` combines them
        in instead (scatter_reduce's 'sum' / 'prod' with include_self)."""
        if src is not None and not isinstance(src, Tensor) and xp.ndim(src) == 0:
            src, value = None, src
        if (src is None) == (value is None):
            raise TypeError("scatter(): give exactly one of src (a tensor) and value (a number)")
        I.check_dim("scatter", dim, self.ndim)  # torch names a bad dim before a dtype
        if reduce is not None:
            return self._scatter_with_reduce(dim, index, src, value, reduce)
        src = None if src is None else _like(src, self)
        if src is not None:
            require_same_dtype("scatter", self.array.dtype, src.array.dtype)
        if type(value) in CHECKED_SCALARS:  # torch's refusal past the dtype's range
            value = check_scalar_fits(value, self.array.dtype)
        return apply(I.Scatter, self, src, _index(index), dim=dim, value=value)

    def scatter_add(self, dim, index, src) -> Tensor:
        """A copy of self with out[index[i][j]][j] += src[i][j] for dim 0."""
        src = _like(src, self)
        I.check_dim("scatter_add", dim, self.ndim)  # torch names a bad dim before a dtype
        require_same_dtype("scatter", self.array.dtype, src.array.dtype)
        return apply(I.ScatterAdd, self, src, _index(index), dim=dim)

    def index_select(self, dim, index) -> Tensor:
        return apply(I.IndexSelect, self, _index(index), dim=dim)

    def masked_select(self, mask) -> Tensor:
        """The elements where ``mask`` (a bool tensor broadcasting with self) holds, as 1-D."""
        return apply(I.MaskedSelect, self, as_array(mask))

    # ------------------------------------------------------------ scans and products
    # ``dtype`` as torch's: the input cast to it first
    def cumsum(self, dim, *, dtype=None) -> Tensor:
        return self._scan(C.CumSum, "cumsum", dim, dtype)

    def cumprod(self, dim, *, dtype=None) -> Tensor:
        return self._scan(C.CumProd, "cumprod", dim, dtype)

    def cumsum_(self, dim, *, dtype=None) -> Tensor:
        """cumsum in place, in self's dtype (another dtype= is torch's RuntimeError)."""
        return self._scan_("cumsum", dim, dtype)

    def cumprod_(self, dim, *, dtype=None) -> Tensor:
        """cumprod in place, in self's dtype (another dtype= is torch's RuntimeError)."""
        return self._scan_("cumprod", dim, dtype)

    def _scan_(self, name, dim, dtype) -> Tensor:
        I.check_dim(name, dim, self.ndim)  # torch checks the dim first
        if dtype is not None and xp.dtype(dtype) != self.array.dtype:
            raise InPlaceCastError(
                f"{name}_(): Bad in-place call: input tensor dtype"
                f" {torch_dtype_name(self.array.dtype)} and output tensor dtype"
                f" {torch_dtype_name(xp.dtype(dtype))} should match"
            )
        # the scan in self's dtype, as torch's kernel writes self (none for bool, as out of place)
        return self._arith_(f"{name}_", lambda s: getattr(s, name)(dim, dtype=s.array.dtype))

    def _scan(self, op, name, dim, dtype=None) -> Tensor:
        dim = I.check_dim(name, dim, self.ndim)
        if dtype is not None and xp.dtype(dtype) == xp.bool_ and self.ndim and self.array.size:
            # torch has no bool scan kernel, and calls none for a 0-d or empty tensor
            raise not_implemented_for(f"{name}_out_cpu", xp.dtype(dtype))
        if dtype is not None:  # the scan in dtype (NumPy would widen int32 to int64)
            return self.astype(dtype)._scan(op, name, dim).astype(dtype)
        if self.array.dtype.kind == "u" and op in (C.CumSum, C.CumProd):  # torch: int64 (NumPy:
            return self.astype(xp.int64)._scan(op, name, dim)  # uint64)
        if self.ndim == 0:  # torch scans a 0-d tensor as one element and keeps it 0-d
            return apply(op, self.reshape(1), dim=0).reshape(())
        return apply(op, self, dim=dim)

    def prod(self, dim=None, keepdim=False, *, dtype=None) -> Tensor:
        if dim is not None:
            dim = I.check_dim("prod", dim, self.ndim)
        if dtype is not None:  # the product in dtype (NumPy would widen int32 to int64)
            return self.astype(dtype).prod(dim, keepdim).astype(dtype)
        if self.array.dtype.kind == "u":  # torch multiplies unsigned into int64 (NumPy: uint64)
            return self.astype(xp.int64).prod(dim, keepdim)
        return apply(C.Prod, self, dim=dim, keepdim=keepdim)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None) -> Tensor:
        """The vector p-norm over ``dim`` (all elements when None), as torch.Tensor.norm:
        p = 'fro' or 2: √(Σ x²); 1: Σ|x|; inf / -inf: max / min |x|; 0: the count of nonzeros;
        any other p, negative too: (Σ|x|^p)^{1/p}. Of a floating or complex tensor only, as
        torch (cast an integer one first); ``dtype``: the input cast to it first."""
        if self.array.dtype.kind not in "fc":
            raise RuntimeError(
                "linalg.vector_norm: Expected a floating point or complex tensor as input. Got"
                f" {torch_dtype_name(self.array.dtype)}"
            )
        if p == "fro":
            p = 2
        if isinstance(p, str):
            raise ValueError(f"norm(): p must be 'fro', inf, -inf or a number, got {p!r}")
        if dtype is not None:  # torch's dtype checks (no narrowing, no real ↔ complex): linalg's
            from .linalg.norms import _cast  # noqa: PLC0415 - linalg builds on Tensor

            return _cast("linalg.vector_norm", self, dtype).norm(p, dim, keepdim)
        if isinstance(dim, int):
            dim = (dim,)
        elif isinstance(dim, (tuple, list)) and not dim:  # dim=(): every dim, as torch's
            dim = None
        if dim is not None:  # out of range IndexError, a dim named twice RuntimeError
            dim = tuple(dim)
            normalize_axis(dim, self.ndim)
        if self.ndim == 0 and dim is not None:  # dims 0 and -1 of a 0-d tensor: all of it
            dim = [I.check_dim("norm", d, 0) for d in dim] and None
        if self.array.size == 0 and (p < 0 or p == math.inf):  # no identity: torch refuses
            from .linalg.norms import _refuse_empty  # noqa: PLC0415 - the empty dims reduced

            _refuse_empty(self, p, dim, () if dim is None else normalize_axis(dim, self.ndim))
        if p == 1:  # composed: |x| and Σ have the right subgradient at 0 already
            return self.abs().sum(dim=dim, keepdim=keepdim)
        if p == math.inf:  # the gradient is shared among tied maxima, as torch's
            return self.abs().max(axis=dim, keepdims=keepdim)
        if p == -math.inf:
            return self.abs().min(axis=dim, keepdims=keepdim)
        if p == 0:  # a count: recorded, but x.grad stays None, as torch's vector_norm
            count = (self.array != 0).sum(axis=dim, keepdims=keepdim)
            return apply(NoGradient, self, value=count.astype(self.array.real.dtype))
        if p < 0:  # (Σ|x|^p)^{1/p}, 0 where some x_i = 0, as torch's vector_norm
            axes = normalize_axis(dim, self.ndim)
            return apply(NegativePNorm, self, p=float(p), axes=axes, keepdim=keepdim)
        return apply(C.PNorm, self, p=float(p), dim=dim, keepdim=keepdim)

    # ------------------------------------------------------------ sorting
    def sort(self, dim=-1, descending=False, stable=False) -> tuple:
        """(values, indices) along dim; values carry the gradient. Ties always keep their
        order here (``stable`` is accepted: ember's sort is stable in any case)."""
        values, indices = apply(I.Sort, self, dim=dim, descending=descending)
        return SortResult(values, indices.detach())

    def argsort(self, dim=-1, descending=False, *, stable=False) -> Tensor:
        """Indices that sort self along dim (stable, whatever ``stable`` says); no gradient."""
        if observers:  # the ONNX tracer and the profiler see the op; it is never recorded
            return apply(AI.ArgSort, self.array, dim=dim, descending=descending)
        return Tensor(AI.ArgSort().forward(self.array, dim=dim, descending=descending))

    def topk(self, k, dim=-1, largest=True, sorted=True) -> tuple:  # noqa: A002 - torch's name
        """(values, indices) of the k largest (smallest) along dim, always in sorted order."""
        k = I.int_argument("topk", "k", 2, k)
        if self.array.dtype.kind == "b":  # torch's refusal, after its dim and k checks
            d = I.check_dim("topk", dim, self.ndim)
            if 0 <= k <= (self.shape[d] if self.ndim else 1):
                raise InputTypeError("topk does not support bool dtypes on CPU")
        values, indices = apply(I.TopK, self, k=int(k), dim=dim, largest=largest)
        return TopKResult(values, indices.detach())

    # ------------------------------------------------------------ built on the above
    def repeat_interleave(self, repeats, dim=None, *, output_size=None) -> Tensor:
        """Each element (slice along dim) repeated ``repeats`` times (an int, or one count per
        slice); with dim None the flattened tensor. A gather: the gradient sums the copies.
        ``output_size``: the length of the result along dim, checked as torch's."""
        x = self.reshape(-1) if dim is None else self
        axis = 0 if dim is None else I.check_dim("repeat_interleave", dim, x.ndim)
        n = x.shape[axis]
        r = as_array(repeats)
        if r.dtype.kind not in "iu":
            raise TypeError(f"repeat_interleave(): repeats must be integers, got dtype {r.dtype}")
        if r.ndim > 0 and r.shape != (n,) and r.shape != (1,):
            raise RuntimeError(
                f"repeat_interleave(): repeats must have {n} elements (dim {axis} of size {n}),"
                f" got shape {r.shape}"
            )
        if (r < 0).any():
            raise RuntimeError("repeat_interleave(): repeats must be non-negative")
        index = xp.repeat(xp.arange(n), r.reshape(-1) if r.ndim else int(r))
        if output_size is not None:
            check_output_size(output_size, len(index), r.ndim == 0)
        return x.index_select(axis, index)

    def nonzero(self, as_tuple=False):
        """Indices of the nonzero elements: (n, ndim) int64, or one 1-D tensor per dim."""
        if observers and self.ndim:  # an op (ops/rounding.py) that the ONNX tracer sees
            n = apply(RO.Nonzero, self.array)  # its columns through GetItem, which the tracer sees
            if not as_tuple:
                return n
            cols = range(self.ndim)
            return tuple(apply(S.GetItem, n.array, index=(slice(None), k)) for k in cols)
        if self.ndim == 0:  # torch: a 0-d tensor as one element of no dims, (1, 0) or (0, 0)
            n = int(bool(self.array))
            if as_tuple:  # … but as_tuple gives it one dim, as torch
                return (Tensor(xp.zeros(n, dtype=xp.int64)),)
            return Tensor(xp.zeros((n, 0), dtype=xp.int64))
        where = xp.nonzero(self.array)
        if as_tuple:
            return tuple(Tensor(w.astype(xp.int64)) for w in where)
        return Tensor(xp.stack(where, axis=1).astype(xp.int64).reshape(-1, self.ndim))

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
        """The distinct values (sorted), and optionally where each element went and how often
        each value occurs; no gradient. With dim, the distinct slices along dim. The values come
        sorted whatever ``sorted`` says (torch on the CPU does the same). Complex input is
        refused, as torch does (NumPy would sort it lexicographically)."""
        refuse_complex(self.array, "unique", NotImplementedError)
        if dim is not None:
            dim = I.check_dim("unique", dim, self.ndim)
            I.check_unique_dim(self.shape, dim)
        if observers:  # an op (ops/rounding.py) that the ONNX tracer sees
            values, inverse, counts = apply(RO.Unique, self.array, axis=dim)
        else:
            values, inverse, counts = (Tensor(a) for a in RO.Unique().forward(self.array, dim))
        out = [values]
        if return_inverse:
            out.append(inverse)
        if return_counts:
            out.append(counts)
        return out[0] if len(out) == 1 else tuple(out)


def _index(index):
    """An index argument (Tensor, array, list or int) as an array; its dtype is checked by the
    op that uses it."""
    return as_array(index)


def _like(src, ref):
    """src as a Tensor of ref's dtype (a list or array becomes a constant)."""
    return src if isinstance(src, Tensor) else Tensor(as_array(src, ref.dtype))
