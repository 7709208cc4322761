"""torch.special's Bessel family, erfcx and the Hurwitz ζ on raw arrays.

Values are SciPy's (Cephes' algorithms, CuPy's kernels on the GPU), evaluated in float64 and
cast back to the input's dtype, as torch accumulates these in double on the CPU. Where SciPy
and torch part ways the torch value is kept: ζ(x, q) for q > 10⁸ (SciPy switches to an
asymptotic form, torch keeps summing: nan at q = ∞), Ai(x) above 103.892 (0) and far left
(SciPy gives nan below ≈ −10⁶; the leading asymptotic term here).

The differentiable ones are Functions, with torch's derivatives:

    i0e(x) = e^{−|x|}·I₀(x)      ∂/∂x = i1e(x) − sgn(x)·i0e(x)
    i1e(x) = e^{−|x|}·I₁(x)      ∂/∂x = i0e(x) − i1e(x)·(sgn(x) + 1/x),  ½ where |x| ≤ ε
    erfcx(x) = e^{x²}·erfc(x)    ∂/∂x = 2x·erfcx(x) − 2/√π
    ζ(x, q) = Σ_{k≥0} (k + q)^{−x}     ∂/∂q = −x·ζ(x + 1, q);  ∂/∂x not implemented (torch)

The rest (J₀, J₁, Y₀, Y₁, I₀, I₁, K₀, K₁, e^x·K₀, e^x·K₁, Ai, j₀) are plain array functions:
torch records no gradient for them (their outputs never require grad).
"""

from __future__ import annotations

import math

from .. import backend_special as B
from ..backend import errstate, get_array_module
from ..function import Function, unbroadcast
from .elementwise import not_implemented_for


def _in_float64(fn, x):
    """fn(x) evaluated in float64, cast back to x's dtype."""
    xp = get_array_module(x)
    with errstate(all="ignore"):
        return xp.asarray(fn(x.astype(xp.float64))).astype(x.dtype, copy=False)


def bessel(name: str, x):
    """SciPy's j0, j1, y0, y1, i0, i1, k0, k1, k0e or k1e of x (in x's dtype)."""
    return _in_float64(getattr(B, name), x)


_AIRY_UNDERFLOW = 103.892  # torch's cut: Ai(x) < 1e-308 beyond it


def airy_ai(x):
    """Ai(x), the solution of y'' = x·y that decays as x → +∞ (nan at ±∞ and nan, as torch).
    Far left SciPy gives up (nan); there Ai(−z) ≈ π^{−½}·z^{−¼}·sin(⅔z^{3/2} + π/4), whose
    next term is O(z^{−3/2}) smaller (below 10⁻⁹ where it is used)."""
    xp = get_array_module(x)

    def ai(v):
        y = B.airy(v)[0]
        y = xp.where(v > _AIRY_UNDERFLOW, 0.0, y)
        far = xp.isnan(y) & (v < 0) & xp.isfinite(v)
        z = xp.where(far, -v, 1.0)
        asym = xp.sin(2.0 / 3.0 * z * xp.sqrt(z) + math.pi / 4) / (math.sqrt(math.pi) * z**0.25)
        y = xp.where(far, asym, y)
        return xp.where(xp.isinf(v), xp.nan, y)

    return _in_float64(ai, x)


def spherical_j0(x):
    """j₀(x) = sin(x)/x, as torch evaluates it: its Taylor series to x¹² below |x| = ½ (no
    cancellation at 0), 0 at ±∞."""
    xp = get_array_module(x)
    with errstate(all="ignore"):
        x2 = x * x
        series = x.dtype.type(1 / 6227020800.0)
        for c in (-1 / 39916800.0, 1 / 362880.0, -1 / 5040.0, 1 / 120.0, -1 / 6.0, 1.0):
            series = x2 * series + x.dtype.type(c)  # Horner in x², one pass per coefficient
        y = xp.where(xp.abs(x) < 0.5, series, xp.sin(x) / x)
        return xp.where(xp.isinf(x), 0, y).astype(x.dtype, copy=False)


class I0e(Function):
    """y = e^{−|x|}·I₀(x);  ∂y/∂x = i1e(x) − sgn(x)·y."""

    def forward(self, x):
        self.x = x
        self.y = _in_float64(B.i0e, x)
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        return (gy * (_in_float64(B.i1e, self.x) - xp.sign(self.x) * self.y),)


