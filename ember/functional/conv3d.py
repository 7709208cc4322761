"""F.conv3d, F.max_pool3d, F.avg_pool3d, F.adaptive_avg_pool3d and F.dropout3d with torch's
signatures, over volumes x (N, C, D, H, W) or one unbatched sample (C, D, H, W).

    conv:          y[n, o, t, i, j] = b[o] + Σ_{c,a,u,v} W[o, c, a, u, v]
                                        · x̃[n, c, s_d·t + d_d·a, s_h·i + d_h·u, s_w·j + d_w·v]
    max pool:      y[n, c, t, i, j] = max_{a,u,v} x̃[n, c, s_d·t + d_d·a, s_h·i + d_h·u, ...]
    avg pool:      y[n, c, t, i, j] = (1/|R_tij|) Σ_{a,u,v} x̃[n, c, s_d·t + a, s_h·i + u, ...]
    adaptive avg:  y = x ×_D A_D ×_H A_H ×_W A_W,  A[i, h] = 1/(e_i − b_i) for b_i ≤ h < e_i,
                   b_i = ⌊i·H/H_out⌋, e_i = ⌈(i+1)·H/H_out⌉   (torch's bins)

The convolution and pools are the ops of ``ember/ops/conv3d.py`` and ``ember/ops/pool3d.py``;
the adaptive pool is three small matrix products, so its gradient is exact by construction.
"""

from __future__ import annotations

import warnings

from ..errors import InputError
from ..ops import conv3d as C3
from ..ops import pool3d as P3
from ..tensor import Tensor, apply
from .conv import _check, _pair, accepts_unbatched, conv_padding, expected_input
from .layers_more import _channel_dropout
from .pool import _pool_args, adaptive_bins, refuse_integers

_EXPECTED = expected_input(3)


@accepts_unbatched(3)
def conv3d(
    input: Tensor,  # noqa: A002 - torch's argument name
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """3-D convolution (cross-correlation, as torch): x (N, C, D, H, W),
    W (O, C/groups, kd, kh, kw); padding ints, 'valid' or 'same'."""
    _check(input, weight, bias, groups, 3, "conv3d")
    stride, dilation = _pair(stride, 3, "stride"), _pair(dilation, 3, "dilation")
    pads = conv_padding(padding, weight.shape[2:], dilation, stride, 3)
    return apply(
        C3.Conv3d, input, weight, bias, stride=stride, padding=pads, dilation=dilation,
        groups=groups,
    )  # fmt: skip


@accepts_unbatched(3)
def max_pool3d(
    input: Tensor,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """Max over kd×kh×kw windows; stride defaults to the kernel size. With
    ``return_indices`` also the flat index t·H·W + i·W + j of each maximum in its volume."""
    k, s, p, d = _pool_args(input, kernel_size, stride, padding, dilation, 3, "max_pool3d")
    consts = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
    if not return_indices:
        return apply(P3.MaxPool3d, input, **consts)
    y, index = apply(P3.MaxPool3dWithIndices, input, **consts)
    return y, index.detach()


@accepts_unbatched(3)
def avg_pool3d(
    input: Tensor,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over kd×kh×kw windows; divisor as torch (see the module docstring)."""
    k, s, p, _ = _pool_args(input, kernel_size, stride, padding, 1, 3, "avg_pool3d")
    return apply(
        P3.AvgPool3d, input, kernel_size=k, stride=s, padding=p, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, divisor_override=divisor_override,
    )  # fmt: skip


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """y = x ×_D A_D ×_H A_H ×_W A_W over the last three dims; None keeps that size."""
    x = input
    if x.ndim not in (4, 5):
        raise ValueError(f"adaptive_avg_pool3d: expected {_EXPECTED}, got shape {x.shape}")
    d, h, w = x.shape[-3:]
    sizes = (output_size,) * 3 if isinstance(output_size, int) else tuple(output_size)
    od, oh, ow = (n if o is None else o for o, n in zip(sizes, (d, h, w)))  # 0: empty output
    if (od, oh, ow) == (1, 1, 1):  # global average pooling: one mean (torch's refusal too)
        return x.mean(axis=(-3, -2, -1), keepdims=True)
    refuse_integers(x, "adaptive_avg_pool3d_cpu", (od, oh, ow))
    lead = tuple(x.shape[:-3])
    y = x @ adaptive_bins(w, ow, x.dtype).T  # (..., D, H, ow)
    y = adaptive_bins(h, oh, x.dtype) @ y  # (..., D, oh, ow)
    y = adaptive_bins(d, od, x.dtype) @ y.reshape(lead + (d, oh * ow))  # (..., od, oh·ow)
    return y.reshape(lead + (od, oh, ow))


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace=False) -> Tensor:  # noqa: A002
    """Channel dropout over (N, C, D, H, W) or (C, D, H, W): one keep/drop per channel,
    kept channels scaled by 1/(1 − p). Another rank is taken as unbatched (one draw per
    slice of dim 0), with torch's warning."""
    if input.ndim < 1:
        raise InputError(f"dropout3d: expected {_EXPECTED}, got shape {input.shape}")
    if inplace and training and p > 0:  # as torch: in eval (or p = 0) x is returned as is
        return input._arith_("dropout3d_", lambda x: dropout3d(x, p, training))
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and"
            " will result in an error in a future release. To retain the behavior and silence"
            " this warning, please use dropout instead. Note that dropout3d exists to provide"
            " channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension,"
            " and an optional batch dimension (i.e. 4D or 5D inputs).",
            stacklevel=2,
        )
    return _channel_dropout(input, p, training, input.ndim == 5)
