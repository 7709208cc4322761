"""torch.nn.functional.interpolate with every mode of torch 2.13, built axis by axis.

Each resized axis (input size n, output size m) gets a table of taps: for every output
position d, K source indices i_dk and weights w_dk, and the axis is resampled as

    y[d] = Σ_k w_dk · x[i_dk]

a gather of the m·K source rows (``index_select``), a product with the weights and a sum over
k. The axes are done one after the other, the last first; the whole resample is linear in x, so
its gradient (a scatter-add of w_dk · ∂L/∂y[d] into i_dk) comes from the composed ops, to any
order. Where the tables come from:

Source coordinate of output d (``area_pixel_compute_source_index``), with the ratio
r = (n − 1)/(m − 1) for align_corners=True, else r = 1/scale_factor when a scale factor is
given (and not recomputed) or r = n/m:

    align_corners=True:   s = d · r
    align_corners=False:  s = (d + ½) · r − ½      (clamped at 0 except for bicubic)

    nearest         i = min(⌊d · r⌋, n − 1)            (OpenCV's INTER_NEAREST, kept by torch;
                    its 2-D kernel for outputs with H' + W' ≤ 128 copies an unchanged axis
                    and takes i = ⌊d/2⌋ when m = 2n, and so does ember)
    nearest-exact   i = min(⌊(d + ½) · r⌋, n − 1)      (PIL, scikit-image)
    linear          i₀ = ⌊s⌋, i₁ = min(i₀ + 1, n − 1), λ = s − i₀:  w = (1 − λ, λ)
    cubic           i₀ = ⌊s⌋, t = s − i₀, taps i₀−1 … i₀+2 clamped to [0, n − 1], weights
                    W(t + 1), W(t), W(1 − t), W(2 − t) of the cubic convolution kernel
                      W(x) = (A + 2)|x|³ − (A + 3)|x|² + 1          |x| ≤ 1
                      W(x) = A|x|³ − 5A|x|² + 8A|x| − 4A           1 < |x| < 2
                    with A = −0.75 (torch's, OpenCV's)
    area            adaptive average pooling: the window ⌊d·n/m⌋ … ⌈(d+1)·n/m⌉ − 1, equal weights

Antialias (bilinear, bicubic; lanczos needs it), PIL's resampling: the filter
f (tent 1 − |x|, the cubic W with A = −0.5, or Lanczos-3 sinc(x)·sinc(x/3)) of support S
(1, 2 or 3) is stretched by the scale r when downsampling (r > 1):

    c = (d + ½) · r,   S' = S · max(r, 1),   taps i = ⌊c − S' + ½⌋ … ⌊c + S' + ½⌋ − 1 within [0, n)
    w_i = f((i − c + ½) / max(r, 1)) / Σ_i f(…)           (normalised per output)

so upsampling with antialias is plain filtering with f (for bilinear, the linear mode). uint8
input (nearest, bilinear, bicubic, lanczos) follows torch's integer path exactly: the weights
are rounded to int16 at a precision p set by the largest weight, each axis is
Σ x·w₁₆ + 2^(p−1) shifted down by p and clamped to 0 … 255, the last axis first; an axis whose
size does not change is copied.

The gradient is the adjoint of this forward. torch's own backward departs from its forward in
a few corners (nearest in 1-D and 3-D with a scale factor that keeps or doubles a size,
bicubic with a scale factor that keeps a size, antialias with an unchanged axis): there ember
follows the forward.
"""

from __future__ import annotations

import math
import operator

from ..backend import xp
from ..tensor import Tensor

_AXES_OF = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "lanczos": 2}
_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


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
        return xp.where(x < 1.0, _cubic1(x, a), xp.where(x < 2.0, _cubic2(x, a), 0.0))

    return f


def _sinc(x):
    y = x * math.pi
    return xp.where(x == 0.0, 1.0, xp.sin(y) / xp.where(x == 0.0, 1.0, y))


