"""More elementwise maths: the inverse and hyperbolic trigonometric functions, log₂ and log₁₀,
the error and gamma functions, sinc, logit, and the two-operand atan2, hypot, xlogy and
logaddexp.

Each unary op is ``f`` and its derivative ``df`` side by side (the ``_Unary`` pattern: forward
saves x and y = f(x), backward is ∂L/∂y · f'(x, y)); the derivatives are written as torch writes
them, so gradients agree with torch's to rounding, poles and edges included. Binary ops undo
broadcasting with ``unbroadcast``. SciPy's special functions come through ``backend``.
"""

from __future__ import annotations

import math

from ..backend import erf, erfc, erfinv, errstate, expit, gammaln, get_array_module, polygamma, psi
from ..function import Function, unbroadcast
from .complex_refuse import REAL_ONLY, refuse_complex
from .reduce_more import complex_logaddexp

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LN2, _LN10 = math.log(2.0), math.log(10.0)


class _Unary(Function):
    """y = f(x) elementwise;  ∂L/∂x = ∂L/∂y · f'(x, y). ``real_only``: the op's torch name
    where torch has no complex kernel for it (complex input is refused with its error).
    ``quiet``: f and f' run without NumPy's RuntimeWarnings (their ±∞, nan and overflow to ∞
    are the answers, which torch gives silently)."""

    real_only = None
    quiet = False

    def forward(self, x):
        if self.real_only is not None:
            if x.dtype.kind == "c":
                refuse_complex(x, self.real_only, NotImplementedError, _REAL_ONLY)
        if self.quiet:
            with errstate(all="ignore"):
                return self._forward(x)
        return self._forward(x)

    def _forward(self, x):
        xp = get_array_module(x)
        self.x = x
        if x.dtype == xp.float16:  # torch's "opmath": half computes in float32, rounds once
            self.y = self.f(xp, x.astype(xp.float32))
            return self.y.astype(xp.float16)
        self.y = y = self.f(xp, x)
        return y

    def backward(self, gy):
        if self.quiet:
            with errstate(all="ignore"):
                return self._backward(gy)
        return self._backward(gy)

    def _backward(self, gy):
        xp = get_array_module(gy)
        if self.x.dtype == xp.float16:
            return ((gy * self.df(xp, self.x.astype(xp.float32), self.y)).astype(xp.float16),)
        return (gy * self.df(xp, self.x, self.y),)


_REAL_ONLY = REAL_ONLY


def _like(a, x):
    """A SciPy result in x's dtype (some SciPy functions answer float32 in float64)."""
    return a.astype(x.dtype, copy=False)


class Tan(_Unary):
    """y = tan x;  ∂y/∂x = 1 + y²  (sec² x, read off the output)."""

    f = staticmethod(lambda xp, x: xp.tan(x))
    df = staticmethod(lambda xp, x, y: 1 + y * y)


class Asin(_Unary):
    """y = asin x;  ∂y/∂x = 1/√(1 − x²)."""

    f = staticmethod(lambda xp, x: xp.arcsin(x))
    df = staticmethod(lambda xp, x, y: 1 / xp.sqrt(1 - x * x))


class Acos(_Unary):
    """y = acos x;  ∂y/∂x = −1/√(1 − x²)."""

    f = staticmethod(lambda xp, x: xp.arccos(x))
    df = staticmethod(lambda xp, x, y: -1 / xp.sqrt(1 - x * x))


class Atan(_Unary):
    """y = atan x;  ∂y/∂x = 1/(1 + x²)."""

    f = staticmethod(lambda xp, x: xp.arctan(x))
    df = staticmethod(lambda xp, x, y: 1 / (1 + x * x))


class Sinh(_Unary):
    """y = sinh x;  ∂y/∂x = cosh x."""

    f = staticmethod(lambda xp, x: xp.sinh(x))
    df = staticmethod(lambda xp, x, y: xp.cosh(x))


