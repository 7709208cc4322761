"""Special functions on raw arrays, fast in float32.

SciPy's erf evaluates float32 input element by element in double precision (≈ 15–25 ns
per element here: 6–10 ms for one GPT MLP activation, more than all its GEMMs). For
float32 the normal CDF Φ is evaluated here with vectorised multiply-adds and one SIMD
transcendental, several times faster; float64 keeps SciPy's erf.

Two float32 forms. ``normal_cdf`` keeps Φ's relative precision in the far tail (for the
distributions, whose log-probabilities need it). GELU's Φ only needs torch's absolute
precision (torch computes ½·(1 + erf(x/√2)) in float32, absolute error ≈ 6e-8), so it
takes the shorter ``erf = tanh(odd polynomial)`` form, about half the passes.
"""

from __future__ import annotations

import math

from .. import backend
from ..backend import erf as _erf_exact
from ..backend import errstate, get_array_module, parallel_for
from ..function import Function, unbroadcast

# erfc(z) = t·exp(-z² + c₀ + t·(c₁ + t·(c₂ + … + t·c₉))),  t = 1/(1 + z/2),  z ≥ 0:
# Chebyshev fit with fractional error < 1.2e-7 everywhere (Numerical Recipes, erfcc).
# Fractional (not absolute) error is what Φ needs in the tail, where Φ(x) = ½·erfc(|x|/√2)
# is tiny and 1 + erf(x/√2) would cancel.
_C = (
    0.17087277,
    -0.82215223,
    1.48851587,
    -1.13520398,
    0.27886807,
    -0.18628806,
    0.09678418,
    0.37409196,
    1.00002368,
    -1.26551223,
)


_CHUNK = 1 << 16  # elements per block: the ~30 passes run in L2; and each ufunc call is long
# enough (≈ 20 µs) that two threads do not queue for the GIL between calls


def blockwise(n: int, work) -> None:
    """work(lo, hi) over [0, n) in L2-sized blocks, the blocks shared among the threads."""

    def chunk(lo, hi):
        for start in range(lo, hi, _CHUNK):
            work(start, min(start + _CHUNK, hi))

    parallel_for(chunk, n, _CHUNK)


# Φ(x) = ½ + ½·tanh(x·Q(x²)), x clamped to ±5.8: Q of degree 6 is the minimax fit (Lawson's
# reweighted least squares) of atanh(erf(x/√2))/x on [0, 5.8], its error weighted by
# ∂Φ/∂(tanh's argument) so that the fit bounds Φ's absolute error: 2.9e-8 in exact
# arithmetic, 9.6e-8 evaluated in float32 (torch's float32 GELU: 6.1e-8). At the clamp the
# argument is 10.45, where float32 tanh is ±1 exactly: Φ is exactly 0 below -5.8 and 1 above
# 5.8, as torch's ½·(1 + erf) rounds there. Coefficients of x¹, x³, …, x¹³.
_TANH_FORM = (
    0.7978849414815755,
    0.036333084465088844,
    -3.25948379952757e-05,
    -5.53062589358689e-05,
    3.964757738218796e-06,
    -1.322645079054886e-07,
    1.7562062700231604e-09,
)
_TANH_FORM_CLAMP = 5.8


def _gelu_cdf_block(xp, x, p, scratch) -> None:
    """p ← Φ(x) by the tanh form (float32 GELU); scratch: a block-sized buffer."""
    f32 = xp.float32
    c = [f32(v) for v in _TANH_FORM]
    xp.clip(x, f32(-_TANH_FORM_CLAMP), f32(_TANH_FORM_CLAMP), out=scratch)  # x_c
    xp.multiply(scratch, scratch, out=p)  # x_c²
    acc = p * c[-1]  # Horner in x_c²
    acc += c[-2]
    for coef in c[-3::-1]:
        acc *= p
        acc += coef
    acc *= scratch
    xp.tanh(acc, out=acc)
    xp.multiply(acc, f32(0.5), out=p)
    p += f32(0.5)


def gelu_exact(x):
    """(GELU(x), Φ(x)) with GELU(x) = x·Φ(x): both computed block by block, in parallel."""
    xp = get_array_module(x)
    flat = xp.ascontiguousarray(x).reshape(-1)
    cdf, y = xp.empty_like(flat), xp.empty_like(flat)

    def work(lo, hi):
        if flat.dtype == xp.float32:  # y's block is the scratch until y is written
            _gelu_cdf_block(xp, flat[lo:hi], cdf[lo:hi], y[lo:hi])
        else:
            _normal_cdf_into(xp, flat[lo:hi], cdf[lo:hi])
        xp.multiply(flat[lo:hi], cdf[lo:hi], out=y[lo:hi])

    blockwise(flat.size, work)
    return y.reshape(x.shape), cdf.reshape(x.shape)


def _normal_cdf_into(xp, x, p) -> None:
    """p ← Φ(x) for one block: the fast form for float32, ½(1 + erf(x/√2)) otherwise."""
    if x.dtype == xp.float32:
        _normal_cdf_block(xp, x, p, xp.empty(x.size, dtype=x.dtype))
        return
    xp.multiply(x, 1 / math.sqrt(2.0), out=p)
    p[...] = _erf_exact(p)
    p += 1
    p *= 0.5


