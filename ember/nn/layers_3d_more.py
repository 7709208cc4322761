"""Modules torch.nn has for 3-D data (and the lazy variants) that ember lacked: ConvTranspose3d,
AdaptiveMaxPool3d, MaxUnpool3d, LPPool3d, CircularPad3d, LazyConv3d, LazyConvTranspose3d,
LazyBatchNorm3d, LazyInstanceNorm1d/2d/3d; ``__all__`` lists them (ember.nn star-imports it).

    transposed conv:  y[n, o, t, i, j] = b[o] + Σ_{c,a,u,v} x[n, c, p, q, r] · W[c, o', a, u, v]
                      over s_d·p + d_d·a − pad_d = t (and likewise i, j)
                      D_out = (D − 1)·s_d − 2·pad_d + d_d·(kd − 1) + output_padding_d + 1

ConvTranspose3d keeps weight (in_channels, out_channels/groups, kd, kh, kw) and bias
(out_channels,) as torch, so checkpoints load unchanged, initialised as torch: W by
kaiming_uniform(a=√5), b by U(±1/√fan_in) with fan_in = out_channels/groups·kd·kh·kw (torch
reads it from the weight's second dimension). The lazy layers read in_channels / num_features
from the first input (see ember/nn/lazy.py) and then become the concrete layer.
"""

from __future__ import annotations

from ..functional.pool3d_more import adaptive_max_pool3d, conv_transpose3d, lp_pool3d, max_unpool3d
from ..tensor import Tensor
from .conv3d import BatchNorm3d, Conv3d, InstanceNorm3d
from .conv_transpose import _ConvTransposeNd
from .layers_extra import _CircularPad, _LPPool
from .layers_fold import _AdaptiveMaxPool
from .layers_more import InstanceNorm1d, InstanceNorm2d, _InstanceNorm
from .lazy import _LazyBatchNorm, _LazyConv, _LazyConvTranspose, _LazyNormBase
from .pool import _MaxUnpool

__all__ = [
    "AdaptiveMaxPool3d",
    "CircularPad3d",
    "ConvTranspose3d",
    "LPPool3d",
    "LazyBatchNorm3d",
    "LazyConv3d",
    "LazyConvTranspose3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
    "MaxUnpool3d",
]


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over x (N, C, D, H, W) or (C, D, H, W) → (N, O, Do, Ho, Wo).

        y[n, o, t, i, j] = b[o] + Σ_{c,a,u,v} x[n, c, p, q, r] · W[c, o', a, u, v]
                           over s·(p, q, r) + d·(a, u, v) − pad = (t, i, j)

    o = g·O_g + o' for the group g of input channel c. ``forward(x, output_size)`` picks the
    output_padding that gives that size, as torch. Weight (C, O/groups, kd, kh, kw).
    """

    nd = 3
    _conv_transpose = staticmethod(conv_transpose3d)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """y[n, c, t, i, j] = max of x over ⌊t·D/Do⌋ ≤ · < ⌈(t+1)·D/Do⌉ and likewise rows and
    columns; (N, C, D, H, W) → (N, C, Do, Ho, Wo), with the flat indices t·H·W + i·W + j
    when ``return_indices``."""

    def forward(self, input: Tensor):  # noqa: A002
        x = input
        return adaptive_max_pool3d(x, self.output_size, self.return_indices)


class MaxUnpool3d(_MaxUnpool):
    """z[n, c, I[n, c, t, i, j]] = y[n, c, t, i, j], zero elsewhere: puts each pooled maximum
    back where MaxPool3d(return_indices=True) found it; (N, C, D, H, W) or (C, D, H, W)."""

    dims = 3  # kernel_size, stride and padding kept as triples, as torch

    def forward(self, input: Tensor, indices, output_size=None) -> Tensor:  # noqa: A002
        x = input
        return max_unpool3d(x, indices, self.kernel_size, self.stride, self.padding, output_size)


class LPPool3d(_LPPool):
    """y = (Σ_window xᵖ)^{1/p} over kd×kh×kw windows of x (N, C, D, H, W) or (C, D, H, W),
    computed as torch, (kd·kh·kw · avg_pool3d(xᵖ))^{1/p}."""

    fn = staticmethod(lp_pool3d)


class CircularPad3d(_CircularPad):
    """Circular padding of the last three dims (left, right, top, bottom, front, back) of
    x (N, C, D, H, W) or (C, D, H, W): y[t, i, j] = x[(t − front) mod D, (i − top) mod H,
    (j − left) mod W]."""

    dims = 3

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        if x.ndim not in (4, 5):
            raise ValueError(f"expected 4D or 5D input (got {x.ndim}D input)")  # torch's words
        return super().forward(x)


# ---------------------------------------------------------------- lazy layers


class LazyConv3d(_LazyConv, Conv3d):
    """Conv3d with in_channels inferred from the first input, x (N, C, D, H, W) or
    (C, D, H, W); weight (O, C/groups, kd, kh, kw) once known."""

    nd, cls_to_become = 3, Conv3d

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None):  # fmt: skip
        # Conv3d's own __init__ takes the padding modes the 1-D/2-D base does not
        Conv3d.__init__(self, 0, out_channels, kernel_size, stride, padding, dilation, groups,
                        bias, padding_mode, device, dtype)  # fmt: skip
        self._lazy_start()


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """ConvTranspose3d with in_channels inferred from the first input; weight
    (C, O/groups, kd, kh, kw) once known."""

    nd, cls_to_become = 3, ConvTranspose3d


class LazyBatchNorm3d(_LazyBatchNorm):
    """BatchNorm3d with num_features inferred from the first input, x (N, C, D, H, W)."""

    allowed_ndims, cls_to_become = BatchNorm3d.allowed_ndims, BatchNorm3d

    def _size_of_input(self, x: Tensor) -> int:
        if x.ndim != 5:
            raise ValueError(f"expected 5D input (got {x.ndim}D input)")
        return x.shape[1]


class _LazyInstanceNorm(_LazyNormBase, _InstanceNorm):
    """Instance norm with num_features read from the first input: x.shape[1] batched,
    x.shape[0] unbatched. torch's defaults for the lazy form: affine=True,
    track_running_stats=True (unlike InstanceNorm's False, False). As torch's, no
    InstanceNorm1d/2d/3d until it becomes one."""

    def _size_of_input(self, x: Tensor) -> int:
        nd = self.batched_ndim
        if x.ndim not in (nd - 1, nd):
            raise ValueError(f"expected {nd - 1}D or {nd}D input (got {x.ndim}D input)")
        return x.shape[1] if x.ndim == nd else x.shape[0]


class LazyInstanceNorm1d(_LazyInstanceNorm):
    """InstanceNorm1d with num_features inferred from the first input, x (N, C, L) or (C, L)."""

    batched_ndim, cls_to_become = 3, InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm):
    """InstanceNorm2d with num_features inferred from the first input, x (N, C, H, W) or
    (C, H, W)."""

    batched_ndim, cls_to_become = 4, InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm):
    """InstanceNorm3d with num_features inferred from the first input, x (N, C, D, H, W) or
    (C, D, H, W)."""

    batched_ndim, cls_to_become = 5, InstanceNorm3d
