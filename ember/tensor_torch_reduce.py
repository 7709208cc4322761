"""PyTorch's further reductions and array methods: amax/amin/aminmax, nansum/nanmean,
count_nonzero, logcumsumexp, cummax/cummin, median, quantile; trace, kron, cross, diagonal,
diag_embed; bincount and histc (diff and tensor_split are in tensor_shape_more.py).

``TorchReduceMethods`` is a mixin that ``TorchMathMethods`` (tensor_torch_math.py) inherits.
Values picked by an index (cummax, median with dim, quantile) are gathered through the
differentiable ``gather``, so the gradient goes to exactly the elements torch sends it to; the
index arrays come from ops/reduce_more.py. Shape methods compose slicing, arithmetic and
``Where``, so their gradients are right by construction. Counts and indices carry no gradient.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py (see
the note at the end of tensor.py).
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

from .backend import errstate, xp
from .errors import InputError, InputTypeError, KernelTypeError
from .function import observers
from .ops import elementwise as E
from .ops import reduce as R
from .ops import reduce_more as RM
from .ops import rounding as RO
from .ops import shape as S
from .ops.complex_refuse import refuse_complex
from .ops.diagonal import Diagonal
from .ops.elementwise import not_implemented_for
from .ops.index import check_dim, int_argument
from .tensor_stats_more import wrap_dim

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401

#: torch.return_types of the same names
AminmaxResult = namedtuple("aminmax", ["min", "max"])
CummaxResult = namedtuple("cummax", ["values", "indices"])
CumminResult = namedtuple("cummin", ["values", "indices"])
MedianResult = namedtuple("median", ["values", "indices"])

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _axes(dim):
    """torch's dim argument as NumPy's axis: None or () → every dim, a list → a tuple."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return None
    return tuple(dim) if isinstance(dim, (tuple, list)) else dim


def _checked_axes(dim, ndim: int):
    """torch's dim as NumPy's axes, checked: out of range IndexError, a dim named twice
    RuntimeError; a 0-d tensor's dim 0 or -1 reduces no axis (NumPy's AxisError)."""
    axes = _axes(dim)
    return axes if axes is None else R.normalize_axis(axes, ndim)


_NANSUM = "torch's nansum has no complex kernel on the CPU: sum z.real and z.imag apart"


def _need_float(t, name: str, kernel: str | None = None) -> None:
    """Refuse an integer or bool input as torch does: its NotImplementedError where it has no
    ``kernel`` for the dtype, else its RuntimeError (each also ember's TypeError)."""
    if t.array.dtype.kind not in "fc":
        msg = (
            f"{name}() expects a floating-point tensor, got {t.array.dtype} (torch refuses it"
            " too); convert it with .float() or .double()"
        )
        if kernel is not None:
            raise KernelTypeError(f'"{kernel}" not implemented for this dtype: {msg}')
        raise InputTypeError(msg)


def _rank_change(s, q, axis: int, ignore_nan: bool):
    """Zero in value, the rank r = q·(n − 1) (nanquantile: q·(k − 1)) in its gradient: what
    makes 'linear' quantiles differentiable in q, as torch's. Rows whose rank does not follow q
    (a nan row of quantile, no non-nan element for nanquantile) get slope 0. s: the sorted
    values (nan last); the slope broadcasts against the (…, len(q), …) weights."""
    nan = xp.isnan(s)
    if ignore_nan:
        slope = xp.maximum((~nan).sum(axis=axis, keepdims=True) - 1, 0)
    else:
        slope = xp.where(nan.any(axis=axis, keepdims=True), 0, s.shape[axis] - 1)
    shape = [1] * s.ndim
    shape[axis] = q.numel()
    rank = q.reshape(tuple(shape)) * Tensor(slope.astype(s.dtype))
    change = rank - rank.detach()
    zero = Tensor(xp.zeros((), s.dtype))  # Where, not ·0: a nan row's x_(⌈r⌉) − x_(⌊r⌋) is nan
    return apply(E.Where, change, zero, cond=xp.broadcast_to(slope > 0, change.shape))


