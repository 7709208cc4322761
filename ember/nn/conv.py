"""Conv1d and Conv2d: small learnable filters slid over the input, shared at every position.

    y[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] · x̃[n, c, s·i + d·u, s·j + d·v]

x̃ is x padded: with zeros, or with padding_mode 'reflect', 'replicate' or 'circular' by
F.pad first (then the convolution itself pads nothing), as torch does.

Weight (out_channels, in_channels/groups, *kernel_size), bias (out_channels,), as torch
keeps them, so torch checkpoints load unchanged. Initialised as torch: W by
kaiming_uniform(a=√5), i.e. U(±1/√fan_in), b by U(±1/√fan_in), fan_in = C/groups·kh·kw.
"""

from __future__ import annotations

import math

from .. import backend
from .. import functional as F
from ..backend import xp
from ..errors import InputError
from ..functional.conv import _pair
from ..tensor import Tensor
from . import init
from .module import Module, Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _check_groups(in_channels: int, out_channels: int, groups: int) -> None:
    if groups < 1 or in_channels % groups or out_channels % groups:
        raise ValueError(
            f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}"
        )


class _ConvBase(Module):
    """What Conv and ConvTranspose layers share: parameters, their init, the repr."""

    nd = 2
    # the optional repr fields, in order, each with the value that leaves it out
    _repr_fields: tuple = (("padding", 0), ("dilation", 1))

    def _make_parameters(self, shape: tuple, out_channels: int, bias: bool, dtype) -> None:
        dtype = dtype or backend.DEFAULT_DTYPE
        self.weight = Parameter(xp.empty(shape, dtype=dtype))
        self.bias = Parameter(xp.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # fan_in = weight.shape[1]·kh·kw, as torch computes it (for transposed convolutions
        # that is out_channels/groups·kh·kw)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size},"
            f" stride={self.stride}"
        )
        for name, default in self._repr_fields:
            value = getattr(self, name)
            if value != (default,) * self.nd:
                s += f", {name}={value}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


def _torch_conv_arguments(conv, kernel_size, positional: tuple, named: dict) -> tuple:
    """(groups, bias, padding_mode, device, dtype) from the arguments of torch's
    ``_ConvNd.__init__(in, out, kernel_size, stride, padding, dilation, transposed,
    output_padding, groups, bias, padding_mode, device=None, dtype=None)``, which a class
    derived from ``_ConvNd`` passes; its kernel_size (a tuple there) sets the dims."""
    names = ("transposed", "output_padding", "groups", "bias", "padding_mode", "device", "dtype")
    given = dict(zip(names, positional[: len(names)]))
    given.update(named)
    unknown = set(given) - set(names)
    if unknown:
        raise TypeError(f"_ConvNd.__init__() got unexpected arguments {sorted(unknown)}")
    if given.get("transposed"):
        raise ValueError(
            "_ConvNd.__init__(transposed=True): derive a transposed convolution from"
            " ConvTranspose1d/2d/3d (ember's _ConvTransposeNd builds its own weight)"
        )
    if isinstance(kernel_size, tuple):
        conv.nd = len(kernel_size)
    return (given.get("groups", 1), given.get("bias", True), given.get("padding_mode", "zeros"),
            given.get("device"), given.get("dtype"))  # fmt: skip


class _ConvNd(_ConvBase):
    nd = 2
    transposed = False  # torch's flag, read by code that handles both kinds of convolution

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None, *torch_rest, **torch_named):  # fmt: skip
        if isinstance(groups, bool) or torch_named:  # torch's _ConvNd.__init__ (a subclass's)
            groups, bias, padding_mode, device, dtype = _torch_conv_arguments(
                self, kernel_size, (groups, bias, padding_mode, device, dtype, *torch_rest),
                torch_named,
            )  # fmt: skip
        super().__init__()
        backend.check_device(device)
        _check_groups(in_channels, out_channels, groups)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, self.nd, "kernel_size")
        self.stride = _pair(stride, self.nd, "stride")
        self.dilation = _pair(dilation, self.nd, "dilation")
        for name in ("kernel_size", "stride", "dilation"):
            if min(getattr(self, name)) < 1:
                raise InputError(f"{name} must be positive, got {getattr(self, name)}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"padding must be 'same', 'valid' or ints, got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _pair(padding, self.nd, "padding")
        self.groups, self.padding_mode = groups, padding_mode
        self.output_padding = (0,) * self.nd
        self._reversed_padding_repeated_twice = self._pad_widths()
        shape = (out_channels, in_channels // groups) + self.kernel_size
        self._make_parameters(shape, out_channels, bias, dtype)

    def _pad_widths(self) -> tuple:
        """torch's _reversed_padding_repeated_twice: (left, right, top, bottom, …), the
        extra pixel of an odd 'same' total after."""
        if self.padding == "valid":
            return (0, 0) * self.nd
        if self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        else:
            pairs = [(p, p) for p in self.padding]
        return tuple(v for pair in reversed(pairs) for v in pair)

    def _conv_forward(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """The convolution with the given weight and bias (torch's hook for subclasses that
        transform the weight first). x̃ is x itself for 'zeros', else x padded by F.pad in
        ``padding_mode``, convolved without more padding."""
        conv = F.conv2d if self.nd == 2 else F.conv1d
        padding = self.padding
        if self.padding_mode != "zeros":
            x = F.pad(x, self._reversed_padding_repeated_twice, self.padding_mode)
            padding = 0
        return conv(x, weight, bias, self.stride, padding, self.dilation, self.groups)

    def _repr_with_padding_mode(self) -> str:
        # Conv1d's and Conv2d's extra_repr (Conv3d appends padding_mode itself)
        s = _ConvBase.extra_repr(self)
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over x (N, C, H, W) → (N, O, Ho, Wo)."""

    nd = 2

    extra_repr = _ConvNd._repr_with_padding_mode

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return self._conv_forward(x, self.weight, self.bias)


class Conv1d(_ConvNd):
    """1-D convolution over x (N, C, L) → (N, O, Lo)."""

    nd = 1

    extra_repr = _ConvNd._repr_with_padding_mode

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return self._conv_forward(x, self.weight, self.bias)