def gelu_exact_grad(x, cdf, gy):
    """∂L/∂x = ∂L/∂y · (Φ(x) + x·φ(x)),  φ(x) = exp(-x²/2)/√(2π): block by block, in parallel."""
    xp = get_array_module(x)
    x, cdf = xp.ascontiguousarray(x).reshape(-1), xp.ascontiguousarray(cdf).reshape(-1)
    gy_flat = xp.ascontiguousarray(gy).reshape(-1)
    d = xp.empty_like(x)
    inv_sqrt_2pi = x.dtype.type(1 / math.sqrt(2 * math.pi))

    def work(lo, hi):
        x_b, d_b = x[lo:hi], d[lo:hi]
        xp.multiply(x_b, x_b, out=d_b)
        d_b *= x.dtype.type(-0.5)
        xp.exp(d_b, out=d_b)
        d_b *= x_b
        d_b *= inv_sqrt_2pi
        d_b += cdf[lo:hi]
        d_b *= gy_flat[lo:hi]

    blockwise(x.size, work)
    return d.reshape(gy.shape)


def _normal_cdf_block(xp, x, p, t):
    """p ← Φ(x) using t as scratch; every step in place."""
    f32 = xp.float32
    z = p  # the output block holds z = |x|/√2, then z², until Φ is written into it
    xp.abs(x, out=z)
    z *= f32(1 / math.sqrt(2.0))
    xp.multiply(z, f32(0.5), out=t)
    t += f32(1.0)
    xp.reciprocal(t, out=t)  # t = 1/(1 + z/2)
    z *= z
    z2 = z
    # Horner in t, accumulated in one fresh block-sized buffer
    acc = t * f32(_C[0])
    acc += f32(_C[1])
    for c in _C[2:]:
        acc *= t
        acc += f32(c)
    acc -= z2
    xp.exp(acc, out=acc)
    acc *= t
    acc *= f32(0.5)  # q = ½·erfc(|x|/√2) = Φ(-|x|)
    # Φ(x) = q + h·(1 - 2q), h = [x ≥ 0]: q for x < 0 (exactly, keeping the tail's relative
    # precision), 1 - q for x ≥ 0. Arithmetic, not a masked select: ufuncs with where= (and
    # copyto/putmask/np.where) on a random mask run ~8× slower than this whole sum
    h = x >= 0
    xp.multiply(acc, f32(-2.0), out=t)
    t += f32(1.0)
    t *= h
    xp.add(acc, t, out=p)


def normal_cdf(x):
    """Φ(x), the standard normal CDF (a fresh array): fast form for float32, ½(1 + erf(x/√2))
    otherwise, block by block as in GELU."""
    xp = get_array_module(x)
    flat = xp.ascontiguousarray(x).reshape(-1)
    cdf = xp.empty_like(flat)
    blockwise(flat.size, lambda lo, hi: _normal_cdf_into(xp, flat[lo:hi], cdf[lo:hi]))
    return cdf.reshape(x.shape)


_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class Ndtri(Function):
    """y = Φ⁻¹(p), the standard normal quantile (SciPy's, accurate in both tails);
    ∂y/∂p = 1/φ(y) = √(2π)·e^{y²/2}."""

    def forward(self, p):
        self.y = backend.ndtri(p).astype(p.dtype, copy=False)
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        return (gy * xp.exp(0.5 * self.y * self.y + _LOG_SQRT_2PI),)


class LogNdtr(Function):
    """y = log Φ(x) (SciPy's, finite far into the left tail); ∂y/∂x = φ(x)/Φ(x) =
    √(2/π) / erfcx(−x/√2), the scaled complementary error function erfcx(z) = e^{z²}·erfc(z):
    neither φ nor Φ is formed, so nothing underflows, and no difference of large logs (−x²/2
    − y, which loses the digits of float32 far in the tail) is taken."""

    def forward(self, x):
        self.x = x
        self.y = backend.log_ndtr(x).astype(x.dtype, copy=False)
        return self.y

    def backward(self, gy):
        x = self.x
        with errstate(all="ignore"):  # erfcx(∞) = 0: the ratio's limit ∞, silently as torch
            ratio = math.sqrt(2 / math.pi) / backend.erfcx(x * (-1 / math.sqrt(2.0)))
        return (gy * ratio.astype(x.dtype, copy=False),)


class Xlog1py(Function):
    """y = x·log(1 + z) (log1p: accurate for small z), 0 where x = 0, nan where z is nan.
    ∂y/∂x = log(1 + z), taken as 0 where x = 0 and z ≤ −1 (torch's choice);
    ∂y/∂z = x/(1 + z)."""

    def forward(self, x, z):
        xp = get_array_module(x)
        self.x, self.z = x, z
        with errstate(divide="ignore", invalid="ignore"):
            y = xp.where(x == 0, 0, x * xp.log1p(z))
        return xp.where(xp.isnan(z), xp.nan, y).astype(x.dtype, copy=False)

    def backward(self, gy):
        xp = get_array_module(gy)
        nx, nz = self.needs_input_grad
        x, z = self.x, self.z
        gx = gz = None
        with errstate(divide="ignore", invalid="ignore"):
            if nx:
                g = xp.where(gy == 0, 0, gy * xp.log1p(z))
                gx = unbroadcast(xp.where((x == 0) & (z <= -1), 0, g), x.shape)
            if nz:
                gz = unbroadcast(gy * x / (1 + z), z.shape)
        return gx, gz


class Entr(Function):
    """y = −x·log x for x > 0, 0 at x = 0, −∞ for x < 0 (nan stays nan);
    ∂y/∂x = −(1 + log x), as torch (+∞ at 0, nan below)."""

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        with errstate(divide="ignore", invalid="ignore"):
            y = xp.where(x > 0, -x * xp.log(xp.where(x > 0, x, 1)), 0)
        y = xp.where(x < 0, -xp.inf, y)
        return xp.where(xp.isnan(x), xp.nan, y).astype(x.dtype, copy=False)

    def backward(self, gy):
        xp = get_array_module(gy)
        with errstate(divide="ignore", invalid="ignore"):
            return (gy * -(1 + xp.log(self.x)),)
