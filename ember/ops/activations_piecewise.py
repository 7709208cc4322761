"""Piecewise activation ops: Hardtanh (ReLU6), Hardsigmoid, Hardswish, Softplus, Mish,
Threshold, Hardshrink, Softshrink and PReLU, each one op with its derivative written beside it.

Semantics are torch's, and those of the ``where`` compositions the tests hold these ops to
(functional/activation_composed.py): the same side at each kink, NaN in gives NaN out, the
dtype is kept, and a branch that is not taken is computed on clamped values, so it never
overflows. A NaN input's gradient is that of torch's scalar kernels (1 for Hardtanh and the
shrinks: torch's vectorised CPU path gives 0 there, so torch itself varies with the size).

Speed: NumPy's ``where`` takes a branch per element, ~7× slower than a few plain passes on a
mask that flips often, so the ops select with arithmetic on a 0/1 mask where that is exact,
and with ``select`` (a bitwise choice between the two arrays' bits) where it is not.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function, half_in_float32, unbroadcast
from .complex_refuse import refuse_complex
from .masking import keep_where, select

#: why torch has no complex kernel for these ops: each compares x with its kinks
KINKS = "it compares x with real thresholds, and complex numbers have no order"


def _at_most(x, hi):
    """min(x, hi), NaN kept: NumPy's clip with a −inf floor is ~2× faster than minimum."""
    xp = get_array_module(x)
    return xp.asarray(xp.clip(x, -xp.inf, hi))


def _outside(x, lo, hi):
    """not (lo ≤ x ≤ hi): the side torch's kernels pass the gradient to (NaN included)."""
    xp = get_array_module(x)
    inside = xp.asarray(x >= lo)  # an array even for a 0-d x
    inside &= x <= hi
    return xp.logical_not(inside, out=inside)


class Hardtanh(Function):
    """y = min(max(x, lo), hi)  (ReLU6: lo = 0, hi = 6)
    ∂y/∂x = 0 where x ≤ lo or x ≥ hi, else 1   (NaN: 1, the gradient passes)"""

    def forward(self, x, min_val=-1.0, max_val=1.0):
        if x.dtype.kind == "c":
            refuse_complex(x, "hardtanh", NotImplementedError, KINKS)
        xp = get_array_module(x)
        self.x, self.lo, self.hi = x, min_val, max_val
        return xp.asarray(xp.clip(x, min_val, max_val)).astype(x.dtype, copy=False)

    def backward(self, gy):
        x = self.x
        edge = x <= self.lo
        edge |= x >= self.hi
        return (keep_where(~edge, gy),)


@half_in_float32  # float16 in float32, rounded once, as torch's opmath
class Hardsigmoid(Function):
    """y = min(max(x + 3, 0), 6) / 6
    ∂y/∂x = 1/6 where −3 < x < 3, else 0   (NaN: 0)"""

    def forward(self, x):
        if x.dtype.kind == "c":
            refuse_complex(x, "hardsigmoid", NotImplementedError, KINKS)
        xp = get_array_module(x)
        self.x = x
        y = xp.asarray(x + 3.0)
        xp.clip(y, 0.0, 6.0, out=y)
        y /= 6.0
        return y

    def backward(self, gy):
        x = self.x
        inside = x > -3.0
        inside &= x < 3.0
        d = keep_where(inside, gy)
        d /= 6.0
        return (d,)


@half_in_float32  # float16 in float32, rounded once, as torch's opmath
class Hardswish(Function):
    """y = x·min(max(x + 3, 0), 6) / 6: 0 for x ≤ −3, x for x ≥ 3, x·(x + 3)/6 between
    ∂y/∂x = 0 for x ≤ −3, x/3 + 1/2 between, 1 for x ≥ 3   (NaN: y NaN, ∂ 1)

    y is x·(c + 3)/6 with c = min(max(x, −3), 3): x·0 below −3 (−0, and NaN at −inf, as
    torch's), so only x ≥ 3 needs choosing; ∂y/∂x is computed on c, so ±inf give 0 and 1."""

    def forward(self, x):
        if x.dtype.kind == "c":
            refuse_complex(x, "hardswish", NotImplementedError, KINKS)
        xp = get_array_module(x)
        self.x = x
        self.c = c = xp.asarray(xp.clip(x, -3.0, 3.0))
        mid = c + 3.0
        mid *= x
        mid /= 6.0
        self.upper = upper = ~(x < 3.0)  # x ≥ 3 or NaN: y = x
        return select(upper, x, mid)

    def backward(self, gy):
        mid = self.x > -3.0
        mid &= ~self.upper
        d = self.c / 3.0
        d += 0.5
        d *= gy
        return (select(mid, d, keep_where(self.upper, gy)),)


class Softplus(Function):
    """y = log(1 + e^{βx}) / β, and x where βx > threshold (torch's rule: e^{βx} is computed
    on min(βx, threshold), so the branch not taken never overflows)
    ∂y/∂x = e^{βx} / (1 + e^{βx}) = σ(βx), and 1 where βx > threshold   (NaN: NaN)"""

    def forward(self, x, beta=1.0, threshold=20.0):
        if x.dtype.kind == "c":
            refuse_complex(x, "softplus", NotImplementedError, KINKS)
        xp = get_array_module(x)
        self.x, self.beta, self.threshold = x, beta, threshold
        bx = x * beta if beta != 1 else x
        self.above = above = bx > threshold
        if bx.dtype.itemsize == 2:  # float16: e^{βx} overflows above 11; torch's float32 too
            bx = bx.astype(xp.float32)
        self.z = z = xp.asarray(xp.exp(_at_most(bx, threshold)))
        y = xp.log1p(z)
        if beta != 1:
            y /= beta
        return select(above, x, y)

    def backward(self, gy):
        z = self.z
        s = gy * z  # gy·z/(z + 1) = gy·σ(βx), in torch's order: finite, or NaN where x is
        s /= z + 1.0
        return (select(self.above, gy, s.astype(gy.dtype, copy=False)),)  # float16: z float32