class TorchReduceMethods:
    """torch's further reductions and array methods; see the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ extremes
    def amax(self, dim=(), keepdim=False) -> Tensor:
        """The largest value over dim (every dim when ()); the gradient is split evenly among
        tied maxima."""
        return apply(R.Max, self, axis=_axes(dim), keepdims=keepdim)

    def amin(self, dim=(), keepdim=False) -> Tensor:
        """The smallest value over dim; the gradient is split evenly among tied minima."""
        return apply(R.Min, self, axis=_axes(dim), keepdims=keepdim)

    def aminmax(self, *, dim=None, keepdim=False) -> tuple:
        """(min, max) over dim (every dim when None), each as amin and amax; dim one int, as
        torch's (a tuple is its TypeError)."""
        if isinstance(dim, (tuple, list)):
            raise TypeError(f"aminmax(): argument 'dim' must be int, not {type(dim).__name__}")
        return AminmaxResult(self.amin(dim, keepdim), self.amax(dim, keepdim))

    # ------------------------------------------------------------ nan-aware and counting
    def nansum(self, dim=None, keepdim=False, *, dtype=None) -> Tensor:
        """Σ over dim with nan counted as 0 (gradient 0 there); an integer or bool input has no
        nan and is a plain sum, int64 unless ``dtype`` says otherwise (as torch's)."""
        refuse_complex(self.array, "nansum", why=_NANSUM)
        if self.array.dtype.kind not in "fc":
            return self.sum(dim=_axes(dim), keepdim=keepdim, dtype=dtype)
        x = self if dtype is None else self.astype(dtype)
        refuse_complex(x.array, "nansum", NotImplementedError, _NANSUM)  # a complex dtype=
        if x.array.dtype.kind not in "fc":  # cast to an integer dtype: nan is gone
            return x.sum(dim=_axes(dim), keepdim=keepdim, dtype=dtype)
        nan = xp.isnan(x.array)
        if nan.any():
            x = apply(E.Where, Tensor(xp.zeros((), x.array.dtype)), x, cond=nan)
        return x.sum(dim=_axes(dim), keepdim=keepdim)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None) -> Tensor:
        """nansum / (the number of non-nan elements) over dim; as torch, of a floating input
        only, ``dtype`` or not."""
        _need_float(self, "nanmean")
        axes = _checked_axes(dim, self.ndim)
        refuse_complex(self.array, "nanmean", why=_NANSUM)
        if dtype is not None and xp.dtype(dtype).kind not in "fc":
            raise InputError(
                "nanmean(): could not infer output dtype. Optional dtype must be either a"
                f" floating point or complex dtype. Got: {xp.dtype(dtype)}"
            )
        x = self if dtype is None else self.astype(dtype)
        refuse_complex(x.array, "nanmean", NotImplementedError, _NANSUM)  # a complex dtype=
        n = (~xp.isnan(x.array)).sum(axis=axes, keepdims=keepdim).astype(x.array.dtype)
        with errstate(invalid="ignore"):  # a row of nan only: 0/0 = nan, as torch
            return x.nansum(dim, keepdim) / Tensor(n)

    def count_nonzero(self, dim=None) -> Tensor:
        """The number of nonzero elements over dim (int64); a dim named twice is torch's
        RuntimeError."""
        axes = _checked_axes(dim, self.ndim)
        if observers:  # an op (ops/rounding.py) that the ONNX tracer sees
            return apply(RO.CountNonzero, self.array, axis=axes)
        return Tensor(xp.asarray((self.array != 0).sum(axis=axes), dtype=xp.int64))

    # ------------------------------------------------------------ scans
    def logcumsumexp(self, dim) -> Tensor:
        """y_k = log Σ_{j ≤ k} e^{x_j} along dim, stable for any magnitudes."""
        d = check_dim("logcumsumexp", dim, self.ndim)  # torch checks the dim first
        _need_float(self, "logcumsumexp", "logcumsumexp_out_cpu")
        if self.ndim == 0:  # y = x, and torch's backward passes the gradient on as it came
            return self.clone()  # (the scan's formula would make it nan for x = ±inf or nan)
        return apply(RM.LogCumSumExp, self, dim=d)

    def cummax(self, dim) -> tuple:
        """(values, indices): the running maximum along dim and where it was found; the
        gradient of each value goes to that element."""
        return self._cum_extreme("cummax", dim, True, CummaxResult)

    def cummin(self, dim) -> tuple:
        """(values, indices): the running minimum along dim and where it was found."""
        return self._cum_extreme("cummin", dim, False, CumminResult)

    def _cum_extreme(self, name, dim, largest, result):
        refuse_complex(self.array, name, NotImplementedError)
        if self.ndim and not self.array.size:  # torch returns before it looks at the dim
            return result(self.clone(), Tensor(xp.zeros(self.shape, dtype=xp.int64)))
        d = check_dim(name, dim, self.ndim)
        x = self.reshape(1) if self.ndim == 0 else self
        index = RM.cum_extreme_indices(x.array, d, largest)
        values = x.gather(d, index)
        if self.ndim == 0:
            return result(values.reshape(()), Tensor(index.reshape(())))
        return result(values, Tensor(index))

    # ------------------------------------------------------------ order statistics
    def median(self, dim=None, keepdim=False):
        """Without dim: the lower median of every element (x_(⌊(n−1)/2⌋) of the sorted values;
        nan if any is nan), its gradient shared evenly among the elements equal to it. With dim:
        (values, indices) along dim, the gradient to the element at the index."""
        refuse_complex(self.array, "median", NotImplementedError)
        if dim is not None:  # torch checks the dim before the dtype
            check_dim("median", dim, self.ndim)
            RM.check_nonempty_reduction("median", dim, self.array.shape)
        if self.array.dtype.kind == "b" and (dim is not None or self.array.size):
            raise not_implemented_for(  # torch has no bool kernel (none is called for no element)
                "median_cpu" if dim is None else "median_out", self.array.dtype
            )
        if dim is None:
            flat = self.array.reshape(-1)
            if flat.size == 0:  # torch: nan, or (undefined there) the dtype's lowest integer
                v = RM.empty_median(flat.dtype)
            elif flat.dtype.kind in "fc" and xp.isnan(flat).any():
                v = xp.asarray(xp.nan, flat.dtype)
            else:
                v = xp.partition(flat, (flat.size - 1) // 2)[(flat.size - 1) // 2]
            return apply(RM.EvenlyShared, self, value=xp.asarray(v, flat.dtype))
        d = check_dim("median", dim, self.ndim)
        x = self.reshape(1) if self.ndim == 0 else self
        index = RM.median_index(x.array, d)
        return self._values_at(x, d, index, keepdim, MedianResult)

    def _values_at(self, x, d, index, keepdim, result):
        """result(values, indices) for the kept-dim ``index`` along d of x (self, or a 0-d self
        as 1-D): the values gathered from x, so the gradient goes to exactly those elements; d
        squeezed unless keepdim, both 0-d for a 0-d self. For median, kthvalue, mode, nanmedian."""
        values = x.gather(d, index)
        if self.ndim == 0:
            return result(values.reshape(()), Tensor(index.reshape(())))
        if not keepdim:
            values, index = values.squeeze(d), index.squeeze(d)
        return result(values, Tensor(index))

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear") -> Tensor:
        """The q-th quantiles over dim (all elements when None): on the sorted values, rank
        r = q·(n − 1) and x_(⌊r⌋) + (r − ⌊r⌋)·(x_(⌈r⌉) − x_(⌊r⌋)) ('linear'; 'lower', 'higher',
        'nearest', 'midpoint' as torch). A 1-D q puts its dim first. Differentiable: sort and
        gather carry the gradient to the two elements each quantile interpolates."""
        qa, d = self._quantile_args(q, dim, interpolation)
        return self._quantile(qa, d, keepdim, interpolation, q=q)

    def _quantile_args(self, q, dim, interpolation):
        """(q as a 0-d or 1-D array in self's dtype, dim wrapped or None) for quantile and
        nanquantile, mistakes refused in torch's order with its first line: q not a number (a
        TypeError), a number q outside [0, 1], the interpolation, an empty input, a q of 2+ dims,
        an input not float32/float64, a q tensor of another dtype, the dim (IndexError), a q
        tensor's values outside [0, 1] (each RuntimeError, also ValueError or TypeError)."""
        if as_array(q).dtype.kind not in "biuf":  # torch's parser: a number or a tensor
            raise TypeError(f"quantile(): q must be a number or a tensor, got {q!r}")
        scalar = not isinstance(q, Tensor) and xp.ndim(as_array(q)) == 0
        if scalar and not 0 <= float(q) <= 1:
            raise InputError(f"quantile() q must be in the range [0, 1] but got {float(q):g}")
        if interpolation not in _INTERPOLATIONS:
            raise InputError(
                "quantile() interpolation must be one of linear, lower, higher, midpoint or"
                f" nearest, but got {interpolation}"
            )
        if self.array.size == 0:  # torch refuses any empty input, also along a non-empty dim
            raise InputError("quantile() input tensor must be non-empty")
        if xp.ndim(as_array(q)) > 1:
            raise InputError(
                f"quantile() q must be a scalar or 1D tensor\n(got {xp.ndim(as_array(q))} dims)"
            )
        if self.array.dtype not in (xp.float32, xp.float64):  # also ember's TypeError
            raise InputTypeError(
                "quantile() input tensor must be either float or double dtype\n(got"
                f" {self.array.dtype}: a floating-point tensor of 32 or 64 bits is needed;"
                " convert it with .float() or .double())"
            )
        if isinstance(q, Tensor) and q.array.dtype != self.array.dtype:
            raise InputError(
                "quantile() q tensor must be same dtype as the input tensor\n(the input is"
                f" {self.array.dtype}, q is {q.array.dtype})"
            )
        qa = xp.asarray(as_array(q), dtype=self.array.dtype)
        # torch's words for a dim out of range (wrap_dim's; check_dim's are ember's)
        d = None if dim is None else wrap_dim(int_argument("quantile", "dim", 3, dim), self.ndim)
        bad = ~((qa >= 0) & (qa <= 1))  # nan too
        if bad.any():
            raise InputError(
                f"quantile() q values must be in the range [0, 1]\n(got {qa[bad].reshape(-1)[0]:g})"
            )
        return qa, d

    def _quantile(self, qa, d, keepdim, interpolation, ignore_nan=False, q=None) -> Tensor:
        """The quantiles qa (a checked 0-d or 1-D array in self's dtype) over dim d (a wrapped
        dim, or None for every element), for quantile and nanquantile (``ignore_nan``: ranks
        among the non-nan elements; see RM.quantile_positions). The sorted values (nan last)
        are gathered, so the gradient goes to the two elements each quantile interpolates; a
        q Tensor that needs grad gets torch's ∂/∂q of 'linear': (x_(⌈r⌉) − x_(⌊r⌋))·(n − 1)."""
        x = self.reshape(-1) if d is None or self.ndim == 0 else self
        axis = 0 if d is None else d
        s = x.sort(axis).values
        below, above, w = RM.quantile_positions(
            s.array, qa.reshape(-1), axis, interpolation, ignore_nan
        )
        out = s.gather(axis, below)
        if w is not None:
            w = Tensor(w)
            if interpolation == "linear" and isinstance(q, Tensor) and q.requires_grad:
                w = w + _rank_change(s.array, q, axis, ignore_nan)
            out = out.lerp(s.gather(axis, above), w)  # torch's lerp: −inf stays −inf
        if d is None:  # out is (Q,)
            lead = (qa.size,) if qa.ndim else ()
            return out.reshape(lead + ((1,) * self.ndim if keepdim else ()))
        if self.ndim == 0:
            return out.reshape((qa.size,) if qa.ndim else ())
        if qa.ndim == 0:
            return out if keepdim else out.squeeze(axis)
        out = out.permute((axis,) + tuple(i for i in range(out.ndim) if i != axis))
        return out.unsqueeze(axis + 1) if keepdim else out

    # ------------------------------------------------------------ diagonals and products
    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The offset diagonal of the (dim1, dim2) planes, as the last dim: out[..., i] =
        x[..., i, i + offset] (for offset < 0: x[..., i − offset, i]). A view of self: writing
        into it writes self."""
        a, b = check_dim("diagonal", dim1, self.ndim), check_dim("diagonal", dim2, self.ndim)
        if a == b:
            raise InputError(f"diagonal(): dim1 and dim2 cannot be the same dim ({dim1})")
        return apply(Diagonal, self, offset=int(offset), dim1=a, dim2=b)  # a view, as torch's

    def trace(self) -> Tensor:
        """Σ_i x[i, i] of a matrix (integers sum to int64)."""
        if self.ndim != 2:
            raise InputError(f"trace() expects a 2-D tensor, got {self.ndim} dims")
        if self.array.dtype.kind == "b":  # torch has no bool kernel
            raise not_implemented_for("trace", self.array.dtype)
        d = self.diagonal()
        return d.sum() if d.array.dtype.kind in "fc" else d.astype(xp.int64).sum()

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """A tensor whose (dim1, dim2) planes hold self's last dim on the offset diagonal
        (zeros elsewhere): one dim more than self, each of those two of size n + |offset|."""
        nd = self.ndim + 1
        a, b = check_dim("diag_embed", dim1, nd), check_dim("diag_embed", dim2, nd)
        if a == b:
            raise InputError(f"diag_embed(): dim1 and dim2 cannot be the same dim ({dim1})")
        k, lead = offset, self.shape[:-1]
        m = self.shape[-1] + abs(k)
        x = apply(S.Pad, self, pad_width=((0, 0),) * (nd - 2) + ((0, abs(k)),), value=0)
        # out[..., i, i+k] = x[..., i] (k ≥ 0): row i holds x_i; out[..., j−k, j] = x[..., j]
        x = x.reshape(lead + ((m, 1) if k >= 0 else (1, m))).expand(*lead, m, m)
        i = xp.arange(m)
        zero = Tensor(xp.zeros((), self.array.dtype))
        out = apply(E.Where, x, zero, cond=(i[None, :] - i[:, None]) == k)
        rest = iter(range(nd - 2))
        return out.permute(tuple(nd - 2 if p == a else nd - 1 if p == b else next(rest)
                                 for p in range(nd)))  # fmt: skip

    def kron(self, other) -> Tensor:
        """Kronecker product: out[i·m + k, …] = a[i, …] · b[k, …] (dims padded to one rank)."""
        b = other if isinstance(other, Tensor) else Tensor(as_array(other))
        nd = max(self.ndim, b.ndim)
        sa, sb = (1,) * (nd - self.ndim) + self.shape, (1,) * (nd - b.ndim) + b.shape
        a2 = self.reshape(tuple(v for n in sa for v in (n, 1)))
        b2 = b.reshape(tuple(v for n in sb for v in (1, n)))
        return (a2 * b2).reshape(tuple(p * q for p, q in zip(sa, sb)))

    def cross(self, other, dim=None) -> Tensor:
        """The cross product of 3-vectors along dim (None: the first dim of size 3), sizes
        broadcasting (ranks equal, as torch): (a₁b₂ − a₂b₁, a₂b₀ − a₀b₂, a₀b₁ − a₁b₀)."""
        b = other if isinstance(other, Tensor) else Tensor(as_array(other))
        if b.ndim != self.ndim:
            raise ValueError(
                f"cross(): inputs must have the same number of dims, got {self.shape} and {b.shape}"
            )
        shape = xp.broadcast_shapes(self.shape, b.shape)
        a = self if self.shape == shape else self.expand(*shape)
        b = b if b.shape == shape else b.expand(*shape)
        if dim is None:
            dim = next((i for i, n in enumerate(shape) if n == 3), None)
            if dim is None:
                raise ValueError(f"cross(): no dimension of size 3 in shape {shape}")
        d = check_dim("cross", dim, len(shape))
        if shape[d] != 3:
            raise ValueError(f"cross(): dim {dim} has size {shape[d]}, expected 3")
        a0, a1, a2 = (a.narrow(d, i, 1) for i in range(3))
        b0, b1, b2 = (b.narrow(d, i, 1) for i in range(3))
        return apply(S.Cat, a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0, axis=d)

    # ------------------------------------------------------------ counting
    def bincount(self, weights=None, minlength: int = 0) -> Tensor:
        """Occurrences of each value 0 … max of a 1-D non-negative integer tensor (weighted:
        the weights' sums: float32 for float32 weights, else float64; an empty input gives
        int64 zeros whatever the weights; all as torch's, checks too: RM.bincount_counts)."""
        w = None if weights is None else as_array(weights)
        return Tensor(RM.bincount_counts(self.array, w, minlength))

    def histc(self, bins: int = 100, min=0, max=0) -> Tensor:  # noqa: A002 - torch's names
        """Counts in ``bins`` equal bins over [min, max] (min = max: the data's own range,
        widened by 1 each way if that is one value); elements outside are not counted."""
        bins = int_argument("histc", "bins", 2, bins)
        refuse_complex(self.array, "histc", NotImplementedError)
        _need_float(self, "histc", "histogram_cpu")
        if bins <= 0:  # torch's RuntimeError (NumPy's bincount would raise ValueError)
            raise InputError(f"histc(): bins must be > 0, got {bins}")
        lo, hi = float(min), float(max)
        if lo == hi and self.array.size:
            lo, hi = float(self.array.min()), float(self.array.max())
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        if not (xp.isfinite(lo) and xp.isfinite(hi)) or lo > hi:  # torch's RuntimeError
            raise InputError(f"histc(): range [{lo}, {hi}] is not finite and increasing")
        return Tensor(RM.histc_counts(self.array, bins, lo, hi))