def _lanczos3(x):
    x = xp.abs(x)
    return xp.where(x < 3.0, _sinc(x) * _sinc(x / 3.0), 0.0)


# mode → (support S of the filter, the antialias filter, the plain filter for uint8)
_FILTERS = {"bilinear": (1, _tent, _tent), "bicubic": (2, _keys(-0.5), _keys(-0.75)),
            "lanczos": (3, _lanczos3, None)}  # fmt: skip


# ---------------------------------------------------------------- taps of one axis


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


def _nearest_taps(n, m, scale, exact: bool, fast: bool, ct):
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
    return xp.minimum(i, n - 1)[:, None], None


def _linear_taps(n, m, scale, align_corners, ct):
    if m == n:  # torch copies an axis whose size does not change, whatever the scale
        return None
    s = _source(_ratio(n, m, scale, align_corners, ct), m, align_corners, False, ct)
    i0 = _floor(s, n)
    lam = xp.clip(s - i0.astype(ct), 0, 1)
    i1 = xp.where(i0 < n - 1, i0 + 1, i0)
    return xp.stack([i0, i1], 1), xp.stack([1 - lam, lam], 1)


def _cubic_taps(n, m, scale, align_corners, ct):
    s = _source(_ratio(n, m, scale, align_corners, ct), m, align_corners, True, ct)
    i0 = _floor(s, n)
    t = xp.clip(s - i0.astype(ct), 0, 1)
    a, u = ct(-0.75), 1 - t
    w = xp.stack([_cubic2(t + 1, a), _cubic1(t, a), _cubic1(u, a), _cubic2(u + 1, a)], 1)
    return xp.clip(i0[:, None] + xp.arange(-1, 3), 0, n - 1), w


def _area_taps(n, m, ct):
    """Adaptive average pooling's windows [⌊d·n/m⌋, ⌈(d+1)·n/m⌉) as taps of equal weight;
    the shorter windows are padded with their own first index at weight 0."""
    if m == n:
        return None
    d = xp.arange(m)
    start, end = (d * n) // m, ((d + 1) * n + m - 1) // m
    k = xp.arange(int((end - start).max()))
    inside = k < (end - start)[:, None]
    idx = xp.where(inside, start[:, None] + k, start[:, None])
    return idx, xp.where(inside, 1 / (end - start).astype(ct)[:, None], ct(0.0))


def _aa_weights(n, m, scale, align_corners, support: int, f):
    """PIL's taps (torch's _compute_indices_min_size_weights_aa), in float64: returns the
    indices (m, K), the normalised weights and the largest of them."""
    r = float(_ratio(n, m, scale, align_corners, xp.float64))
    s_r = support * r if r >= 1.0 else float(support)
    k = int(math.ceil(s_r)) * 2 + 1
    c = r * (xp.arange(m, dtype=xp.float64) + 0.5)
    xmin = xp.maximum(xp.trunc(c - s_r + 0.5), 0).astype(xp.int64)
    size = xp.clip(xp.minimum(xp.trunc(c + s_r + 0.5).astype(xp.int64), n) - xmin, 0, k)
    j = xp.arange(k)
    inside = j < size[:, None]
    x = ((xmin[:, None] + j).astype(xp.float64) - c[:, None] + 0.5) * (1.0 / r if r >= 1 else 1)
    w = xp.where(inside, f(x), 0.0)
    total = xp.zeros(m)
    for col in range(k):  # summed in torch's order, so that uint8's rounding matches
        total = total + w[:, col]
    norm = total != 0.0
    w = xp.where(norm[:, None], w / xp.where(norm, total, 1.0)[:, None], w)
    wmax = max(0.0, float(xp.where(norm[:, None], w, 0.0).max()))
    return xp.where(inside, xmin[:, None] + j, xp.minimum(xmin, n - 1)[:, None]), w, wmax


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
    return xp.where(v < 0, xp.trunc(v - 0.5), xp.trunc(v + 0.5)).astype(xp.int32), p


