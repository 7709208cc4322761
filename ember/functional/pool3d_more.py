"""Functions torch.nn.functional has for 3-D data and pooling with indices that ember lacked:
conv_transpose3d, adaptive_max_pool3d, max_unpool3d, lp_pool3d, max_pool1d/2d/3d_with_indices,
adaptive_max_pool1d/2d/3d_with_indices; ``__all__`` lists them (ember.functional star-imports
it).

    conv_transpose3d:  y[n, o, t, i, j] = b[o] + Σ_{c,a,u,v} x[n, c, p, q, r] · W[c, o', a, u, v]
                       over s_d·p + d_d·a − pad_d = t,  s_h·q + d_h·u − pad_h = i,
                            s_w·r + d_w·v − pad_w = j
                       D_out = (D − 1)·s_d − 2·pad_d + d_d·(kd − 1) + output_padding_d + 1
    adaptive max:      y[n, c, t, i, j] = max of x over the bins ⌊t·D/Do⌋ ≤ · < ⌈(t+1)·D/Do⌉ (and
                       likewise H, W); the index of the first maximum in scan order
    max_unpool3d:      z[n, c, I[n, c, t, i, j]] = y[n, c, t, i, j], zero elsewhere
    lp_pool3d:         y = (Σ_window xᵖ)^{1/p} = (kd·kh·kw · avg_pool3d(xᵖ))^{1/p}   (torch's form)

The transposed convolution is composed from primitives, so its gradients are exact by
construction: x upsampled by zero insertion (s − 1 zeros between voxels), padded by
d·(k − 1) − pad on each side (output_padding more at the far end; a negative amount crops),
then a stride-1 conv3d with the kernel flipped and its in/out channels swapped per group.
The ``*_with_indices`` functions are torch's: the pool, always returning (y, indices).
"""

from __future__ import annotations

import math

from ..backend import xp
from ..errors import InputError
from ..ops.complex_refuse import refuse_complex
from ..tensor import Tensor
from .conv import accepts_unbatched, expected_input
from .conv3d import avg_pool3d, conv3d, max_pool3d
from .conv_transpose import _args, _check, as_stride_one_convolution
from .layers_extra import _root
from .layers_fold import (
    _batched,
    _window_table,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    first_max_or_last_nan,
)
from .pool import _max_unpool, _pair, max_pool1d, max_pool2d

__all__ = [
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
    "conv_transpose3d",
    "lp_pool3d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_pool3d_with_indices",
    "max_unpool3d",
]


# ---------------------------------------------------------------- transposed convolution


