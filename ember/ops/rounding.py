"""Rounding, sign, truth reductions, closeness, nonzero indices and one-hot codes as ops.

    round(x, d)       y = rint(x·10ᵈ)/10ᵈ (d ≥ 0), rint(x/10⁻ᵈ)·10⁻ᵈ (d < 0): half to even
    floor, ceil       y = ⌊x⌋, ⌈x⌉
    trunc             y = ⌊x⌋ for x ≥ 0, ⌈x⌉ for x < 0
    sign              y = (x > 0) − (x < 0)  (0 at NaN, as torch)
    all, any          y = ∧ / ∨ of (x ≠ 0) over dim
    count_nonzero     y = Σ (x ≠ 0) over dim (int64)
    isclose           y = |a − b| ≤ atol + rtol·|b| ∧ b finite, ∨ a = b, ∨ both NaN (equal_nan)
    nonzero           the (n, ndim) int64 indices of the nonzero elements
    one_hot           y[..., c] = (x = c) (int64)
    searchsorted      y = #{j: s_j < v} (right: s_j ≤ v) along s's last dim; bucketize too
    nextafter         y = the next float after x towards other (∂y/∂x = 1, as torch)

The step functions have gradient 0 everywhere (torch's derivative of round, floor, ceil, trunc
and sign), so their backward sends zeros; the others are never recorded (a bool or integer
result). They are ops so that the observers of ``function.observers`` see a value a model
computes from its input with them: the ONNX exporter writes them as Round / Floor / Ceil /
Sign / ReduceSum / NonZero … nodes (onnx/ops_rounding.py) rather than baking the traced
input's values into the graph. The Tensor methods run them through ``apply`` only while an
observer is present and compute the same arrays directly otherwise (the functions below), so
the eager path costs what it did.
"""

from __future__ import annotations

from ..backend import get_array_module, xp
from ..function import Function, unbroadcast
from .reduce_more import searchsorted_rows


def round_array(x, decimals: int = 0):
    """x rounded half to even to ``decimals`` places (an integer array: a copy, as torch)."""
    if x.dtype.kind != "f":
        return x.copy()
    return get_array_module(x).round(x, decimals)


def sign_array(x):
    """−1, 0 or 1 in x's dtype; 0 at NaN (torch's (x > 0) − (x < 0); NumPy's sign gives NaN);
    a bool array is its own sign."""
    xp = get_array_module(x)
    if x.dtype.kind == "b":
        return x.copy()
    s = xp.asarray(xp.sign(x))  # an array for a 0-d x too (NumPy returns a scalar there)
    if x.dtype.kind == "f":  # (copyto: the cheapest of the NaN fixes, ~1 µs on a small array)
        xp.copyto(s, 0, where=xp.isnan(s))
    return s


class _Step(Function):
    """y = fn(x) elementwise, ∂y/∂x = 0: the gradient sent back is zeros."""

    fn = None  # the array function, set by each subclass

    def forward(self, x):
        return type(self).fn(x)

    def backward(self, gy):
        return (get_array_module(gy).zeros_like(gy),)


def _kept_integers(f):
    """f on floating arrays; an integer array rounds to a copy of itself, in its own dtype."""

    def fn(x):
        return f(x) if x.dtype.kind == "f" else x.copy()

    return fn


def _step(name: str, fn, doc: str) -> type:
    return type(name, (_Step,), {"fn": staticmethod(fn), "__doc__": doc})


class Round(_Step):
    """y = x rounded half to even to ``decimals`` places; gradient 0."""

    def forward(self, x, decimals=0):
        return round_array(x, decimals)


Floor = _step("Floor", _kept_integers(xp.floor), "y = ⌊x⌋; gradient 0.")
Ceil = _step("Ceil", _kept_integers(xp.ceil), "y = ⌈x⌉; gradient 0.")
Trunc = _step("Trunc", _kept_integers(xp.trunc), "y = x rounded toward 0; gradient 0.")
Sign = _step("Sign", sign_array, "y = (x > 0) − (x < 0), 0 at NaN; gradient 0.")


class NextAfter(Function):
    """y = the next float after x towards other; ∂y/∂x = 1 and ∂y/∂other = 0, as torch's (y
    is x moved by one ulp at most). x and other share one float dtype."""

    def forward(self, x, other):
        self.shapes = x.shape, other.shape
        return get_array_module(x).nextafter(x, other)

    def backward(self, gy):
        xp = get_array_module(gy)
        nx, no = self.needs_input_grad
        x_shape, other_shape = self.shapes
        return (
            unbroadcast(gy, x_shape) if nx else None,
            xp.zeros(other_shape, dtype=gy.dtype) if no else None,
        )


class _NoGrad(Function):
    """A bool or integer result: never recorded."""

    def backward(self, *gy):  # pragma: no cover - never recorded
        return (None,) * len(self.needs_input_grad)