class Cosh(_Unary):
    """y = cosh x;  ∂y/∂x = sinh x."""

    f = staticmethod(lambda xp, x: xp.cosh(x))
    df = staticmethod(lambda xp, x, y: xp.sinh(x))


class Asinh(_Unary):
    """y = asinh x;  ∂y/∂x = 1/√(x² + 1)."""

    f = staticmethod(lambda xp, x: xp.arcsinh(x))
    df = staticmethod(lambda xp, x, y: 1 / xp.sqrt(x * x + 1))


class Acosh(_Unary):
    """y = acosh x (x ≥ 1);  ∂y/∂x = 1/√(x² − 1); for complex z, 1/(√(z − 1)·√(z + 1)), the
    derivative of the principal branch (√(z² − 1) has the opposite sign where Re z < 0)."""

    f = staticmethod(lambda xp, x: xp.arccosh(x))

    @staticmethod
    def df(xp, x, y):
        if x.dtype.kind == "c":
            return 1 / (xp.sqrt(x - 1) * xp.sqrt(x + 1))
        return 1 / xp.sqrt(x * x - 1)


class Atanh(_Unary):
    """y = atanh x (|x| < 1);  ∂y/∂x = 1/(1 − x²)."""

    f = staticmethod(lambda xp, x: xp.arctanh(x))
    df = staticmethod(lambda xp, x, y: 1 / (1 - x * x))


class Log2(_Unary):
    """y = log₂ x (exact at powers of two, unlike ln x / ln 2);  ∂y/∂x = 1/(x ln 2)."""

    f = staticmethod(lambda xp, x: xp.log2(x))
    df = staticmethod(lambda xp, x, y: 1 / (x * _LN2))


class Log10(_Unary):
    """y = log₁₀ x;  ∂y/∂x = 1/(x ln 10)."""

    f = staticmethod(lambda xp, x: xp.log10(x))
    df = staticmethod(lambda xp, x, y: 1 / (x * _LN10))


class Erf(_Unary):
    """y = erf x = (2/√π) ∫₀ˣ e^{−t²} dt;  ∂y/∂x = (2/√π) e^{−x²}."""

    real_only = "erf"
    quiet = True
    f = staticmethod(lambda xp, x: _like(erf(x), x))
    df = staticmethod(lambda xp, x, y: _TWO_OVER_SQRT_PI * xp.exp(-x * x))


class Erfc(_Unary):
    """y = erfc x = 1 − erf x, computed directly: 1 − erf x cancels to 0 in the tail (x ≳ 6
    in float64), erfc keeps its relative precision;  ∂y/∂x = −(2/√π) e^{−x²}."""

    real_only = "erfc"
    quiet = True
    f = staticmethod(lambda xp, x: _like(erfc(x), x))
    df = staticmethod(lambda xp, x, y: -_TWO_OVER_SQRT_PI * xp.exp(-x * x))


class Erfinv(_Unary):
    """y = erf⁻¹ x (|x| < 1);  ∂y/∂x = 1/erf'(y) = (√π/2) e^{y²}."""

    real_only = "erfinv"
    quiet = True
    f = staticmethod(lambda xp, x: _like(erfinv(x), x))
    df = staticmethod(lambda xp, x, y: (1 / _TWO_OVER_SQRT_PI) * xp.exp(y * y))


def _lgamma(xp, x):
    """SciPy's gammaln with C's lgamma at its edges, as torch: +inf at ±inf, and -log|x| for a
    subnormal x (where gammaln overflows to inf)."""
    y = gammaln(x)
    edge = xp.isinf(x) | ((x != 0) & (xp.abs(x) < xp.finfo(x.dtype).tiny))
    if edge.any():
        with errstate(divide="ignore"):
            y = xp.where(xp.isinf(x), xp.inf, xp.where(edge, -xp.log(xp.abs(x)), y))
    return _like(y, x)


