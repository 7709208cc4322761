"""F.interpolate's tap tables: for each output position d of one resized axis, the source
indices i_dk and weights w_dk of y[d] = Σ_k w_dk · x[i_dk], as torch 2.13 computes them.

The formulas are in interpolate.py's docstring. Every builder returns ``(idx, w, valid)``:
idx (m, K) int64, w (m, K) in the compute type or None (one tap of weight 1), and valid (m, K)
bool or None (all taps real). A window shorter than K (area, antialias) is padded with taps
that ``valid`` marks: torch never reads them, so they must add nothing even where x is ±inf or
NaN (a weight of 0 would make 0·inf = NaN). The linear and cubic taps are all real, zero
weights included: torch multiplies those too.
"""

from __future__ import annotations

import math

from ..backend import xp

# ---------------------------------------------------------------- kernels


def _cubic1(x, a):  # W on |x| ≤ 1, in torch's order of operations
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic2(x, a):  # W on 1 < |x| < 2
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def _tent(x):
    x = xp.abs(x)
    return xp.where(x < 1.0, 1.0 - x, 0.0)


def _keys(a: float):
    def f(x):
        x = xp.abs(x)
        if x.dtype == xp.float32:  # torch's build contracts a·b + c into one rounding (FMA)
            return _keys_fma32(x, a)
        return xp.where(x < 1.0, _cubic1(x, a), xp.where(x < 2.0, _cubic2(x, a), 0.0))

    return f


def _keys_fma32(x, a: float):
    """W of float32 |x| with each a·b + c rounded once, as torch's compiled filter (an FMA):
    the float32 product is exact in float64, so only the float64 sum's rounding is extra, and
    the weights then match torch's bit for bit (a W that is 0 unfused is 6e-15 fused, which
    decides whether an inf next to it gives inf or NaN)."""
    d, f32 = x.astype(xp.float64), xp.float32

    def fma(p, q, r):
        return (p.astype(xp.float64) * q + r).astype(f32)

    c1 = fma(fma(xp.full_like(x, a + 2), d, -(a + 3)) * x, d, 1.0)
    c2 = fma(fma(fma(xp.full_like(x, a), d, -5 * a), d, 8 * a), d, -4 * a)
    return xp.where(x < 1.0, c1, xp.where(x < 2.0, c2, f32(0.0)))


def _sinc(x):
    """sin(πx)/(πx) in x's type as torch's scalar code: πx taken in double and rounded, the
    sine correctly rounded (glibc's sinf), the quotient in x's type."""
    y = (x.astype(xp.float64) * math.pi).astype(x.dtype)
    one = xp.ones_like(y)
    s = xp.sin(y.astype(xp.float64)).astype(x.dtype)
    return xp.where(x == 0, one, s / xp.where(x == 0, one, y))


def _lanczos3(x):
    x = xp.abs(x)
    third = (x.astype(xp.float64) / 3.0).astype(x.dtype)
    return xp.where(x < 3.0, _sinc(x) * _sinc(third), 0.0)


# mode → (support S of the filter, the antialias filter, the plain filter for uint8)
FILTERS = {"bilinear": (1, _tent, _tent), "bicubic": (2, _keys(-0.5), _keys(-0.75)),
           "lanczos": (3, _lanczos3, None)}  # fmt: skip


# ---------------------------------------------------------------- float taps


def _ratio(n: int, m: int, scale, align_corners: bool, ct):
    """torch's area_pixel_compute_scale, in the compute type ct (float32 for float32 input)."""
    if align_corners:
        return ct(n - 1) / ct(m - 1) if m > 1 else ct(0.0)
    if scale is not None and scale > 0:
        return ct(1.0 / scale)
    return ct(n) / ct(m)


def _source(r, m: int, align_corners: bool, cubic: bool, ct):
    d = xp.arange(m, dtype=ct)
    if align_corners:
        return r * d
    s = r * (d + ct(0.5)) - ct(0.5)
    return s if cubic else xp.maximum(s, ct(0.0))


def _floor(s, n: int):
    """⌊s⌋ capped at n − 1, the floor taken in float32 as torch's floorf does."""
    return xp.minimum(xp.floor(s.astype(xp.float32)).astype(xp.int64), n - 1)


def nearest_taps(n, m, scale, exact: bool, fast: bool, ct):
    """Source index of each output (m, 1), weight 1. ``fast``: torch's channels-last kernel
    (nearest_idx), which copies an unchanged axis, halves d when m = 2n and takes r in float32;
    else its generic kernel, which has neither shortcut and computes s in ct."""
    d = xp.arange(m)
    if fast:
        if not exact and m == n:
            return None
        r = xp.float32(1.0 / scale) if scale is not None and scale > 0 else xp.float32(n) / m
        if not exact and m == 2 * n:
            i = d >> 1
        elif exact:
            i = xp.floor(((d + 0.5) * float(r)).astype(xp.float32)).astype(xp.int64)
        else:
            i = xp.floor(d.astype(xp.float32) * r).astype(xp.int64)
    else:
        r = _ratio(n, m, scale, False, ct)
        if exact:
            s = _source(r, m, False, False, ct).astype(xp.float64) + 0.5
        else:
            s = r * d.astype(ct)
        i = xp.floor(s.astype(xp.float32)).astype(xp.int64)
    if m == n and bool((i == d).all()):
        return None
    return xp.minimum(i, n - 1)[:, None], None, None


def linear_taps(n, m, scale, align_corners, ct):
    if m == n:  # torch copies an axis whose size does not change, whatever the scale
        return None
    s = _source(_ratio(n, m, scale, align_corners, ct), m, align_corners, False, ct)
    i0 = _floor(s, n)
    lam = xp.clip(s - i0.astype(ct), 0, 1)
    i1 = xp.where(i0 < n - 1, i0 + 1, i0)
    return xp.stack([i0, i1], 1), xp.stack([1 - lam, lam], 1), None


