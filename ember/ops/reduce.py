"""Reductions: sum, mean, max, min, var, logsumexp, and the softmax family.

Backward re-expands the reduced gradient to the input's shape; ``axis`` is
None (all), an int, or a tuple, and ``keepdims`` is as in NumPy.
"""

from __future__ import annotations

from ..backend import errstate, get_array_module
from ..errors import IndexInputError, InputError
from ..function import Function, half_in_float32
from .complex_refuse import refuse_complex
from .elementwise import not_implemented_for
from .index import check_dim, int_argument


def normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int) or getattr(axis, "ndim", None) == 0:  # NumPy int, 0-d tensor
        axis = (axis,)
    n, seen = max(ndim, 1), []
    for a in axis:
        if type(a) is not int:  # as torch's parser: a NumPy or 0-d tensor integer, not a bool
            a = int_argument("", "dim", None, a)
        if not -n <= a < n:
            raise IndexError(f"axis {a} is out of range for a tensor of {ndim} dimensions")
        # a 0-d array accepts dim 0 or -1 (as torch) and reduces over no axes; either twice
        # (0 and -1 too) is torch's RuntimeError (NumPy's would be a ValueError)
        a %= n
        if a in seen:
            raise InputError(f"dim {a} appears multiple times in the list of dims")
        seen.append(a)
    return tuple(sorted(seen)) if ndim else ()


def _expand(g, shape, axes, keepdims):
    """Bring a reduced gradient back to a broadcastable shape."""
    if not keepdims and axes:
        g = get_array_module(g).expand_dims(g, axes)
    return g


