"""Elementwise activation ops: ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU (split from
elementwise.py, which still exports them), and ELU (with SELU and CELU) and LogSigmoid, whose
torch kernels keep a precision that a composition loses.

Each backward is the derivative written next to its forward.
"""

from __future__ import annotations

import math

from ..backend import errstate, expit, get_array_module
from ..function import Function, half_in_float32
from .complex_refuse import refuse_complex
from .masking import keep_where
from .special import gelu_exact, gelu_exact_grad

# torch's kernels for these activations have no complex version (their cases compare x with 0)
_NO_KERNEL = "it compares x with 0, which has no meaning for complex numbers: apply it to z.real"


class ReLU(Function):
    """ReLU(x) = max(0, x);  ∂y/∂x = 0 where y = 0, else 1 (so NaN passes its gradient, as
    torch's ``result <= 0 ? 0 : grad``)."""

    def forward(self, x):
        if x.dtype.kind in "cb":  # torch: clamp has no complex kernel, relu refuses bool
            if x.dtype.kind == "b":
                raise RuntimeError("Boolean inputs not supported for relu")
            refuse_complex(x, "relu", NotImplementedError)
        y = get_array_module(x).maximum(x, 0)
        self.y = y
        return y

    def backward(self, gy):
        # y ≥ 0 or NaN, so y ≠ 0 is "y > 0 or NaN" at the cost of one compare; selected
        # through the bits (masking.py): an inf or NaN gy where y = 0 gives 0, as torch's
        return (keep_where(self.y != 0, gy),)


@half_in_float32  # float16 in float32, rounded once, as torch's (its slope is not rounded to half)
class LeakyReLU(Function):
    """LeakyReLU(x) = x if x > 0 else a·x;  ∂y/∂x = 1 if x > 0 else a   (a = slope)."""

    def forward(self, x, slope):
        if x.dtype.kind == "c":
            refuse_complex(x, "leaky_relu", NotImplementedError)
        xp = get_array_module(x)
        self.x, self.slope = x, slope
        if slope == 0:  # max(x, 0·x) would give NaN at +inf (∞·0): x where x > 0, else 0·x
            with errstate(invalid="ignore"):  # ±∞·0 (NaN at −∞, as torch's) without NumPy's
                return xp.where(x > 0, x, x * slope)  # RuntimeWarning: torch is silent
        # max(x, a·x) picks x for x > 0 when a ≤ 1 (min when a > 1): branch-free, unlike where
        return xp.maximum(x, x * slope) if slope <= 1 else xp.minimum(x, x * slope)

    def backward(self, gy):
        a = self.slope
        d = (self.x > 0).astype(gy.dtype)
        d *= 1 - a
        d += a
        d *= gy
        return (d,)


class Sigmoid(Function):
    """σ(x) = 1 / (1 + e^{-x}), computed without overflow for large |x|."""

    def forward(self, x):
        if x.dtype.kind == "c":  # SciPy's expit is real-only; torch's complex σ is this formula
            xp = get_array_module(x)
            self.y = y = 1 / (1 + xp.exp(-x))
            return y
        self.y = y = sigmoid_array(x)
        return y

    def backward(self, gy):
        """σ' = σ·(1 − σ), multiplied in torch's order, gy·(1 − σ)·σ, each step rounded to
        y's dtype (float16 too: torch's half kernel rounds each)."""
        d = 1 - self.y  # built in one array
        d *= gy
        d *= self.y
        return (d,)


def sigmoid_array(x):
    """Stable σ on a raw array, exact in relative terms for large negative x too."""
    if x.dtype.itemsize == 2:  # SciPy's expit has no float16 loop and would answer in float64
        return expit(x.astype("float32")).astype(x.dtype)
    return expit(x)


class Tanh(Function):
    def forward(self, x):
        self.y = y = get_array_module(x).tanh(x)
        return y

    def backward(self, gy):
        """tanh' = 1 − y² as (1 − y)(1 + y): 1 − y is exact where y·y would cancel (near
        |y| = 1, where 1 − y·y in float32 is 0.08 % off at x = 6, the product's rounding error
        left bare), so the derivative is within an ulp or two of torch's fused multiply-add,
        at one pass more than 1 − y·y. float16 takes y² exactly in float64 and rounds once (torch's
        bits; half is rare enough that the two conversions do not matter)."""
        xp = get_array_module(self.y)
        y = self.y
        if y.dtype.itemsize == 2 and y.dtype.kind == "f":
            w = xp.asarray(y, dtype=xp.float64)
            xp.multiply(w, w, out=w)
            xp.subtract(1, w, out=w)
            d = w.astype(xp.float32)
            d *= gy
            return (d.astype(gy.dtype),)  # times gy in float32, as torch
        d = xp.subtract(1, y, out=xp.empty_like(y))  # an array even for a 0-d y
        d *= 1 + y
        d *= gy
        return (d,)