class Lgamma(_Unary):
    """y = log|Γ(x)| (SciPy's gammaln: no overflow of Γ itself);  ∂y/∂x = ψ(x), the digamma."""

    real_only = "lgamma"
    quiet = True
    f = staticmethod(_lgamma)
    df = staticmethod(lambda xp, x, y: _like(psi(x), x))


class Digamma(_Unary):
    """y = ψ(x) = d/dx log Γ(x);  ∂y/∂x = ψ′(x) = ψ⁽¹⁾(x), the trigamma: SciPy's, exact where
    torch's series is good to ~5e-10 (ember's extension), but nan at −∞ as torch's (SciPy's
    ∞ there is no limit: ψ′ has a pole at every negative integer)."""

    real_only = "digamma"
    quiet = True
    f = staticmethod(lambda xp, x: _like(psi(x), x))
    df = staticmethod(lambda xp, x, y: _like(xp.where(x == -xp.inf, xp.nan, polygamma(1, x)), x))


class Sinc(_Unary):
    """y = sin(πx)/(πx), y(0) = 1;  ∂y/∂x = (πx cos πx − sin πx)/(πx²), 0 at x = 0
    (the limit). Where t = πx is below 0.1 the formula's difference cancels (and at 1e-30 is
    0/0), so its series π·(−t/3 + t³/30 − t⁵/840 + t⁷/45360) is taken there."""

    quiet = True

    @staticmethod
    def f(xp, x):
        zero = x == 0
        px = math.pi * xp.where(zero, 1, x)
        return xp.where(zero, 1, xp.sin(px) / px).astype(x.dtype, copy=False)

    @staticmethod
    def df(xp, x, y):
        t = math.pi * x
        with errstate(invalid="ignore", divide="ignore"):  # 0/0 at x = 0: the series' place
            d = (t * xp.cos(t) - xp.sin(t)) / (t * x)
        t2 = t * t
        series = math.pi * t * (-1 / 3 + t2 * (1 / 30 + t2 * (-1 / 840 + t2 / 45360)))
        return xp.where(xp.abs(t) < 0.1, series, d).astype(x.dtype, copy=False)


class Atan2(Function):
    """θ = atan2(a, b), the angle of the point (b, a) in (−π, π];
    ∂θ/∂a = b/(a² + b²),  ∂θ/∂b = −a/(a² + b²); both 0 at a = b = 0 (torch's choice)."""

    def forward(self, a, b):
        for v in (a, b):  # an angle of the point (b, a) needs real coordinates (z.angle())
            if v.dtype.kind == "c":
                refuse_complex(v, "atan2", NotImplementedError, "for the angle of z use z.angle()")
        self.a, self.b = a, b
        return get_array_module(a).arctan2(a, b)

    def backward(self, gy):
        xp = get_array_module(gy)
        na, nb = self.needs_input_grad
        a, b = self.a, self.b
        r2 = a * a + b * b
        r = xp.where(r2 == 0, 0, gy / xp.where(r2 == 0, 1, r2))  # 0 at the origin, as torch
        return (
            unbroadcast(r * b, a.shape) if na else None,
            unbroadcast(-r * a, b.shape) if nb else None,
        )


class Hypot(Function):
    """h = √(a² + b²), computed by hypot (scaled: no overflow of a² for |a| near the dtype's
    maximum);  ∂h/∂a = a/h,  ∂h/∂b = b/h."""

    def forward(self, a, b):
        for v in (a, b):  # |z| is z.abs(): torch has no complex hypot
            if v.dtype.kind == "c":
                refuse_complex(v, "hypot", NotImplementedError, "for |z| use z.abs()")
        self.a, self.b = a, b
        self.h = h = get_array_module(a).hypot(a, b)
        return h

    def backward(self, gy):
        na, nb = self.needs_input_grad
        a, b, r = self.a, self.b, gy / self.h
        return (
            unbroadcast(r * a, a.shape) if na else None,
            unbroadcast(r * b, b.shape) if nb else None,
        )


