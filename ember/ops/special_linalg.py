"""Primitives for torch's further special functions on raw arrays, each with its derivative:
I₀ (the modified Bessel function of order 0, I₀′ = I₁), the regularised incomplete gammas
P(a, x) and Q(a, x) (differentiated in x only, as torch) and the polygamma ψ⁽ⁿ⁾.

The public functions are in ember/torch_special_linalg.py.
"""

from __future__ import annotations

import math

from .. import backend
from ..backend import errstate, get_array_module
from ..function import Function, unbroadcast
from .complex_refuse import refuse_complex

# Cephes' Chebyshev coefficients (as torch's Math.h) for e^{-x} I₁(x) / x on [0, 8] …
_I1_A = (
    2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16,
    -1.10559694773538630805e-15, 7.60068429473540693410e-15, -5.04218550472791168711e-14,
    3.22379336594557470981e-13, -1.98397439776494371520e-12, 1.17361862988909016308e-11,
    -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-9,
    9.38153738649577178388e-9, -4.44505912879632808065e-8, 2.00329475355213526229e-7,
    -8.56872026469545474066e-7, 3.47025130813767847674e-6, -1.32731636560394358279e-5,
    4.78156510755005422638e-5, -1.61760815825896745588e-4, 5.12285956168575772895e-4,
    -1.51357245063125314899e-3, 4.15642294431288815669e-3, -1.05640848946261981558e-2,
    2.47264490306265168283e-2, -5.29459812080949914269e-2, 1.02643658689847095384e-1,
    -1.76416518357834055153e-1, 2.52587186443633654823e-1,
)  # fmt: skip
# … and for e^{-x} √x I₁(x) on (8, ∞), in 32/x − 2
_I1_B = (
    7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17,
    -3.20952592199342395980e-17, 2.96262899764595013876e-16, 3.30820231092092828324e-16,
    -1.88035477551078244854e-15, -3.81440307243700780478e-15, 1.04202769841288027642e-14,
    4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
    -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11,
    3.25260358301548823856e-11, -1.89749581235054123450e-11, -5.58974346219658380687e-10,
    -3.83538038596423702205e-9, -2.63146884688951950684e-8, -2.51223623787020892529e-7,
    -3.88256480887769039346e-6, -1.10588938762623716291e-4, -9.76109749136146840777e-3,
    7.78576235018280120474e-1,
)  # fmt: skip


def _chbevl(xp, y, coefficients):
    """Σ_k c_k T_k(y/2) by Clenshaw's recurrence (Cephes' chbevl), elementwise in y."""
    b0, b1, b2 = xp.full_like(y, coefficients[0]), xp.zeros_like(y), xp.zeros_like(y)
    for c in coefficients[1:]:  # a loop over the coefficients, each step over all elements
        b2 = b1
        b1 = b0
        b0 = y * b1 - b2 + c
    return 0.5 * (b0 - b2)


def i1(x):
    """I₁(x), the modified Bessel function of the first kind of order 1 (Cephes' i1), in float64
    and cast back to x's dtype."""
    xp = get_array_module(x)
    z = xp.abs(x.astype(xp.float64))
    small = z <= 8.0
    with errstate(divide="ignore", invalid="ignore", over="ignore"):
        near = xp.exp(z) * z * _chbevl(xp, z / 2.0 - 2.0, _I1_A)
        zb = xp.where(small, 8.0, z)  # keeps 32/z finite where the far branch is not used
        far = xp.exp(z) * _chbevl(xp, 32.0 / zb - 2.0, _I1_B) / xp.sqrt(zb)
        out = xp.where(small, near, far)
        return xp.where(x < 0, -out, out).astype(x.dtype, copy=False)


class I0(Function):
    """y = I₀(x) = Σ_k (x/2)^{2k}/(k!)²;  ∂y/∂x = I₁(x)."""

    def forward(self, x):
        refuse_complex(x, "i0", NotImplementedError, "torch has no complex kernel for it")
        xp = get_array_module(x)
        self.x = x
        # float16 in float32, rounded once, as torch (I₀(13) = 5·10⁴ fits float16, but NumPy's
        # series in float16 overflows on the way); ±∞ gives nan, as torch's, without a warning
        wide = x.astype(xp.float32) if x.dtype == xp.float16 else x
        with errstate(over="ignore", invalid="ignore"):
            return xp.i0(wide).astype(x.dtype, copy=False)

    def backward(self, gy):
        return (gy * i1(self.x),)