def cubic_taps(n, m, scale, align_corners, ct):
    s = _source(_ratio(n, m, scale, align_corners, ct), m, align_corners, True, ct)
    i0 = _floor(s, n)
    t = xp.clip(s - i0.astype(ct), 0, 1)
    a, u = ct(-0.75), 1 - t
    w = xp.stack([_cubic2(t + 1, a), _cubic1(t, a), _cubic1(u, a), _cubic2(u + 1, a)], 1)
    return xp.clip(i0[:, None] + xp.arange(-1, 3), 0, n - 1), w, None


def area_taps(n, m, ct):
    """Adaptive average pooling's windows [⌊d·n/m⌋, ⌈(d+1)·n/m⌉) as taps of weight 1/size;
    the shorter windows are padded (``valid`` False) with their own first index."""
    if m == n:
        return None
    d = xp.arange(m)
    start, end = (d * n) // m, ((d + 1) * n + m - 1) // m
    k = xp.arange(int((end - start).max()))
    valid = k < (end - start)[:, None]
    idx = xp.where(valid, start[:, None] + k, start[:, None])
    w = xp.where(valid, 1 / (end - start).astype(ct)[:, None], ct(0.0))
    return idx, w, None if bool(valid.all()) else valid


def aa_taps(n, m, scale, align_corners, support: int, f, ct):
    """PIL's taps as torch's _compute_indices_min_size_weights_aa computes them in ct (float32
    for float32 input, float64 for float64 and uint8), its float/double promotions term by
    term, so that a weight that torch finds exactly 0 (or of a sign) is so here too: indices
    (m, K), normalised weights, ``valid`` and the largest weight. K is the longest window, not
    torch's bound 2⌈S'⌉ + 1: the columns past it would be padding only."""
    f64 = xp.float64
    r = _ratio(n, m, scale, align_corners, ct)
    big = float(r) >= 1.0
    s_r = ct(support * float(r)) if big else ct(support)  # (interp_size · ½) · r in double
    invscale = ct(1.0 / float(r)) if big else ct(1.0)
    k = int(math.ceil(s_r)) * 2 + 1
    c = (float(r) * (xp.arange(m, dtype=f64) + 0.5)).astype(ct)  # center
    xmin = xp.maximum(((c - s_r).astype(f64) + 0.5).astype(xp.int64), 0)  # C's truncation
    size = xp.clip(xp.minimum(((c + s_r).astype(f64) + 0.5).astype(xp.int64), n) - xmin, 0, k)
    j = xp.arange(k)
    valid = j < size[:, None]
    d = (xmin[:, None] + j).astype(ct) - c[:, None]
    w = xp.where(valid, f(((d.astype(f64) + 0.5) * float(invscale)).astype(ct)), ct(0.0))
    total = xp.zeros(m, dtype=ct)
    for col in range(k):  # summed in torch's order, so that uint8's rounding matches
        total = total + w[:, col]
    norm = total != 0.0
    w = xp.where(norm[:, None], w / xp.where(norm, total, ct(1.0))[:, None], w)
    wmax = max(0.0, float(xp.where(norm[:, None], w, 0.0).max()))
    idx = xp.where(valid, xmin[:, None] + j, xp.minimum(xmin, n - 1)[:, None])
    k = max(1, int(size.max()))
    valid = valid[:, :k]
    return idx[:, :k], w[:, :k], None if bool(valid.all()) else valid, wmax


# ---------------------------------------------------------------- uint8 taps


def _plain_weights_uint8(n, m, scale, align_corners, k: int, f):
    """torch's _compute_indices_min_size_weights: linear or cubic taps (K = 2 or 4) whose
    out-of-range weights are summed onto the border tap, and the largest partial sum."""
    s = _source(_ratio(n, m, scale, align_corners, xp.float64), m, align_corners, k > 2,
                xp.float64)  # fmt: skip
    i0 = _floor(s, n)
    lam = xp.clip(s - i0, 0.0, 1.0)
    half = k // 2
    lo = i0 - half + 1
    xmin = xp.maximum(lo, 0)
    w, rows, wmax = xp.zeros((m, k)), xp.arange(m), 0.0
    for j in range(k):
        slot = xp.clip(lo + j, 0, n - 1) - xmin
        w[rows, slot] += f(float(j + 1 - half) - lam)
        wmax = max(wmax, float(w[rows, slot].max()))  # torch's: partial sums count too
    size = xp.minimum(lo + 2 * half, n) - xmin
    idx = xp.where(xp.arange(k) < size[:, None], xmin[:, None] + xp.arange(k), xmin[:, None])
    return idx, w, wmax


def _int16(w, wmax: float):
    """Weights as torch's int16 fixed point: the precision p is the largest (< 22) with
    round(wmax · 2^p) < 2^15, each weight rounded half away from zero."""
    p = 0
    while p < 22 and int(0.5 + wmax * (1 << (p + 1))) < (1 << 15):
        p += 1
    v = w * float(1 << p)
    return xp.where(v < 0, xp.trunc(v - 0.5), xp.trunc(v + 0.5)), p


def uint8_taps(mode, n, m, scale, align_corners, antialias):
    """(idx, w₁₆, p): torch's integer taps, the weights int16 values held as float64."""
    support, aa_f, plain_f = FILTERS[mode]
    if antialias:
        idx, w, _, wmax = aa_taps(n, m, scale, align_corners, support, aa_f, xp.float64)
    else:
        idx, w, wmax = _plain_weights_uint8(n, m, scale, align_corners, 2 * support, plain_f)
    return (idx, *_int16(w, wmax))
