"""ConvTranspose1d and ConvTranspose2d: the convolution's input gradient as a layer (upsampling).

    y[n, o, i, j] = b[o] + Σ_{c, u, v} x[n, c, p, q] · W[c, o', u, v]
                    over s·p + d·u − pad = i  and  s·q + d·v − pad = j

    H_out = (H − 1)·s − 2·pad + d·(kh − 1) + output_padding + 1

Weight (in_channels, out_channels/groups, *kernel_size), bias (out_channels,), as torch
keeps them, so torch checkpoints load unchanged. Initialised as torch: W by
kaiming_uniform(a=√5) and b by U(±1/√fan_in), where torch takes fan_in from the weight's
second dimension, fan_in = out_channels/groups·kh·kw.
"""

from __future__ import annotations

from .. import backend
from ..functional import conv_transpose as FT
from ..functional.conv import _pair
from ..ops.conv_transpose import check_output_padding, transposed_out_size
from ..tensor import Tensor
from .conv import _check_groups, _ConvNd
from .module import Module


class _ConvTransposeNd(_ConvNd):
    """The transposed convolutions' base; a _ConvNd as torch's (``transposed`` True), with its
    own arguments (output_padding, dilation after bias)."""

    nd, transposed = 2, True
    _repr_fields = (("padding", 0), ("output_padding", 0), ("dilation", 1))

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):  # fmt: skip
        Module.__init__(self)  # not _ConvNd's: its arguments are a direct convolution's
        backend.check_device(device)
        _check_groups(in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(
                f"padding_mode {padding_mode!r}: only 'zeros' is supported for transposed"
                " convolutions (as in torch)"
            )
        if isinstance(padding, str):
            raise ValueError(f"padding must be an int or {self.nd} ints, got {padding!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, self.nd, "kernel_size")
        self.stride = _pair(stride, self.nd, "stride")
        self.padding = _pair(padding, self.nd, "padding")
        self.output_padding = _pair(output_padding, self.nd, "output_padding")
        self.dilation = _pair(dilation, self.nd, "dilation")
        check_output_padding(self.output_padding, self.stride, self.dilation)
        self.groups, self.padding_mode = groups, padding_mode
        shape = (in_channels, out_channels // groups) + self.kernel_size
        self._make_parameters(shape, out_channels, bias, dtype)

    def forward(self, input: Tensor, output_size=None) -> Tensor:  # noqa: A002
        op = self._output_padding(input, output_size)
        return self._conv_transpose(input, self.weight, self.bias, self.stride, self.padding,
                                    op, self.groups, self.dilation)  # fmt: skip

    def _output_padding(self, x: Tensor, output_size) -> tuple:
        """torch's rule: an output_size (spatial, or with N and C) picks the output_padding."""
        if output_size is None:
            return self.output_padding
        size = tuple(int(v) for v in output_size)
        if len(size) == self.nd + 2:
            size = size[2:]
        if len(size) != self.nd:
            raise ValueError(
                f"output_size must have {self.nd} or {self.nd + 2} elements, got {output_size}"
            )
        padding = []
        for a in range(self.nd):
            low = transposed_out_size(x.shape[2 + a], self.kernel_size[a], self.stride[a],
                                            self.padding[a], self.dilation[a], 0)  # fmt: skip
            high = low + self.stride[a] - 1
            if not low <= size[a] <= high:
                raise ValueError(
                    f"requested an output size of {size}, but valid sizes range from"
                    f" {low} to {high} in dim {a} (for an input of {tuple(x.shape[2:])})"
                )
            padding.append(size[a] - low)
        return tuple(padding)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over x (N, C, H, W) → (N, O, H_out, W_out)."""

    nd = 2
    _conv_transpose = staticmethod(FT.conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over x (N, C, L) → (N, O, L_out)."""

    nd = 1
    _conv_transpose = staticmethod(FT.conv_transpose1d)