_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@half_in_float32
class GELU(Function):
    """GELU(x) = x·Φ(x), Φ the standard normal CDF.

    exact:  Φ(x) = ½(1 + erf(x/√2))
    tanh:   Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³)))

    float16 computes in float32 and rounds once, as torch's (its "opmath"; in half itself Φ's
    1 + erf cancels to a few percent in the left tail).
    """

    def forward(self, x, approximate="none"):
        if x.dtype.kind == "c":
            refuse_complex(x, "gelu", NotImplementedError, _NO_KERNEL)
        xp = get_array_module(x)
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.t = t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            return 0.5 * x * (1 + t)
        y, self.cdf = gelu_exact(x)  # float32: a fast Φ (ops/special.py); both in parallel
        return y

    def backward(self, gy):
        x = self.x
        if self.approximate == "tanh":
            t = self.t
            dinner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return (gy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner),)
        return (gelu_exact_grad(x, self.cdf, gy),)  # dGELU/dx = Φ(x) + x·φ(x)


@half_in_float32  # σ(−20) underflows in half: in float32, rounded once
class SiLU(Function):
    """SiLU(x) = Swish(x) = x·σ(x); for complex z, σ(z) = 1/(1 + e^{−z}) as torch computes it
    (SciPy's expit is real-only). torch records no complex gradient for it, and neither does
    ember: F.silu refuses a complex input that requires grad, as torch does."""

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        if x.dtype.kind == "c":
            self.s = s = 1 / (1 + xp.exp(-x))
        else:
            self.s = s = sigmoid_array(x)
        return x * s

    def backward(self, gy):
        s = self.s
        return (gy * s * (1 + self.x * (1 - s)),)


@half_in_float32  # float16 in float32, rounded once, as torch's opmath
class ELU(Function):
    """torch's one kernel behind ELU, SELU and CELU (a = alpha, s = scale, k = input_scale):

    y = s·x                     if x > 0 (and where x is NaN)
        s·a·(e^{k·x} − 1)       if x ≤ 0          (e^{k·x} − 1 as expm1, exact near 0)
    ∂y/∂x = s  or  k·s·a·e^{k·x}

    The derivative reads e^{k·x} itself: through expm1's own backward (y + 1) it would round
    to 0 once e^{k·x} is below half an ulp of 1 (x < −17 in float32), where torch keeps it.
    """

    def forward(self, x, alpha=1.0, scale=1.0, input_scale=1.0):
        if x.dtype.kind == "c":  # selu and celu too
            refuse_complex(x, "elu", NotImplementedError, _NO_KERNEL)
        xp = get_array_module(x)
        self.neg = neg = x <= 0
        self.x, self.a, self.s, self.k = x, alpha, scale, input_scale
        xn = xp.minimum(x, 0) * x.dtype.type(input_scale)  # clamped: no overflow in expm1
        return xp.where(neg, xp.expm1(xn) * x.dtype.type(alpha * scale), x * x.dtype.type(scale))

    def backward(self, gy):
        xp = get_array_module(gy)
        t = gy.dtype.type
        xn = xp.minimum(self.x, 0) * t(self.k)
        d_neg = gy * t(self.k) * t(self.a * self.s) * xp.exp(xn)
        return (xp.where(self.neg, d_neg, gy * t(self.s)),)


@half_in_float32  # float16 in float32, rounded once, as torch's opmath
class LogSigmoid(Function):
    """log σ(x) = min(x, 0) − log(1 + e^{−|x|}), exact for every x (no threshold);
    ∂y/∂x = σ(−x) = 1 − e^{−|x|}/(1 + e^{−|x|}) for x < 0, e^{−|x|}/(1 + e^{−|x|}) otherwise
    (torch's form, which never divides by an overflowed e^{−x})."""

    def forward(self, x):
        if x.dtype.kind == "c":
            refuse_complex(x, "logsigmoid", NotImplementedError, _NO_KERNEL)
        xp = get_array_module(x)
        self.x = x
        self.z = z = xp.exp(-xp.abs(x))
        return xp.minimum(x, 0) - xp.log1p(z)

    def backward(self, gy):
        xp = get_array_module(gy)
        z = self.z
        if getattr(self, "half_dtypes", None):  # torch keeps e^{−|x|} as a half buffer
            z = z.astype(xp.float16).astype(xp.float32)
        q = z / (1 + z)
        return (gy * xp.where(self.x < 0, 1 - q, q),)


class Softsign(Function):
    """y = x / d, d = 1 + |x|;  ∂y/∂x = 1/d² (taken as (1/d)/d: the quotient rule's 1/d − |x|/d²
    is left with 1/d once d² overflows, 1e-30 at x = 1e30 in float32 where the slope is 0)."""

    def forward(self, x):
        xp = get_array_module(x)
        self.d = d = 1 + xp.abs(x)
        return x / d

    def backward(self, gy):
        return (gy / self.d / self.d,)
