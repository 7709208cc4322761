"""F.conv_transpose1d / F.conv_transpose2d with torch's signatures, and the composed reference.

    y[n, o, i, j] = b[o] + Σ_{c, u, v} x[n, c, p, q] · W[c, o', u, v]
                    over s·p + d·u − pad = i  and  s·q + d·v − pad = j

H_out = (H − 1)·s − 2·pad + d·(kh − 1) + output_padding + 1. The fast path is the
GEMM + col2im op in ``ember/ops/conv_transpose.py``; ``conv_transpose2d_composed`` builds
the same sum from primitives: x upsampled by zero insertion (s − 1 zeros between pixels),
padded by d·(k − 1) − pad on each side (output_padding more at the far end), then a
stride-1 convolution with the kernel flipped and its in/out channels swapped.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import InputError
from ..ops import conv_transpose as CT
from ..tensor import Tensor, apply
from .conv import _check_bias_dtype, _check_ndim, _pair, accepts_unbatched, conv2d_composed
from .shape import pad as _pad
from .shape import stack


def _check(x: Tensor, weight: Tensor, bias, groups: int, nd: int, name: str) -> None:
    _check_ndim(x, weight, nd, name)
    c, c_w = x.shape[1], weight.shape[0]
    if groups < 1 or c_w % groups:
        raise ValueError(f"{name}: groups={groups} must divide in_channels={c_w}")
    if c != c_w:
        raise InputError(
            f"{name}: input has {c} channels, but weight of shape {weight.shape} expects"
            f" {c_w} (weight is (in_channels, out_channels/groups, *kernel))"
        )
    _check_bias_dtype(x, weight, bias, weight.shape[1] * groups, name, bias_cast=nd < 3)


def _args(stride, padding, output_padding, dilation, nd: int, name: str):
    if isinstance(padding, str):
        raise ValueError(f"{name}: padding must be an int or {nd} ints, got {padding!r}")
    s, p = _pair(stride, nd, "stride"), _pair(padding, nd, "padding")
    op, d = _pair(output_padding, nd, "output_padding"), _pair(dilation, nd, "dilation")
    if any(v < 1 for v in s + d):  # these two: torch's RuntimeError
        raise InputError(f"{name}: stride {s} and dilation {d} must be positive")
    if any(v < 0 for v in p):
        raise InputError(f"{name}: padding must be non-negative, got {p}")
    CT.check_output_padding(op, s, d)
    return s, p, op, d


@accepts_unbatched(2)
def conv_transpose2d(
    input: Tensor,  # noqa: A002 - torch's argument name
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """2-D transposed convolution: x (N, C, H, W), W (C, O/groups, kh, kw) → (N, O, Ho, Wo)."""
    return _conv_t(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


@accepts_unbatched(1)
def conv_transpose1d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """1-D transposed convolution: x (N, C, L), W (C, O/groups, k); a height-1 image."""
    return _conv_t(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def _conv_t(x, weight, bias, stride, padding, output_padding, groups, dilation, nd: int):
    name = f"conv_transpose{nd}d"
    _check(x, weight, bias, groups, nd, name)
    s, p, op, d = _args(stride, padding, output_padding, dilation, nd, name)
    if nd == 1:  # the 2-D op on a height-1 image
        s, p, op, d = (1,) + s, (0,) + p, (0,) + op, (1,) + d
    return apply(CT.ConvTranspose2d, x, weight, bias, stride=s, padding=p,
                 output_padding=op, dilation=d, groups=groups)  # fmt: skip


def _zero_insert(x: Tensor, s: int, axis: int) -> Tensor:
    """s − 1 zeros between neighbours along ``axis``: x_up[s·p] = x[p]."""
    if s == 1:
        return x
    xp = get_array_module(x.array)
    zeros = Tensor(xp.zeros(x.shape, dtype=x.dtype))
    up = stack([x] + [zeros] * (s - 1), dim=axis + 1)  # (..., L, s, ...)
    shape = x.shape[:axis] + (x.shape[axis] * s,) + x.shape[axis + 1 :]
    index = [slice(None)] * x.ndim
    index[axis] = slice(0, (x.shape[axis] - 1) * s + 1)
    return up.reshape(shape)[tuple(index)]


def _pad_or_crop(x: Tensor, before: int, after: int, axis: int) -> Tensor:
    """Zero-pad ``axis`` by (before, after); a negative amount crops instead."""
    index = [slice(None)] * x.ndim
    index[axis] = slice(max(-before, 0), x.shape[axis] - max(-after, 0))
    x = x[tuple(index)]
    widths = [0] * (2 * x.ndim)
    k = x.ndim - 1 - axis  # F.pad lists pairs from the last dim backwards
    widths[2 * k], widths[2 * k + 1] = max(before, 0), max(after, 0)
    return _pad(x, tuple(widths))


def conv_transpose2d_composed(
    x: Tensor,
    W: Tensor,
    b: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
) -> Tensor:
    """Zero insertion + padding + a stride-1 convolution with the flipped, transposed kernel.

    With x_up[s·p] = x[p] (zeros between) and x̃ that padded by d·(k − 1) − pad before and
    d·(k − 1) − pad + output_padding after, y[i] = Σ_u x̃[i + d·u] · W[k − 1 − u]: the term
    with x_up[i + pad − d·u'] (u' = k − 1 − u) is x[p] exactly where s·p + d·u' − pad = i.
    Slow and obviously right; the reference for the fused op.
    """
    _check(x, W, b, groups, 2, "conv_transpose2d_composed")
    s, p, op, d = _args(stride, padding, output_padding, dilation, 2, "conv_transpose2d")
    x_t, W_t = as_stride_one_convolution(x, W, s, p, op, d, groups)
    return conv2d_composed(x_t, W_t, b, stride=1, padding=0, dilation=d, groups=groups)


def as_stride_one_convolution(x: Tensor, W: Tensor, s, p, op, d, groups: int):
    """(x̃, W̃) with conv_transpose(x, W) = conv(x̃, W̃) at stride 1, dilation d, for any number
    of spatial dims: x̃ is x with s − 1 zeros between neighbours, padded by d·(k − 1) − p before
    and that + output_padding after (cropped where negative), and W̃ the kernel flipped in
    every spatial dim with in- and out-channels swapped per group (see
    conv_transpose2d_composed)."""
    c, o_g = W.shape[:2]
    kernel = tuple(W.shape[2:])
    x_t = x
    for a, k in enumerate(kernel):
        x_t = _zero_insert(x_t, s[a], 2 + a)  # x_up[s·p] = x[p]
        reach = d[a] * (k - 1) - p[a]
        x_t = _pad_or_crop(x_t, reach, reach + op[a], 2 + a)
    c_g = c // groups
    # W̃[g·O_g + o', c', u…] = W[g·C_g + c', o', k − 1 − u…]
    W_t = W.reshape((groups, c_g, o_g) + kernel).transpose(1, 2)
    W_t = W_t.reshape((groups * o_g, c_g) + kernel).flip(*range(2, W.ndim))
    return x_t, W_t