@half_in_float32
class Mish(Function):
    """y = x·tanh(s), s = Softplus(x) = log(1 + eˣ) (x itself above 20)   (Misra 2019)
    ∂y/∂x = tanh(s) + x·σ(x)·(1 − tanh²(s)),  σ(x) = eˣ/(1 + eˣ) = ∂s/∂x   (NaN: NaN)

    Above 20, tanh(log(1 + e^{20})) is 1 to the last bit in float32 and float64, so e^x is taken
    of min(x, 20) and never overflows. float16 computes in float32 and rounds once, as torch's
    (x·tanh(s) of x = −20 is a subnormal half that half arithmetic loses)."""

    def forward(self, x):
        if x.dtype.kind == "c":
            refuse_complex(x, "mish", NotImplementedError, KINKS)
        xp = get_array_module(x)
        self.x = x
        self.z = z = xp.asarray(xp.exp(_at_most(x, 20.0)))
        self.t = t = xp.tanh(xp.log1p(z))
        return x * t

    def backward(self, gy):
        z, t = self.z, self.t
        d = z / (z + 1.0)  # σ(x)
        d *= self.x
        d *= 1.0 - t * t
        d += t
        d *= gy
        return (d,)


class Threshold(Function):
    """y = value where x ≤ threshold, else x
    ∂y/∂x = 0 where x ≤ threshold, else 1   (NaN: y NaN, ∂ 1)"""

    def forward(self, x, threshold, value):
        if x.dtype.kind == "c":
            refuse_complex(x, "threshold", NotImplementedError, KINKS)
        xp = get_array_module(x)
        if x.dtype.itemsize == 2 and x.dtype.kind == "f":  # float16 compared in float32, as
            # torch's opmath: a threshold past half's range is not rounded to inf
            self.low = low = x.astype(xp.float32) <= xp.float32(threshold)
        else:
            self.low = low = x <= threshold
        return select(low, xp.asarray(value).astype(x.dtype), x)

    def backward(self, gy):
        return (keep_where(~self.low, gy),)


class Hardshrink(Function):
    """y = x where not −λ ≤ x ≤ λ, else 0
    ∂y/∂x = 1 where not −λ ≤ x ≤ λ, else 0   (NaN: y NaN, ∂ 1)"""

    def forward(self, x, lambd=0.5):
        if x.dtype.kind == "c":
            refuse_complex(x, "hardshrink", NotImplementedError, KINKS)
        xp = get_array_module(x)
        self.out = out = _outside(x, -lambd, lambd)
        return select(out, x, xp.zeros((), x.dtype))

    def backward(self, gy):
        return (keep_where(self.out, gy),)


class Softshrink(Function):
    """y = x − λ above λ, x + λ below −λ, 0 between: y = x − min(max(x, −λ), λ)
    ∂y/∂x = 1 where not −λ ≤ x ≤ λ, else 0   (NaN: y NaN, ∂ 1)

    x − clip(x) is exact: x − λ and x + λ outside, x − x = +0 inside, NaN − NaN = NaN."""

    def forward(self, x, lambd=0.5):
        if x.dtype.kind == "c":
            refuse_complex(x, "softshrink", NotImplementedError, KINKS)
        xp = get_array_module(x)
        self.x, self.lambd = x, lambd
        return x - xp.asarray(xp.clip(x, -lambd, lambd)).astype(x.dtype, copy=False)

    def backward(self, gy):
        return (keep_where(_outside(self.x, -self.lambd, self.lambd), gy),)


class PReLU(Function):
    """y = x where x > 0, else a·x   (a: one slope, or one per channel on dim 1; He et al. 2015)
    ∂y/∂x = 1 where x > 0, else a
    ∂L/∂a = Σ over every axis but the channel of (0 where x > 0, else x·∂L/∂y)
    (NaN: y NaN, ∂y/∂x = a)"""

    def forward(self, x, a):
        if x.dtype.kind == "c":
            refuse_complex(x, "prelu", NotImplementedError, KINKS)
        self.shape = a.shape
        if a.size == 1:  # one slope: a scalar, so that y keeps x's shape
            a = a.reshape(())
        elif x.ndim >= 2:  # (C,) as (1, C, 1, …): one slope along dim 1
            a = a.reshape([a.size if d == 1 else 1 for d in range(x.ndim)])
        self.x, self.a = x, a
        self.pos = pos = x > 0
        return select(pos, x, a * x)

    def backward(self, gy):
        pos = self.pos
        gx = ga = None
        if self.needs_input_grad[0]:
            gx = select(pos, gy, self.a * gy)
        if self.needs_input_grad[1]:
            ga = select(pos, 0.0, self.x * gy)
            ga = unbroadcast(ga, self.a.shape).reshape(self.shape)
        return gx, ga