def _uint8_taps(mode, n, m, scale, align_corners, antialias):
    support, aa_f, plain_f = _FILTERS[mode]
    if antialias:
        idx, w, wmax = _aa_weights(n, m, scale, align_corners, support, aa_f)
    else:
        idx, w, wmax = _plain_weights_uint8(n, m, scale, align_corners, 2 * support, plain_f)
    return (idx, *_int16(w, wmax))


# ---------------------------------------------------------------- resampling one axis


def _spread(a, dim: int, ndim: int):
    """Weights (…, m) shaped to broadcast against an array with its m at ``dim``."""
    return a.reshape(a.shape + (1,) * (ndim - dim - 1))


def _gather_taps(x: Tensor, dim: int, idx, w) -> Tensor:
    m, k = idx.shape
    if w is None:  # one tap of weight 1: a gather
        return x.index_select(dim, idx[:, 0])
    w = w.astype(x.dtype)
    if k <= 4:  # linear, cubic: a gather per tap, as light as it gets for short kernels
        y = x.index_select(dim, idx[:, 0]) * Tensor(_spread(w[:, 0], dim, x.ndim))
        for j in range(1, k):
            y = y + x.index_select(dim, idx[:, j]) * Tensor(_spread(w[:, j], dim, x.ndim))
        return y
    # long kernels (antialias, area): one gather of the K·m rows, tap-major, so the backward
    # scatters once and the sum over taps adds whole blocks in tap order, as the loop would
    shape = x.shape
    g = x.index_select(dim, idx.T.reshape(-1)).reshape(*shape[:dim], k, m, *shape[dim + 1 :])
    return (g * Tensor(_spread(w.T, dim, x.ndim))).sum(axis=dim)


def _uint8_axis(a, dim: int, idx, w16, p: int):
    """Σ_k x[i_k]·w₁₆_k + 2^(p−1), shifted down by p and clamped, in int32 as torch's."""
    acc = xp.full(a.shape[:dim] + (idx.shape[0],) + a.shape[dim + 1 :], 1 << (p - 1), xp.int32)
    for j in range(idx.shape[1]):
        acc += xp.take(a, idx[:, j], axis=dim) * _spread(w16[:, j], dim, a.ndim)
    return xp.clip(acc >> p, 0, 255).astype(xp.uint8)


# ---------------------------------------------------------------- the function


def _sizes(x, size, scale_factor, mode, recompute_scale_factor):
    """torch's handling of size / scale_factor: the output sizes and the scales the kernel
    uses (None where it uses n/m)."""
    dim, in_sizes = x.ndim - 2, x.shape[2:]
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: give exactly one of size and scale_factor, got both")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: give exactly one of size and scale_factor, got neither")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * dim
        if len(sizes) != dim:
            raise ValueError(
                f"interpolate: input with spatial dimensions {list(in_sizes)} needs {dim} output"
                f" sizes, one per spatial dim, got size={size}"
            )
        try:
            out = tuple(operator.index(s) for s in sizes)
        except TypeError:
            raise TypeError(
                f"interpolate: expected size to be an int or a tuple of ints, got {size}"
            ) from None
        return out, (None,) * dim
    many = isinstance(scale_factor, (tuple, list))
    scales = tuple(scale_factor) if many else (scale_factor,) * dim
    if len(scales) != dim:
        raise ValueError(
            f"interpolate: input with spatial dimensions {list(in_sizes)} needs {dim} scale"
            f" factors, one per spatial dim, got scale_factor={scale_factor}"
        )
    scales = tuple(float(s) for s in scales)
    out = tuple(int(n * s) for n, s in zip(in_sizes, scales))
    if recompute_scale_factor or mode == "area":  # area always works from the sizes
        scales = (None,) * dim
    return out, scales