@accepts_unbatched(3)
def conv_transpose3d(
    input: Tensor,  # noqa: A002 - torch's argument name
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """3-D transposed convolution: x (N, C, D, H, W), W (C, O/groups, kd, kh, kw) →
    (N, O, D_out, H_out, W_out); zero insertion + padding + conv3d with the flipped kernel."""
    x, W = input, weight
    _check(x, W, bias, groups, 3, "conv_transpose3d")
    s, p, op, d = _args(stride, padding, output_padding, dilation, 3, "conv_transpose3d")
    kernel = tuple(W.shape[2:])
    out = tuple(
        (n - 1) * s_ - 2 * p_ + d_ * (k - 1) + op_ + 1
        for n, k, s_, p_, d_, op_ in zip(x.shape[2:], kernel, s, p, d, op)
    )
    if min(out) < 1:
        raise ValueError(
            f"conv_transpose3d: input of spatial size {tuple(x.shape[2:])} with kernel {kernel},"
            f" stride {s}, padding {p} gives output size {out}"
        )
    x_t, W_t = as_stride_one_convolution(x, W, s, p, op, d, groups)
    return conv3d(x_t, W_t, bias, 1, 0, d, groups)


# ---------------------------------------------------------------- adaptive max pooling


def _output_triple(output_size, sizes) -> tuple:
    out = (output_size,) * 3 if isinstance(output_size, int) else tuple(output_size)
    if len(out) != 3:
        raise ValueError(
            f"adaptive_max_pool3d: output_size must be an int or 3 values, got {output_size}"
        )
    out = tuple(n if o is None else o for o, n in zip(out, sizes))
    if min(out) < 0:  # (0 is a size: an empty output, as torch's forward gives); RuntimeError
        raise InputError(
            f"adaptive_max_pool3d: output_size must be non-negative, got {output_size}"
        )
    return out


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """Max over torch's adaptive windows of x (N, C, D, H, W) or (C, D, H, W) → (…, Do, Ho, Wo).

    None in output_size keeps that size. With ``return_indices`` also the flat index
    t·H·W + i·W + j of each maximum in its volume (int64), as torch: the first maximum in scan
    order, or the last NaN when the window holds NaNs (torch's ``val > max || isnan(val)``).
    """
    refuse_complex(input.array, "adaptive_max_pool3d", NotImplementedError)
    x, unbatched = _batched(input, "adaptive_max_pool3d", (4, 5))
    n, c, d, h, w = x.shape
    if min(d, h, w) < 1:
        raise InputError(f"adaptive_max_pool3d: empty spatial size in {tuple(input.shape)}")
    od, oh, ow = _output_triple(output_size, (d, h, w))
    if 0 in (od, oh, ow):  # no windows: an empty view of x (its gradient is zero)
        y = x.reshape(n, c, d * h * w)[:, :, :0].reshape(n, c, od, oh, ow)
        empty = Tensor(xp.zeros((n, c, od, oh, ow), xp.int64))
        out = (y, empty) if return_indices else y
        if not unbatched:
            return out
        return tuple(t.squeeze(0) for t in out) if return_indices else out.squeeze(0)
    # (Do, Kd), (Ho, Kh), (Wo, Kw): the positions of every window; short ones repeat their last
    T, R, S = _window_table(d, od), _window_table(h, oh), _window_table(w, ow)
    kd, kh, kw = T.shape[1], R.shape[1], S.shape[1]
    flat = (
        T[:, None, None, :, None, None] * (h * w)
        + R[None, :, None, None, :, None] * w
        + S[None, None, :, None, None, :]
    ).reshape(od * oh * ow, kd * kh * kw)
    vals = x.array.reshape(n, c, d * h * w)[:, :, flat]  # (N, C, Do·Ho·Wo, Kd·Kh·Kw)
    first = first_max_or_last_nan(vals)
    index = xp.take_along_axis(flat[None, None], first[..., None], -1)[..., 0]
    y = x.reshape(n, c, d * h * w).gather(2, index).reshape(n, c, od, oh, ow)
    out = (y, Tensor(index.reshape(n, c, od, oh, ow).astype(xp.int64))) if return_indices else y
    if not unbatched:
        return out
    return tuple(t.squeeze(0) for t in out) if return_indices else out.squeeze(0)


# ---------------------------------------------------------------- unpooling, power pooling


def max_unpool3d(input: Tensor, indices, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:  # fmt: skip
    """The inverse of max_pool3d with return_indices: z[n, c, I] = y, zeros elsewhere, over
    (N, C, D, H, W) or (C, D, H, W). Output size (D_in − 1)·stride − 2·padding + kernel per dim
    unless ``output_size`` ((D, H, W) or with N and C) says otherwise, as torch."""
    if output_size is not None and isinstance(input, Tensor) and input.ndim in (4, 5):
        _check_unpool_size(input, kernel_size, stride, padding, output_size)
    if isinstance(input, Tensor) and input.ndim == 4:
        index = indices if isinstance(indices, Tensor) else Tensor(xp.asarray(indices))
        z = _max_unpool(input.unsqueeze(0), index.unsqueeze(0), kernel_size, stride, padding,
                        output_size, 3)  # fmt: skip
        return z.squeeze(0)
    if isinstance(input, Tensor) and input.ndim != 5:
        raise ValueError(f"max_unpool3d: expected {expected_input(3)}, got shape {input.shape}")
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)


def _check_unpool_size(x: Tensor, kernel_size, stride, padding, output_size) -> None:
    """torch's rule: each requested size lies strictly within stride of the default size."""
    k = _pair(kernel_size, 3, "kernel_size")
    s = k if stride is None else _pair(stride, 3, "stride")
    p = _pair(padding, 3, "padding")
    size = tuple(output_size)
    if len(size) == 5:
        size = size[2:]
    if len(size) != 3:
        raise ValueError(
            "output_size should be a sequence containing 3 or 5 elements, but it has a length"
            f" of '{len(size)}'"
        )
    for a in range(3):
        default = (x.shape[-3 + a] - 1) * s[a] + k[a] - 2 * p[a]
        low, high = default - s[a], default + s[a]
        if not low < size[a] < high:
            raise ValueError(
                f'invalid output_size "{output_size}" (dim {a} must be between {low} and {high})'
            )


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:  # fmt: skip
    """Power-average pooling over x (N, C, D, H, W) or (C, D, H, W): y = (Σ_window xᵖ)^{1/p} as
    (kd·kh·kw · avg_pool3d(xᵖ))^{1/p} (torch's formula). p = ±inf: max pooling of ±|x|."""
    k = _pair(kernel_size, 3, "kernel_size")
    if norm_type == math.inf:
        return max_pool3d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool3d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool3d(input**norm_type, kernel_size, stride, 0, ceil_mode)
    return _root(out, math.prod(k), norm_type)


# ---------------------------------------------------------------- torch's *_with_indices


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                            dilation=1, ceil_mode: bool = False,
                            return_indices: bool = False):  # fmt: skip
    """(y, I): max_pool1d and the index along L of each maximum (return_indices is ignored,
    as torch's)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                            dilation=1, ceil_mode: bool = False,
                            return_indices: bool = False):  # fmt: skip
    """(y, I): max_pool2d and the flat index h·W + w of each maximum in its plane."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                            dilation=1, ceil_mode: bool = False,
                            return_indices: bool = False):  # fmt: skip
    """(y, I): max_pool3d and the flat index t·H·W + i·W + j of each maximum in its volume."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size,  # noqa: A002
                                     return_indices: bool = False):  # fmt: skip
    """(y, I): adaptive_max_pool1d and the index along L of each maximum."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size,  # noqa: A002
                                     return_indices: bool = False):  # fmt: skip
    """(y, I): adaptive_max_pool2d and the flat index h·W + w of each maximum."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size,  # noqa: A002
                                     return_indices: bool = False):  # fmt: skip
    """(y, I): adaptive_max_pool3d and the flat index t·H·W + i·W + j of each maximum."""
    return adaptive_max_pool3d(input, output_size, True)