def _axes(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def truth_reduce(every: bool, x, dim=None, keepdim=False):
    """∧ (every) or ∨ of (x ≠ 0) over ``dim`` (None: every element): bool, but uint8 for a
    uint8 x, as torch."""
    xp = get_array_module(x)
    r = (xp.all if every else xp.any)(x, axis=_axes(dim), keepdims=keepdim)
    return r.astype(xp.uint8) if x.dtype == xp.uint8 else r


class All(_NoGrad):
    """y = ∧ (x ≠ 0) over ``dim`` (None: every element) (bool; uint8 x: uint8)."""

    def forward(self, x, dim=None, keepdim=False):
        return truth_reduce(True, x, dim, keepdim)


class Any(_NoGrad):
    """y = ∨ (x ≠ 0) over ``dim`` (None: every element) (bool; uint8 x: uint8)."""

    def forward(self, x, dim=None, keepdim=False):
        return truth_reduce(False, x, dim, keepdim)


def count_nonzero_array(x, axis):
    """Σ (x ≠ 0) over ``axis`` (None: every element) as int64."""
    xp = get_array_module(x)
    return xp.asarray((x != 0).sum(axis=axis), dtype=xp.int64)


class CountNonzero(_NoGrad):
    """y = Σ (x ≠ 0) over ``axis`` (int64)."""

    def forward(self, x, axis=None):
        return count_nonzero_array(x, axis)


class IsClose(_NoGrad):
    """y = |a − b| ≤ atol + rtol·|b| (b finite), or a = b, or both NaN with ``equal_nan``."""

    def forward(self, a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
        return get_array_module(a).isclose(a, b, rtol, atol, equal_nan)


def nonzero_array(x):
    """The indices of x's nonzero elements, one row each: (n, ndim) int64."""
    xp = get_array_module(x)
    return xp.stack(xp.nonzero(x), axis=1).astype(xp.int64).reshape(-1, x.ndim)


class Nonzero(_NoGrad):
    """The (n, ndim) int64 indices of x's nonzero elements, in row-major order."""

    def forward(self, x):
        return nonzero_array(x)


class OneHot(_NoGrad):
    """y[..., c] = (x = c) for c < ``num_classes`` (int64; −1: max(x) + 1 classes); x holds
    checked class indices."""

    def forward(self, x, num_classes=-1):
        xp = get_array_module(x)
        n = int(x.max()) + 1 if num_classes == -1 else num_classes
        return (x[..., None] == xp.arange(n)).astype(xp.int64)


class SearchSorted(_NoGrad):
    """i = the number of seq entries < v (right: ≤ v) along seq's last dim, NaN counting as
    the largest value (NumPy's order): torch.searchsorted and torch.bucketize (int64, or int32
    with ``out_int32``)."""

    def forward(self, seq, v, right=False, out_int32=False):
        xp = get_array_module(seq)
        out = searchsorted_rows(seq, v, "right" if right else "left")
        return xp.asarray(out, dtype=xp.int32 if out_int32 else xp.int64)


class Heaviside(_NoGrad):
    """y = 0 where x < 0, v where x = 0, 1 where x > 0 (NaN: 0), in x's dtype."""

    def forward(self, x, v):
        return get_array_module(x).where(x == 0, v, x > 0).astype(x.dtype, copy=False)


class Unique(_NoGrad):
    """The sorted distinct values of x (with ``axis``: slices along it), each element's (slice's)
    index among them and each value's count (int64). Every NaN is a value of its own, as in
    torch (NaN ≠ NaN; NumPy merges them by default)."""

    multi_output = True

    def forward(self, x, axis=None):
        xp = get_array_module(x)
        v, inverse, counts = xp.unique(
            x, return_inverse=True, return_counts=True, axis=axis, equal_nan=False
        )
        shape = x.shape if axis is None else (x.shape[axis],)
        return v, inverse.astype(xp.int64).reshape(shape), counts.astype(xp.int64)


# ------------------------------------------------------------ integer rules (elementwise.py)
def integer_power(a, b):
    """a ** b for integer arrays as torch computes it: a negative exponent gives 1 for a = 1,
    ±1 for a = −1 (by the exponent's parity) and 0 otherwise (NumPy refuses them)."""
    xp = get_array_module(a)
    negative = b < 0
    if not negative.any():
        return xp.power(a, b)
    y = xp.power(a, xp.where(negative, 0, b))  # the non-negative powers, 1 where b < 0
    odd = (b % 2) != 0
    inverse = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
    return xp.where(negative, inverse, y).astype(y.dtype, copy=False)


def check_integer_divisor(a, b) -> None:
    """torch refuses an integer division (//, %, fmod, div with a rounding mode) by zero;
    NumPy would warn and give 0."""
    if b.dtype.kind in "iub" and a.dtype.kind in "iub" and not b.all():
        raise RuntimeError("ZeroDivisionError")
