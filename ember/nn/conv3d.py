"""The volumetric (3-D) layers, torch's names and arguments: Conv3d, MaxPool3d, AvgPool3d,
AdaptiveAvgPool3d, BatchNorm3d, InstanceNorm3d, Dropout3d and the 3-D pads.

    conv:  y[n, o, t, i, j] = b[o] + Σ_{c,a,u,v} W[o, c, a, u, v]
                                 · x̃[n, c, s_d·t + d_d·a, s_h·i + d_h·u, s_w·j + d_w·v]

Conv3d keeps weight (out_channels, in_channels/groups, kd, kh, kw) and bias (out_channels,)
as torch, so checkpoints load unchanged, initialised as torch: U(±1/√fan_in) for both,
fan_in = C/groups·kd·kh·kw. The others are ember's 1-D/2-D layers with one more spatial
dim (inputs (N, C, D, H, W), or (C, D, H, W) where torch takes it).
"""

from __future__ import annotations

# names, not the module: ember.functional's own ``conv3d`` (the function) shadows the submodule
from ..functional.conv3d import adaptive_avg_pool3d, avg_pool3d, conv3d, dropout3d, max_pool3d
from ..functional.layers_more import pad as _pad
from ..tensor import Tensor
from .conv import _ConvNd
from .layers_more import (
    _ConstantPadNd,
    _DropoutNd,
    _InstanceNorm,
    _ReflectionPadNd,
    _ReplicationPadNd,
    padding_repr,
)
from .normalization import _BatchNorm
from .pool import _AdaptiveAvgPoolNd, _AvgPoolDivisor, _MaxPool

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv3d(_ConvNd):
    """3-D convolution over x (N, C, D, H, W) or (C, D, H, W) → (N, O, Do, Ho, Wo).

    padding_mode 'reflect', 'replicate' or 'circular' pads with F.pad first and convolves
    unpadded, as torch does.
    """

    nd = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):  # fmt: skip
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, "zeros", device, dtype)  # fmt: skip
        self.padding_mode = padding_mode

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        padding = self.padding
        if self.padding_mode != "zeros":
            x = _pad(x, self._pad_widths(), self.padding_mode)
            padding = 0
        return conv3d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                         self.groups)  # fmt: skip

    def extra_repr(self) -> str:
        s = super().extra_repr()
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class MaxPool3d(_MaxPool):
    """Max over kd×kh×kw windows; with ``return_indices`` also where each maximum was."""

    def forward(self, input: Tensor):  # noqa: A002
        x = input
        return max_pool3d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                             self.ceil_mode, self.return_indices)  # fmt: skip


class AvgPool3d(_AvgPoolDivisor):
    """Mean over kd×kh×kw windows (count_include_pad, ceil_mode, divisor_override as torch)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return avg_pool3d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override,
        )  # fmt: skip


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed (D_out, H_out, W_out); None keeps that input size."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return adaptive_avg_pool3d(x, self.output_size)


class BatchNorm3d(_BatchNorm):
    """Batch norm over x (N, C, D, H, W): statistics per channel over the batch and voxels."""

    allowed_ndims = (5,)


class InstanceNorm3d(_InstanceNorm):
    """Instance norm over x (N, C, D, H, W) or (C, D, H, W)."""

    batched_ndim = 5


class Dropout3d(_DropoutNd):
    """Channel dropout over (N, C, D, H, W) or (C, D, H, W): whole volumes zeroed."""

    fn = staticmethod(dropout3d)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class ConstantPad3d(_ConstantPadNd):
    """y = x with ``value`` around the last three dims (left, right, top, bottom, front,
    back)."""

    dims = 3

    def __init__(self, padding, value: float):
        super().__init__(value, padding)


class ZeroPad3d(ConstantPad3d):
    """Zeros around the last three dims (left, right, top, bottom, front, back)."""

    extra_repr = padding_repr

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ReflectionPad3d(_ReflectionPadNd):
    """Reflection padding of the last three dims (left, right, top, bottom, front, back)."""

    dims = 3


class ReplicationPad3d(_ReplicationPadNd):
    """Replication padding of the last three dims (left, right, top, bottom, front, back)."""

    dims = 3


__all__ = [
    "AdaptiveAvgPool3d",
    "AvgPool3d",
    "BatchNorm3d",
    "ConstantPad3d",
    "Conv3d",
    "Dropout3d",
    "InstanceNorm3d",
    "MaxPool3d",
    "ReflectionPad3d",
    "ReplicationPad3d",
    "ZeroPad3d",
]