class I1e(Function):
    """y = e^{−|x|}·I₁(x);  ∂y/∂x = i0e(x) − y·(sgn(x) + 1/x), ½ where |x| ≤ ε (the limit,
    torch's guard, which takes x = nan there too)."""

    def forward(self, x):
        self.x = x
        self.y = _in_float64(B.i1e, x)
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        x = self.x
        if x.dtype == xp.float16:  # torch's i1e_backward has no Half kernel
            raise not_implemented_for("i1e_backward", x.dtype)
        eps = xp.finfo(x.dtype).eps
        tiny = ~(xp.abs(x) > eps)  # nan too: torch's guard sends it to ½
        safe = xp.where(tiny, eps, x).astype(x.dtype, copy=False)
        with errstate(all="ignore"):
            d = _in_float64(B.i0e, safe) - self.y * (xp.sign(safe) + 1 / safe)
        return (gy * xp.where(tiny, 0.5, d).astype(gy.dtype, copy=False),)


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


class Erfcx(Function):
    """y = e^{x²}·erfc(x) (no overflow of e^{x²} for large x);  ∂y/∂x = 2x·y − 2/√π."""

    def forward(self, x):
        self.x = x
        self.y = _in_float64(B.erfcx, x)
        return self.y

    def backward(self, gy):
        # 2x·y and 2/√π nearly cancel for large x (at x = 100 the result is 5·10⁻⁵ of either):
        # in float64, as the value itself, so a float32 gradient keeps float32's precision
        slope = _in_float64(lambda v: 2 * v * B.erfcx(v) - _TWO_OVER_SQRT_PI, self.x)
        with errstate(all="ignore"):
            return (gy * slope,)


class Zeta(Function):
    """y = ζ(x, q) = Σ_{k≥0} (k + q)^{−x}, broadcast;  ∂y/∂q = −x·ζ(x + 1, q). ∂y/∂x is not
    implemented, as in torch (NotImplementedError when it is asked for)."""

    def forward(self, x, q):
        self.x, self.q = x, q
        return zeta(x, q)

    def backward(self, gy):
        if self.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        x, q = self.x, self.q
        with errstate(all="ignore"):
            gq = gy * (-x * zeta(x + 1, q))
        return None, unbroadcast(gq, q.shape)


def zeta(x, q):
    """ζ(x, q) in x's dtype (x and q share it): SciPy's (Cephes' Euler–Maclaurin sum, torch's
    algorithm) up to q = 10⁸; torch's sum itself beyond, where SciPy takes a shortcut."""
    xp = get_array_module(x)
    x64, q64 = xp.broadcast_arrays(x.astype(xp.float64), q.astype(xp.float64))
    with errstate(all="ignore"):
        y = xp.asarray(B.zeta(x64, q64), dtype=xp.float64)
        far = (q64 > 1e8) & (x64 > 1)
        if far.any():
            y[far] = _euler_maclaurin(xp, x64[far], q64[far])
    return y.astype(x.dtype, copy=False)


_MACHEP = 1.11022302462515654042e-16
# Cephes' zeta: (2k)! / B_{2k}, the Euler–Maclaurin correction terms' denominators
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17,
           -7.1661652561756670113e18)  # fmt: skip


def _euler_maclaurin(xp, x, q):
    """torch's ζ(x, q) for q > 9 (every element is past the direct sum's start): nine terms
    (k + q)^{−x}, then the tail ∫ and up to twelve Bernoulli corrections, each element
    stopping where its next term falls below machine precision. Vectorised: a loop over the
    terms, masked per element; at q = ∞ the sum is nan, as torch's."""
    s = q**-x
    a, b = q.copy(), xp.zeros_like(q)
    going = xp.ones(q.shape, dtype=bool)  # not yet converged
    for _ in range(9):
        a = a + 1
        b = xp.where(going, a**-x, b)
        s = xp.where(going, s + b, s)
        going &= ~((-_MACHEP * s < b) & (b < _MACHEP * s))
    w = a
    s = xp.where(going, s + b * w / (x - 1) - 0.5 * b, s)
    a, k = xp.ones_like(q), 0.0
    for c in _ZETA_A:
        a = a * (x + k)
        b = b / w
        t = a * b / c
        s = xp.where(going, s + t, s)
        going &= ~(xp.abs(t / s) < _MACHEP)
        k += 1.0
        a = a * (x + k)
        b = b / w
        k += 1.0
    return s
