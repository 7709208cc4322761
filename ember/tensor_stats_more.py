"""Tensor methods for torch's further statistics and set functions: mode, nanmedian,
nanquantile, unique_consecutive, histogram, cov, corrcoef and renorm (renorm_ in place).

Values picked by an index (mode, nanmedian with dim, nanquantile) are gathered through the
differentiable ``gather``, so the gradient goes to exactly the elements torch sends it to; cov,
corrcoef and renorm compose differentiable Tensor operations, so their gradients are torch's by
construction. Counts, edges and indices carry no gradient.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

import math
import warnings
from collections import namedtuple
from typing import TYPE_CHECKING

from .backend import accumulate, errstate, xp
from .ops import elementwise as E
from .ops import reduce_more as RM
from .ops.complex import Complex
from .ops.complex_refuse import refuse_complex
from .ops.elementwise import not_implemented_for
from .ops.index import check_unique_dim, int_argument

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401

#: torch.return_types of the same names
ModeResult = namedtuple("mode", ["values", "indices"])
NanmedianResult = namedtuple("nanmedian", ["values", "indices"])
HistogramResult = namedtuple("histogram", ["hist", "bin_edges"])

_TORCH_DTYPE = {
    "float32": "float",
    "float64": "double",
    "float16": "half",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}


def wrap_dim(dim: int, ndim: int) -> int:
    """dim in [−n, n) as a non-negative dim (a 0-d tensor has dims −1 and 0), torch's error."""
    if type(dim) is not int:  # a NumPy integer or 0-d integer tensor; not a bool or float
        dim = int_argument("", "dim", None, dim)
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n


def _dtype_name(a) -> str:
    return _TORCH_DTYPE.get(str(a.dtype), str(a.dtype))


def _pick(self, name: str, dim, keepdim, result, index_of):
    """(values, indices) along dim: index_of(array, d) gives the kept-dim index array; the values
    are gathered from self (gradient to exactly those elements)."""
    d = wrap_dim(dim, self.ndim)
    x = self.reshape(1) if self.ndim == 0 else self
    if x.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    index = index_of(x.array, d)
    return self._values_at(x, d, index, keepdim, result)


def _mode_index(a, d: int):
    """Where the mode of each row along d is: on a stable sort, the run of equal values that is
    longest (the smallest value among equally long runs), and its last element, i.e. the largest
    index holding the mode. Each nan is a run of its own (nan ≠ nan). torch's CPU kernel sorts
    unstably: on rows longer than 16 its index is some element holding the mode, not always the
    last, and with nan its result depends on where the nan sit."""
    order = xp.argsort(a, axis=d, kind="stable")
    s = xp.take_along_axis(a, order, axis=d)
    n = s.shape[d]
    shape = [1] * s.ndim
    shape[d] = n
    pos = xp.arange(n).reshape(shape)
    new = xp.ones(s.shape, dtype=bool)
    hi = [slice(None)] * s.ndim
    lo = [slice(None)] * s.ndim
    hi[d], lo[d] = slice(1, None), slice(None, -1)
    new[tuple(hi)] = s[tuple(hi)] != s[tuple(lo)]
    start = accumulate("maximum", xp.where(new, pos, 0), d)
    end = xp.argmax(pos - start, axis=d, keepdims=True)  # the first run to reach the longest count
    return xp.take_along_axis(order, end, axis=d).astype(xp.int64)


