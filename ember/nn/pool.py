"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d (no parameters).

    max pool:  y[n, c, i, j] = max_{u,v} x̃[n, c, s·i + d·u, s·j + d·v]
    avg pool:  y[n, c, i, j] = (1/|R_ij|) Σ_{u,v} x̃[n, c, s·i + u, s·j + v]
    adaptive:  output size fixed, windows b_i = ⌊i·H/H_out⌋ … e_i = ⌈(i+1)·H/H_out⌉

stride defaults to kernel_size, as in torch.
"""

from __future__ import annotations

from .. import functional as F
from ..tensor import Tensor
from .module import Module


class _MaxPool(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):  # fmt: skip
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding},"
            f" dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPool):
    """Max over windows; with ``return_indices`` also where each maximum was (for
    MaxUnpool2d)."""

    def forward(self, input: Tensor):  # noqa: A002
        x = input
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)  # fmt: skip


class MaxPool1d(_MaxPool):
    def forward(self, input: Tensor):  # noqa: A002
        x = input
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)  # fmt: skip


class _MaxUnpool(Module):
    """torch's _MaxUnpoolNd: kernel_size, stride and padding held as n-tuples, as torch's."""

    dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        n = self.dims
        self.kernel_size = _ntuple(kernel_size, n)
        self.stride = _ntuple(stride if stride is not None else kernel_size, n)
        self.padding = _ntuple(padding, n)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpool):
    """Puts each pooled maximum back where MaxPool2d(return_indices=True) found it, zeros
    elsewhere: z[n, c, I] = y (Zeiler & Fergus 2014's unpooling with switches)."""

    def forward(self, input: Tensor, indices, output_size=None) -> Tensor:  # noqa: A002
        x = input
        return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding,
                              output_size)  # fmt: skip


class MaxUnpool1d(_MaxUnpool):
    dims = 1

    def forward(self, input: Tensor, indices, output_size=None) -> Tensor:  # noqa: A002
        x = input
        return F.max_unpool1d(x, indices, self.kernel_size, self.stride, self.padding,
                              output_size)  # fmt: skip


def _ntuple(v, n: int) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class _AvgPoolNd(Module):
    """torch's base of AvgPool1d/2d/3d: the repr (each layer takes its own arguments)."""

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolDivisor(_AvgPoolNd):
    """AvgPool2d's and AvgPool3d's arguments (divisor_override; kept as given, not tuples)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):  # fmt: skip
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override


class AvgPool2d(_AvgPoolDivisor):
    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return F.avg_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override,
        )  # fmt: skip


class AvgPool1d(_AvgPoolNd):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):  # fmt: skip
        super().__init__()
        # torch keeps one-tuples here (its repr shows kernel_size=(3,)), unlike MaxPool1d
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return F.avg_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )


class _AdaptiveAvgPoolNd(Module):
    """torch's base of AdaptiveAvgPool1d/2d/3d: the output size and the repr."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return F.adaptive_avg_pool2d(x, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return F.adaptive_avg_pool1d(x, self.output_size)


def _single(v) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)