class LogAddExp(Function):
    """y = log(eᵃ + eᵇ) = m + log(1 + e^{−|a−b|}), m = max(a, b): never exponentiates a large
    number (e^{1000} overflows; e^{−|a−b|} ≤ 1 cannot), and exact for a = b = ±inf.
    With ``base2``: y = log₂(2ᵃ + 2ᵇ) = m + log₂(1 + 2^{−|a−b|}).

    ∂y/∂a = 1/(1 + e^{b−a}) = σ(a − b),  ∂y/∂b = σ(b − a)  (base 2: σ((a − b) ln 2)); the
    logistic σ from SciPy's expit, which does not overflow for large |a − b| either.

    Complex a, b (base e only, as torch): torch's kernel, ``complex_logaddexp``
    (ops/reduce_more.py), and its holomorphic gradient g_a = g·conj(e^{a−y}) = g / conj(1 +
    e^{b−a}), g_b = g·conj(e^{b−y}) (registered in ops/complex.py's OWN): from y, so no
    e^{b−a} overflows (torch's form gives nan there).
    """

    def forward(self, a, b, base2=False):
        xp = get_array_module(a)
        self.a, self.b, self.base2 = a, b, base2
        if a.dtype.kind == "c":  # both are: the Tensor methods promote them to one dtype
            if base2:
                refuse_complex(a, "logaddexp2", NotImplementedError, "use logaddexp for complex")
            self.y = y = complex_logaddexp(a, b)
            return y
        return xp.logaddexp2(a, b) if base2 else xp.logaddexp(a, b)

    def backward(self, gy):
        na, nb = self.needs_input_grad
        a, b = self.a, self.b
        if gy.dtype.kind == "c":
            xp = get_array_module(gy)
            y = self.y
            ga = gy * xp.exp(a - y).conj() if na else None
            gb = gy * xp.exp(b - y).conj() if nb else None
            return (unbroadcast(ga, a.shape) if na else None,
                    unbroadcast(gb, b.shape) if nb else None)  # fmt: skip
        d = a - b
        if self.base2:
            d = d * _LN2
        return (
            unbroadcast(gy * expit(d), a.shape) if na else None,
            unbroadcast(gy * expit(-d), b.shape) if nb else None,
        )


class ClampTensor(Function):
    """y = min(max(x, lo), hi) with tensor bounds (either may be None), torch.clamp's rule:

    ∂y/∂x = 1 where lo ≤ x ≤ hi;  ∂y/∂lo = 1 where x < lo and lo < hi;
    ∂y/∂hi = 1 where x > hi, or everywhere hi < lo (there y = hi whatever x is).
    """

    def forward(self, x, lo, hi):
        for v in (x, lo, hi):
            if v is not None:
                if v.dtype.kind == "c":
                    refuse_complex(v, "clamp", NotImplementedError)
        xp = get_array_module(x)
        self.x, self.lo, self.hi = x, lo, hi
        y = x if lo is None else xp.maximum(x, lo)
        return y if hi is None else xp.minimum(y, hi)

    def backward(self, gy):
        xp = get_array_module(gy)
        x, lo, hi = self.x, self.lo, self.hi
        _, nlo, nhi = self.needs_input_grad
        keep = True if lo is None else x >= lo
        if hi is not None:
            keep = keep & (x <= hi)
        to_lo = to_hi = None
        if nlo:
            below = x < lo if hi is None else (x < lo) & (lo < hi)
            to_lo = unbroadcast(xp.where(below, gy, 0), lo.shape)
        if nhi:
            above = x > hi if lo is None else (x > hi) | (hi < lo)
            to_hi = unbroadcast(xp.where(above, gy, 0), hi.shape)
        return unbroadcast(xp.where(keep, gy, 0), x.shape), to_lo, to_hi


# logit and xlogy live in special_logs.py (this file's size); imported here,
# so EM.Logit and EM.Xlogy keep their old home
from .special_logs import Logit, Xlogy  # noqa: E402, F401