def _check_mode(x, mode, align_corners, antialias):
    if mode not in _AXES_OF and mode not in ("nearest", "nearest-exact", "area"):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not one of {_MODES}")
    if x.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"interpolate: expected a 3-D, 4-D or 5-D input (N, C, spatial…), got shape {x.shape}"
        )
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes:"
            " linear | bilinear | bicubic | trilinear"
        )
    if antialias and (mode not in ("bilinear", "bicubic", "lanczos") or x.ndim != 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires"
            f" a 4-D tensor as input; got mode {mode!r} with a {x.ndim}-D input"
        )
    need = _AXES_OF.get(mode)
    if need is not None and need != x.ndim - 2:
        raise NotImplementedError(
            f"interpolate: got {x.ndim}-D input, but {mode} mode needs {need + 2}-D input"
        )
    if mode == "lanczos" and (align_corners or not antialias):
        raise ValueError("interpolate: lanczos mode needs antialias=True and align_corners off")
    kind = x.dtype.kind
    if kind != "f" and not (mode in ("nearest", "nearest-exact") or (
            x.dtype == xp.uint8 and mode in ("bilinear", "bicubic", "lanczos"))):  # fmt: skip
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not implemented for dtype {x.dtype}: uint8 input"
            " takes nearest, nearest-exact, bilinear, bicubic and lanczos, other integer"
            " dtypes the nearest modes"
        )


def interpolate(
    input: Tensor,  # noqa: A002 - torch's argument name
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of x (N, C, L), (N, C, H, W) or (N, C, D, H, W), as torch.

    Modes: 'nearest' and 'nearest-exact' (any of the three), 'linear' (3-D), 'bilinear',
    'bicubic' and 'lanczos' (4-D; lanczos needs antialias=True), 'trilinear' (5-D) and 'area'
    (adaptive average pooling). With ``scale_factor`` the output size is ⌊n · scale⌋ and the
    source coordinates use 1/scale, unless ``recompute_scale_factor=True`` (then n/m). The
    formulas are in this module's docstring.
    """
    x = input
    _check_mode(x, mode, align_corners, antialias)
    align_corners = bool(align_corners)
    out_sizes, scales = _sizes(x, size, scale_factor, mode, recompute_scale_factor)
    in_sizes = x.shape[2:]
    if any(n <= 0 for n in in_sizes) or any(m <= 0 for m in out_sizes):
        raise RuntimeError(
            f"interpolate: input and output sizes should be greater than 0, got input"
            f" {tuple(in_sizes)} and output {out_sizes}"
        )
    spatial = len(out_sizes)
    uint8 = x.dtype == xp.uint8
    ct = xp.float64 if x.dtype == xp.float64 else xp.float32
    if mode in ("nearest", "nearest-exact"):
        # torch's channels-last kernel (with the shortcuts) serves a contiguous 2-D input
        # whose output is small (H' + W' ≤ 128), and a 2-D or 3-D one with C > 3 and one pixel
        fast = (x.shape[1] > 3 and math.prod(in_sizes) == 1 and spatial > 1) or (
            spatial == 2 and sum(out_sizes) <= 128
        )
    y = x
    for k in reversed(range(spatial)):  # the last axis first, as torch's separable kernels
        n, m, s, dim = in_sizes[k], out_sizes[k], scales[k], 2 + k
        if mode in ("nearest", "nearest-exact"):
            taps = _nearest_taps(n, m, s, mode == "nearest-exact", fast, ct)
        elif m == n and (uint8 or antialias):  # the separable kernels copy an unchanged axis
            taps = None
        elif uint8:
            y = Tensor(_uint8_axis(y.array, dim, *_uint8_taps(mode, n, m, s, align_corners,
                                                              antialias)))  # fmt: skip
            continue
        elif antialias:
            support, f, _ = _FILTERS[mode]
            taps = _aa_weights(n, m, s, align_corners, support, f)[:2]
        elif mode == "bicubic":
            taps = _cubic_taps(n, m, s, align_corners, ct)
        elif mode == "area":
            taps = _area_taps(n, m, ct)
        else:
            taps = _linear_taps(n, m, s, align_corners, ct)
        if taps is not None:
            y = _gather_taps(y, dim, *taps)
    return y