class Sum(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = x.shape, normalize_axis(axis, x.ndim), keepdims
        if x.dtype == "float16":  # accumulated in float32, rounded once, as torch's (NumPy
            # adds along a strided axis in half: 20 000 rows drifted by hundreds of ulps)
            return x.sum(axis=self.axes, keepdims=keepdims, dtype="float32").astype(x.dtype)
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = _expand(gy, self.shape, self.axes, self.keepdims)
        return (xp.broadcast_to(g, self.shape),)


class Mean(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = x.shape, normalize_axis(axis, x.ndim), keepdims
        n = 1
        for a in self.axes:
            n *= x.shape[a]
        self.n = n
        return x.mean(axis=self.axes, keepdims=keepdims)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = _expand(gy, self.shape, self.axes, self.keepdims) / self.n
        return (xp.broadcast_to(g, self.shape),)


class _Extreme(Function):
    """max/min over axes; the gradient is split evenly among tied extremes (as torch amax).

    A nan result: torch's ``x.max()`` shares the gradient among the nans (``nan_ties=True``),
    while its amax compares x == nan, finds no tie and gives 0/0 = nan everywhere."""

    pick = None  # "max" or "min"

    def forward(self, x, axis=None, keepdims=False, nan_ties=False):
        if x.dtype.kind == "c":
            refuse_complex(x, self.pick, NotImplementedError)
        self.x, self.axes, self.keepdims = x, normalize_axis(axis, x.ndim), keepdims
        self.nan_ties = nan_ties
        empty = [a for a in self.axes if x.shape[a] == 0]
        if empty:  # torch's rule: an empty tensor reduces only along its non-empty axes (its
            # IndexError where the dims were named, RuntimeError where they were not: both)
            raise IndexInputError(
                f"{self.pick}(): expected the reduced dim {empty[0]} to have non-zero size,"
                f" got a tensor of shape {x.shape}"
            )
        y = (
            x.max(axis=self.axes, keepdims=True)
            if self.pick == "max"
            else x.min(axis=self.axes, keepdims=True)
        )
        self.y = y
        return y if keepdims else y.squeeze(self.axes) if self.axes else y

    def backward(self, gy):
        xp = get_array_module(gy)
        g = _expand(gy, self.x.shape, self.axes, self.keepdims)
        mask = self.x == self.y
        if self.nan_ties:
            mask |= xp.isnan(self.x) & xp.isnan(self.y)
        count = mask.sum(axis=self.axes, keepdims=True)
        return (mask * (g / count),)


class Max(_Extreme):
    pick = "max"


class Min(_Extreme):
    pick = "min"


@half_in_float32
class Var(Function):
    """var(x) = Σ (x - mean)² / (N - correction); torch's default correction is 1."""

    def forward(self, x, axis=None, keepdims=False, correction=1):
        self.axes, self.keepdims, self.shape = normalize_axis(axis, x.ndim), keepdims, x.shape
        n = 1
        for a in self.axes:
            n *= x.shape[a]
        self.denom = max(n - correction, 0)
        self.dof = n - correction  # unclamped in the gradient, as torch's var_backward
        self.d = d = x - x.mean(axis=self.axes, keepdims=True)
        # |d|² for complex x (a real variance, as torch's); the real branch is d·d as before
        sq = (d.real * d.real + d.imag * d.imag) if d.dtype.kind == "c" else d * d
        total = sq.sum(axis=self.axes, keepdims=keepdims)
        if n > 0:
            # the corrected two-pass sum (Chan, Golub & LeVeque 1983): Σd² − |Σd|²/N takes out
            # the rounding error of the mean, so constant data (whose rounded mean is an ulp
            # off) has variance exactly 0, as torch's Welford kernel gives
            s = d.sum(axis=self.axes, keepdims=keepdims)
            total -= (s.real * s.real + s.imag * s.imag if s.dtype.kind == "c" else s * s) / n
            total = get_array_module(x).maximum(total, 0)  # NaN stays NaN
        return total / self.denom

    def backward(self, gy):
        xp = get_array_module(gy)
        g = _expand(gy, self.shape, self.axes, self.keepdims)
        with errstate(divide="ignore", invalid="ignore"):  # no degrees of freedom: nan
            return (g * (xp.float64(2.0) / self.dof).astype(gy.dtype) * self.d,)


@half_in_float32
class Std(Var):
    """std(x) = √var(x);  ∂std/∂x = ∂var/∂x / (2·std), and 0 where std = 0 (a constant
    input: torch's choice, where the composed sqrt would give 0·∞ = nan)."""

    def forward(self, x, axis=None, keepdims=False, correction=1):
        xp = get_array_module(x)
        self.y = y = xp.sqrt(super().forward(x, axis, keepdims, correction))
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        y = self.y
        (g,) = super().backward(xp.where(y == 0, 0, gy / (2 * xp.where(y == 0, 1, y))))
        return (g,)


class LogSumExp(Function):
    """logsumexp(x) = m + log Σ exp(x - m), m = max Re x: stable for any x."""

    def forward(self, x, axis=None, keepdims=False):
        xp = get_array_module(x)
        self.axes, self.keepdims = normalize_axis(axis, x.ndim), keepdims
        # m = max Re x (x.real is x itself for a real x): torch's shift for complex x, which
        # keeps Im of the result the principal angle of Σ eˣ
        if x.size == 0:  # a sum of no terms is 0, its log −∞ (NumPy's max would raise)
            m = xp.zeros(tuple(1 if a in self.axes else n for a, n in enumerate(x.shape)),
                         x.real.dtype)  # fmt: skip
        else:
            m = x.real.max(axis=self.axes, keepdims=True)
        finite = xp.isfinite(m)
        m = xp.where(finite, m, 0)
        e = xp.exp(x - m)
        s = e.sum(axis=self.axes, keepdims=True)
        with errstate(divide="ignore", invalid="ignore", over="ignore"):  # log 0 = −∞, as torch
            y = xp.log(s) + m
            self.p = e / s  # softmax: the gradient of logsumexp
            if not finite.all():  # a row with +inf: torch's e^{x − y} (0 for finite x, not ∞/∞)
                self.p = xp.where(finite, self.p, xp.exp(x - y))
        return y if keepdims else y.squeeze(self.axes)

    def backward(self, gy):
        g = _expand(gy, self.p.shape, self.axes, self.keepdims)
        return (g * self.p,)


def softmax_array(x, axis):
    xp = get_array_module(x)
    if x.size == 0:  # nothing to normalise (NumPy's max of no elements would raise)
        return x.copy()
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax_array(x, axis):
    xp = get_array_module(x)
    if x.size == 0:
        return x.copy()
    z = x - x.max(axis=axis, keepdims=True)
    z -= xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
    return z


_SOFTMAX_WHY = "torch has no complex softmax kernel: apply it to z.abs() or z.real"


def _check_softmax(x, axis: int, name: str) -> None:
    """torch's checks, in its order: the dim (IndexError), then the dtype: no softmax kernel
    for complex, integer or bool input (dtype= casts first), except of an empty tensor, which
    torch hands back as it is."""
    check_dim(name, axis, x.ndim)
    if x.dtype.kind == "f" or (x.size == 0 and x.dtype.kind != "c"):
        return
    if x.dtype.kind == "c":
        refuse_complex(x, name, NotImplementedError, _SOFTMAX_WHY)
    last = x.ndim == 0 or axis % x.ndim == x.ndim - 1
    raise not_implemented_for(f"{name}_{'lastdim_' if last else ''}kernel_impl", x.dtype)


@half_in_float32  # float16 in float32, rounded once, as torch's (1 ulp off in half)
class Softmax(Function):
    """softmax(x)_i = exp(x_i - m) / Σ_j exp(x_j - m); subtracting m = max(x) avoids overflow."""

    def forward(self, x, axis=-1):
        _check_softmax(x, axis, "softmax")
        self.axis = axis
        self.y = y = softmax_array(x, axis)
        return y

    def backward(self, gy):
        """∂L/∂x = y ⊙ (gy − Σ gy ⊙ y), torch's form (y·gy − y·Σ cancels apart where the
        terms are close); float16 from y rounded to half, as torch keeps its output."""
        y = _as_kept(self, self.y)
        gx = gy - (gy * y).sum(axis=self.axis, keepdims=True)
        gx *= y
        return (gx,)


@half_in_float32  # float16 in float32, rounded once, as torch's (1 ulp off in half)
class LogSoftmax(Function):
    """log_softmax(x)_i = x_i - m - log Σ_j exp(x_j - m)."""

    def forward(self, x, axis=-1):
        _check_softmax(x, axis, "log_softmax")
        self.axis = axis
        self.y = y = log_softmax_array(x, axis)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        y = _as_kept(self, self.y)  # float16: torch's half output
        return (gy - xp.exp(y) * gy.sum(axis=self.axis, keepdims=True),)


def _as_kept(fn, y):
    """The output as torch's backward reads it: rounded to half where the op ran a float16
    input in float32 (half_in_float32), as torch saves its half result."""
    if getattr(fn, "half_dtypes", None):
        return y.astype("float16").astype("float32")
    return y


# the ops above that keep no array for backward: a later backward may run them again
# (autograd.free), as torch's nodes that saved no tensor
for _op in (Sum, Mean):
    _op.rerunnable = True