def _nanmedian_index(a, d: int):
    """The index of the lower median of the non-nan elements along d: position ⌊(k − 1)/2⌋ of a
    stable sort (nan last), k the number of non-nan elements (position 0 when k = 0)."""
    order = xp.argsort(a, axis=d, kind="stable")
    k = (~xp.isnan(a)).sum(axis=d, keepdims=True) if a.dtype.kind in "fc" else a.shape[d]
    at = xp.maximum((xp.asarray(k) - 1) // 2, 0)
    at = xp.broadcast_to(at, order.shape[:d] + (1,) + order.shape[d + 1 :])
    return xp.take_along_axis(order, at, axis=d).astype(xp.int64)


def _linspace(start: float, end: float, steps: int, dtype):
    """torch.linspace's values in dtype: start + i·step for the first half, end − (steps − 1 −
    i)·step for the second, step = (end − start)/(steps − 1)."""
    t = xp.dtype(dtype).type
    start, end = t(start), t(end)
    step = (end - start) / t(max(steps - 1, 1))
    i = xp.arange(steps).astype(dtype)
    back = (t(steps - 1) - i).astype(dtype)
    return xp.where(xp.arange(steps) < steps // 2, start + step * i, end - step * back).astype(
        dtype
    )


def _check_weights(w, name: str, n_obs: int):
    a = as_array(w)
    if a.ndim > 1:
        raise RuntimeError(
            f"cov(): expected {name} to have one or fewer dimensions but got {name} with"
            f" {a.ndim} dimensions"
        )
    kind_ok = a.dtype.kind in "iu" if name == "fweights" else a.dtype.kind in "fc"
    if not kind_ok:
        what = "integral" if name == "fweights" else "floating point"
        raise RuntimeError(
            f"cov(): expected {name} to have {what} dtype but got {name} with"
            f" {_dtype_name(a)[0].upper() + _dtype_name(a)[1:]} dtype"
        )
    if a.size != n_obs:
        raise RuntimeError(
            f"cov(): expected {name} to have the same numel as there are observations in the"
            f" input but got {a.size} != {n_obs}"
        )
    if (a < 0).any():
        raise RuntimeError(f"cov(): {name} cannot be negative")
    return w if isinstance(w, Tensor) else Tensor(a)


class StatsMoreTensorMethods:
    """mode / nanmedian / nanquantile / unique_consecutive / histogram / cov / corrcoef /
    renorm; see the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ order statistics
    def mode(self, dim=-1, keepdim=False):
        """(values, indices): the most frequent value along dim (the smallest of equally frequent
        ones) and the largest index holding it; the gradient goes to that element."""
        refuse_complex(self.array, "mode", NotImplementedError)
        return _pick(self, "mode", dim, keepdim, ModeResult, _mode_index)

    def nanmedian(self, dim=None, keepdim=False):
        """The lower median of the non-nan elements, x_(⌊(k−1)/2⌋) of the k sorted non-nan
        values (nan if all are nan). Without dim, its gradient shared evenly among the elements
        equal to it; with dim, (values, indices), the gradient to the element at the index."""
        refuse_complex(self.array, "nanmedian", NotImplementedError)
        if dim is not None:  # torch checks the dim before the dtype
            wrap_dim(dim, self.ndim)
            RM.check_nonempty_reduction("median", dim, self.array.shape)
        if self.array.dtype.kind == "b" and (dim is not None or self.array.size):
            raise not_implemented_for(  # median's kernels, without bool (none for no element)
                "median_cpu" if dim is None else "median_out", self.array.dtype
            )
        if dim is None:
            flat = self.array.reshape(-1)
            if flat.dtype.kind in "fc":
                flat = flat[~xp.isnan(flat)]
            if flat.size == 0:  # all nan, or no elements
                v = RM.empty_median(self.array.dtype)
            else:
                v = xp.partition(flat, (flat.size - 1) // 2)[(flat.size - 1) // 2]
            return apply(RM.EvenlyShared, self, value=xp.asarray(v, self.array.dtype))
        RM.check_nonempty_reduction("median", dim, self.array.shape)
        return _pick(self, "median", dim, keepdim, NanmedianResult, _nanmedian_index)

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear") -> Tensor:
        """The q-th quantiles over dim of the non-nan elements: on the k sorted non-nan values,
        rank r = q·(k − 1) and x_(⌊r⌋) + (r − ⌊r⌋)·(x_(⌈r⌉) − x_(⌊r⌋)) ('linear'; 'lower',
        'higher', 'nearest', 'midpoint' as torch); nan for a row of nan only. A 1-D q puts its
        dim first. The gradient goes to the two elements each quantile interpolates."""
        qa, d = self._quantile_args(q, dim, interpolation)
        return self._quantile(qa, d, keepdim, interpolation, ignore_nan=True, q=q)

    # ------------------------------------------------------------ sets and counts
    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        """The first element of every run of equal consecutive elements (of the flattened
        tensor, or the slices along dim), and optionally where each element went and each run's
        length; no gradient."""
        a = self.array
        refuse_complex(a, "unique_consecutive", NotImplementedError)
        if dim is not None and a.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        if dim is None:
            rows = a.reshape(-1, 1)
        else:
            d = wrap_dim(dim, self.ndim)
            check_unique_dim(a.shape, d)
            width = math.prod(n for k, n in enumerate(a.shape) if k != d)  # (no -1: d may be 0)
            rows = xp.moveaxis(a, d, 0).reshape(a.shape[d], width)
        m = rows.shape[0]
        new = xp.ones(m, dtype=bool)
        if m > 1:
            new[1:] = (rows[1:] != rows[:-1]).any(axis=1)
        first = xp.nonzero(new)[0]
        if dim is None:
            values = a.reshape(-1)[first]
        else:
            values = xp.take(a, first, axis=d)
        out = [Tensor(values)]
        if return_inverse:
            inverse = (xp.cumsum(new) - 1).astype(xp.int64)
            out.append(Tensor(inverse.reshape(self.shape if dim is None else (m,))))
        if return_counts:
            out.append(Tensor(xp.diff(xp.append(first, m)).astype(xp.int64)))
        return out[0] if len(out) == 1 else tuple(out)

    def histogram(self, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
        """(hist, bin_edges): the count (or summed weight) of the elements in each bin
        [e_i, e_{i+1}) (the last bin closed), bins equal over range (default: the data's min
        and max, ±0.5 if equal) or given as edges; density divides by Σ hist · (e_{i+1} − e_i)."""
        a = self.array
        if a.dtype.kind != "f":
            raise NotImplementedError(f"\"histogramdd\" not implemented for '{_dtype_name(a)}'")
        if isinstance(bins, Tensor):
            edges = bins.array
            if edges.ndim != 1:
                raise RuntimeError(
                    "torch.histogramdd: bins tensor should have one dimension, but got"
                    f" {edges.ndim} dimensions in the bins tensor for dimension 0"
                )
            if edges.size - 1 <= 0:
                raise RuntimeError(
                    f"torch.histogram(): bins must be > 0, but got {edges.size - 1} for dimension 0"
                )
            if edges.dtype != a.dtype:
                raise RuntimeError(
                    "torch.histogramdd: input tensor and bins tensors should have the same dtype,"
                    f" but got input with dtype {_dtype_name(a)} and bins for dimension 0 with"
                    f" dtype {_dtype_name(edges)}"
                )
            edges = edges.copy()
        else:
            if bins <= 0:
                raise RuntimeError(
                    f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0"
                )
            if range is None and a.dtype == xp.float16 and a.size:  # torch's data range: no kernel
                raise not_implemented_for("histogramdd", a.dtype)
            if range is not None:
                lo, hi = float(range[0]), float(range[1])
            elif a.size:
                lo, hi = float(a.min()), float(a.max())
            else:
                lo, hi = 0.0, 1.0
            if lo > hi:
                raise RuntimeError(
                    f"torch.histogramdd: min should not exceed max, but got min {lo:g} max {hi:g}"
                    " for dimension 0"
                )
            if not (math.isfinite(lo) and math.isfinite(hi)):  # host floats, not arrays
                raise RuntimeError(
                    f"torch.histogramdd: dimension 0's range [{lo:g}, {hi:g}] is not finite"
                )
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            edges = _linspace(lo, hi, int(bins) + 1, a.dtype)
        w = None
        if weight is not None:
            w = as_array(weight)
            if w.shape != a.shape:
                raise RuntimeError(
                    "torch.histogramdd: if weight tensor is provided it should have the same shape"
                    " as the input tensor excluding its innermost dimension, but got input with"
                    f" shape {list((a.size, 1))} and weight with shape {list(w.shape)}"
                )
            if w.dtype != a.dtype:
                raise RuntimeError(
                    "torch.histogramdd: if weight tensor is provided, input tensor and weight"
                    f" tensor should have the same dtype, but got input({_dtype_name(a)}), and"
                    f" weight({_dtype_name(w)})"
                )
            w = w.reshape(-1)
        nb = edges.size - 1
        flat = a.reshape(-1)
        inside = (flat >= edges[0]) & (flat <= edges[-1])
        pos = xp.searchsorted(edges, flat[inside], side="right") - 1
        pos = xp.minimum(pos, nb - 1)  # x = the last edge: the last bin
        hist = xp.bincount(pos, weights=None if w is None else w[inside], minlength=nb)
        hist = hist[:nb].astype(a.dtype)
        if density:
            with errstate(invalid="ignore", divide="ignore"):
                hist = hist / (hist.sum() * xp.diff(edges))
        return HistogramResult(Tensor(hist.astype(a.dtype)), Tensor(edges))

    # ------------------------------------------------------------ covariance
    def cov(self, *, correction=1, fweights=None, aweights=None) -> Tensor:
        """C = Σ_i w_i (x_i − μ*)(x_i − μ*)ᵀ / max(0, Σw − correction·Σ(w·a)/Σw), rows the
        variables and columns the observations, w = fweights·aweights, μ* = Σ w_i x_i / Σw
        (no weights: w = 1, the divisor N − correction); squeezed as torch."""
        if self.ndim > 2:
            raise RuntimeError(
                "cov(): expected input to have two or fewer dimensions but got an input with"
                f" {self.ndim} dimensions"
            )
        if self.array.dtype.kind == "b":
            raise RuntimeError("cov(): bool dtype is not supported for input")
        x = self if self.ndim == 2 else self.reshape(1, -1)
        n_obs = x.shape[1]
        f = None if fweights is None else _check_weights(fweights, "fweights", n_obs)
        a = None if aweights is None else _check_weights(aweights, "aweights", n_obs)
        w = f if a is None else a if f is None else f * a
        w_sum = w.sum() if w is not None else n_obs
        avg = (x * w if w is not None else x).sum(1) / w_sum
        if w is not None and a is not None and correction != 0:
            norm = w_sum - correction * (w * a).sum() / w_sum
        else:
            norm = w_sum - correction
        if not isinstance(norm, Tensor):
            norm = Tensor(xp.asarray(norm, xp.int64))
        if float(as_array(norm)) <= 0:
            warnings.warn(
                "cov(): degrees of freedom is <= 0. Correction should be strictly less than the"
                " number of observations.",
                stacklevel=2,
            )
            norm = norm * 0
        xm = x - avg.unsqueeze(1)
        xt = (xm * w if w is not None else xm).transpose(0, 1)
        c = xm.matmul(xt.conj() if xt.dtype.kind == "c" else xt)  # (x − μ)(x − μ)ᴴ, as torch
        with errstate(invalid="ignore", divide="ignore"):
            return (c / norm).squeeze()

    def corrcoef(self) -> Tensor:
        """R_ij = C_ij / √(C_ii·C_jj) of C = cov(self), clipped to [−1, 1] (for complex C, its
        real and imaginary parts each, as torch)."""
        if self.ndim > 2:
            raise RuntimeError(
                "corrcoef(): expected input to have two or fewer dimensions but got an input with"
                f" {self.ndim} dimensions"
            )
        c = self.cov()
        with errstate(invalid="ignore", divide="ignore"):
            if c.ndim == 0:
                return c / c
            s = c.diagonal().sqrt()
            c = c / s.unsqueeze(1)
            c = c / s.unsqueeze(0)
        if c.dtype.kind == "c":
            return apply(Complex, c.real.clamp(-1, 1), c.imag.clamp(-1, 1))
        return c.clamp(-1, 1)

    # ------------------------------------------------------------ norms
    def renorm(self, p, dim, maxnorm) -> Tensor:
        """Each slice along dim whose p-norm ‖x‖_p exceeds maxnorm, scaled to
        x · maxnorm/(‖x‖_p + 1e-7); the others unchanged."""
        if p <= 0:
            raise RuntimeError("renorm: non-positive-norm not supported")
        if maxnorm < 0:
            raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
        if self.ndim <= 1:
            raise RuntimeError(
                f"renorm: input needs at least 2 dimensions, got {self.ndim} dimensions"
            )
        d = wrap_dim(dim, self.ndim)
        if self.array.dtype.kind not in "fc":
            raise RuntimeError(
                "linalg.vector_norm: Expected a floating point or complex tensor as input. Got"
                f" {_dtype_name(self.array)}"
            )
        dims = tuple(i for i in range(self.ndim) if i != d)
        norm = self.norm(p, dim=dims, keepdim=True)
        scaled = norm.array > maxnorm
        if not scaled.all():  # the norm that scales taken again, of the scaled slices alone: a
            # NaN in a slice left as it is (NaN > maxnorm is false) must not reach the others'
            # gradients as NaN·0 through the untaken branch
            zero = Tensor(xp.zeros((), self.array.dtype))
            kept = apply(E.Where, self, zero, cond=xp.broadcast_to(scaled, self.shape))
            norm = kept.norm(p, dim=dims, keepdim=True)
        one = Tensor(xp.ones((), self.array.dtype))
        factor = apply(E.Where, maxnorm / (norm + 1e-7), one, cond=scaled)
        return self * factor

    def renorm_(self, p, dim, maxnorm) -> Tensor:
        """renorm in place; returns self."""
        return self._arith_("renorm_", lambda s: s.renorm(p, dim, maxnorm))
