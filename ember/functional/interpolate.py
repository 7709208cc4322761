"""torch.nn.functional.interpolate with every mode of torch 2.13, built axis by axis.

Each resized axis (input size n, output size m) gets a table of taps: for every output
position d, K source indices i_dk and weights w_dk, and the axis is resampled as

    y[d] = Σ_k w_dk · x[i_dk]

that is y = A·x along the axis, with A (m × n) holding row d's weights at columns i_dk. The axes
are done one after the other, the last first (torch's order, which fixes where NaN and uint8
rounding land). A is banded, so it is applied in row blocks of 16: each block one small GEMM
with the columns its taps reach, y[s:e] = A[s:e, lo:hi]·x[lo:hi] (vectorised, and the adjoint
∂L/∂x = Aᵀ·∂L/∂y is the same thing with Aᵀ's blocks). A GEMM multiplies every zero in its block
too, and 0·inf = NaN: where a result is not finite, that axis is redone tap by tap, reading
only the taps torch reads, so ±inf and NaN spread as torch's. Nearest modes gather. The
gradient of the whole resample is the adjoint maps in reverse order, itself such a resample,
so it differentiates again to any order. The tables (interpolate_taps.py):

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
Σ x·w₁₆ + 2^(p−1) shifted down by p and clamped to 0 … 255, the last axis first (the sums taken
in float64, where these integers are exact); an axis whose size does not change is copied.

The gradient is the adjoint of this forward. torch's own backward departs from its forward in
a few corners (nearest in 1-D and 3-D with a scale factor that keeps or doubles a size,
bicubic with a scale factor that keeps a size, antialias with an unchanged axis): there ember
follows the forward.
"""

from __future__ import annotations

import math
import operator

from ..backend import xp
from ..ops.complex_refuse import refuse_complex
from ..tensor import Tensor, apply
from .interpolate_resample import Resample, axis_map, resample_uint8, uint8_map

_AXES_OF = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "lanczos": 2}
_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


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
    if input.dtype.kind == "c":  # torch has no complex kernel for any mode
        refuse_complex(input.array, "interpolate", NotImplementedError, "resize z.real, z.imag")
    x = input
    _check_mode(x, mode, align_corners, antialias)
    align_corners = bool(align_corners)
    out_sizes, scales = _sizes(x, size, scale_factor, mode, recompute_scale_factor)
    in_sizes = x.shape[2:]
    if mode == "area" and all(n > 0 for n in in_sizes) and 0 in out_sizes:
        return _empty_area(x, out_sizes)  # torch's area is adaptive pooling, which allows it
    if any(n <= 0 for n in in_sizes) or any(m <= 0 for m in out_sizes):
        raise RuntimeError(
            f"interpolate: input and output sizes should be greater than 0, got input"
            f" {tuple(in_sizes)} and output {out_sizes}"
        )
    spatial = len(out_sizes)
    uint8 = x.dtype == xp.uint8
    fast = False
    if mode in ("nearest", "nearest-exact"):
        # torch's channels-last kernel (with the shortcuts) serves a contiguous 2-D input
        # whose output is small (H' + W' ≤ 128), and a 2-D or 3-D one with C > 3 and one pixel
        fast = (x.shape[1] > 3 and math.prod(in_sizes) == 1 and spatial > 1) or (
            spatial == 2 and sum(out_sizes) <= 128
        )
    elif uint8:
        maps = tuple((2 + k, uint8_map(mode, in_sizes[k], out_sizes[k], scales[k], align_corners,
                                       antialias))
                     for k in reversed(range(spatial)) if in_sizes[k] != out_sizes[k])  # fmt: skip
        return Tensor(resample_uint8(x.array, maps) if maps else x.array.copy())
    ct = xp.float64 if x.dtype == xp.float64 else xp.float32
    maps = []
    for k in reversed(range(spatial)):  # the last axis first, as torch's separable kernels
        a = axis_map(mode, in_sizes[k], out_sizes[k], scales[k], align_corners, antialias, fast,
                     ct)  # fmt: skip
        if a is not None:
            maps.append((2 + k, a))
    # no axis resized: a new tensor all the same (torch's kernels always write one)
    return apply(Resample, x, maps=tuple(maps)) if maps else x.clone()


def _empty_area(x: Tensor, out_sizes) -> Tensor:
    """mode='area' with an output size 0, as torch's adaptive average pooling gives it."""
    from .conv3d import adaptive_avg_pool3d
    from .pool import adaptive_avg_pool1d, adaptive_avg_pool2d

    fn = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d, 3: adaptive_avg_pool3d}
    return fn[len(out_sizes)](x, out_sizes[0] if len(out_sizes) == 1 else out_sizes)