def _igamma_edges(a, x, y, upper: bool):
    """y with torch's answers at the edges, its branches in its order (the first that holds
    wins, a nan failing every comparison): nan where x < 0 or a < 0; at a = 0, P = 1 for x > 0
    (else nan); at x = 0, P = 0; at a = ±∞, P = 0 (nan at x = ±∞ too); at x = ±∞, P = 1.
    So a nan a still gives P(nan, 0) = 0 and P(nan, ∞) = 1, and P(∞, nan) = 0, where SciPy
    answers nan. Q = 1 − P throughout."""
    xp = get_array_module(y)
    a, x = xp.broadcast_arrays(a, x)
    one, zero = (0.0, 1.0) if upper else (1.0, 0.0)  # P's 1 and 0, as Q's values
    with errstate(invalid="ignore"):
        conds = [(x < 0) | (a < 0), a == 0, x == 0, xp.isinf(a), xp.isinf(x)]
        values = [math.nan, xp.where(x > 0, one, math.nan), zero,
                  xp.where(xp.isinf(x), math.nan, zero), one]  # fmt: skip
    return xp.select(conds, values, y)


class Igamma(Function):
    """y = P(a, x) = γ(a, x)/Γ(a) (Q(a, x) = 1 − P if ``upper``), broadcast;
    ∂P/∂x = −∂Q/∂x = x^{a−1} e^{−x} / Γ(a), as torch: exp((a − 1)·log x − x − log Γ(a)).
    ∂/∂a is not implemented, as in torch (NotImplementedError when it is asked for)."""

    def forward(self, a, x, upper=False):
        self.a, self.x, self.upper = a, x, upper
        f = backend.gammaincc if upper else backend.gammainc
        return _igamma_edges(a, x, f(a, x), upper).astype(x.dtype, copy=False)

    def backward(self, gy):
        xp = get_array_module(gy)
        if self.needs_input_grad[0]:
            name = "igammac" if self.upper else "igamma"
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        a, x = self.a, self.x
        with errstate(divide="ignore", invalid="ignore", over="ignore"):
            # log Γ(−∞) = +∞ as torch's lgamma (SciPy's gammaln gives −∞ there: −∞ + ∞ = nan)
            log_gamma = xp.where(a == -math.inf, math.inf, backend.gammaln(a))
            d = xp.exp((a - 1) * xp.log(x) - x - log_gamma).astype(gy.dtype)
        g = gy * (-d if self.upper else d)
        return None, unbroadcast(g, x.shape)


class Polygamma(Function):
    """y = ψ⁽ⁿ⁾(x) = dⁿ⁺¹/dxⁿ⁺¹ log Γ(x);  ∂y/∂x = ψ⁽ⁿ⁺¹⁾(x)."""

    def forward(self, x, n=0):
        # torch's kernels (digamma, trigamma, polygamma) have no complex version
        kernel = ("digamma", "trigamma")[n] if n < 2 else "polygamma"
        refuse_complex(x, kernel, NotImplementedError, "ψ⁽ⁿ⁾ is taken of real tensors")
        self.x, self.n = x, n
        return _polygamma(n, x)

    def backward(self, gy):
        return (gy * _polygamma(self.n + 1, self.x),)


def _polygamma(n: int, x):
    xp = get_array_module(x)
    with errstate(divide="ignore", invalid="ignore", over="ignore"):
        if n == 1:
            y = _trigamma(xp, x.astype(xp.float64))
        else:
            y = backend.psi(x) if n == 0 else backend.polygamma(n, x)
            if n > 1:  # torch's (−1)ⁿ⁺¹ n! ζ(n + 1, x): ζ(s, +∞) is nan there, not 0
                y = xp.where(x == math.inf, math.nan, y)
        return xp.asarray(y).astype(x.dtype, copy=False)


def _trigamma(xp, x):
    """ψ⁽¹⁾(x) as torch computes it (its values, to the last digits): the reflection
    ψ⁽¹⁾(x) = π²/sin²(πx) − ψ⁽¹⁾(1 − x) below ½, six steps of ψ⁽¹⁾(x) = 1/x² + ψ⁽¹⁾(x + 1), then
    the asymptotic series 1/x + 1/(2x²) + 1/(6x³) − 1/(30x⁵) + 1/(42x⁷)."""
    reflect = x < 0.5
    sign = xp.where(reflect, -1.0, 1.0)
    result = xp.where(reflect, -(math.pi**2) / xp.sin(math.pi * x) ** 2, 0.0)
    x = xp.where(reflect, 1 - x, x)
    for _ in range(6):  # six recurrence steps, each over all elements
        result = result + 1 / (x * x)
        x = x + 1
    ixx = 1 / (x * x)
    result = result + (1 + 1 / (2 * x) + ixx * (1 / 6 - ixx * (1 / 30 - ixx * (1 / 42)))) / x
    return sign * result
