"""Still more of torch.nn: Softmax2d, RReLU, ChannelShuffle, UpsamplingNearest2d and
UpsamplingBilinear2d, CircularPad1d/2d, LPPool1d/2d, AlphaDropout and FeatureAlphaDropout.

Thin Modules over ``ember/functional/layers_extra.py`` (and F.softmax, F.interpolate, F.pad)
with torch's names, constructor arguments, defaults and reprs. ``inplace=True``, where torch
takes it (and shown as torch shows it), makes the input itself the result, as torch's.
"""

from __future__ import annotations

from ..function import is_grad_enabled
from ..functional import layers_extra as F
from ..functional import layers_more as FM
from ..functional.activation import softmax
from ..mistakes import check_training_mode_in_no_grad
from ..tensor import Tensor
from .dropout import _DropoutNd
from .layers_more import Upsample, _Pad
from .module import Module


class Softmax2d(Module):
    """Softmax over the channels at every position: y[c, h, w] = e^{x[c,h,w]} / Σ_c′ e^{x[c′,h,w]}

    x (N, C, H, W) or (C, H, W) (softmax along dim −3)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - torch's argument name
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return softmax(input, -3)


class RReLU(Module):
    """RReLU(x) = x if x > 0 else a·x: a ~ U(lower, upper) per element in training, the mean
    slope (lower + upper)/2 in eval (Xu et al. 2015, "Empirical evaluation of rectified
    activations")."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (
            ", inplace=True" if self.inplace else ""
        )


class ChannelShuffle(Module):
    """(N, g·m, *) → (N, g·m, *): channel i·m + j goes to j·g + i (ShuffleNet)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class UpsamplingNearest2d(Upsample):
    """Upsample(size, scale_factor, mode='nearest'): y[h, w] = x[⌊h·r_h⌋, ⌊w·r_w⌋]."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample(size, scale_factor, mode='bilinear', align_corners=True): the corner pixels of
    input and output coincide, s = d·(n − 1)/(m − 1)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class _CircularPad(_Pad):
    """Wrap around: [a b c d] padded (2, 2) → [c d a b c d a b]."""

    mode = "circular"

    def __init__(self, padding=None):
        super().__init__(padding)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        if x.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(
                f"{type(self).__name__}: expected {self.dims + 1}D or {self.dims + 2}D input"
                f" (got {x.ndim}D input)"
            )
        return FM.pad(x, tuple(self.padding), "circular")  # torch's checks and crop-then-wrap


class CircularPad1d(_CircularPad):
    """Circular padding of the last dim (left, right) of x (N, C, L) or (C, L)."""

    dims = 1


class CircularPad2d(_CircularPad):
    """Circular padding of the last two dims (left, right, top, bottom) of x (N, C, H, W) or
    (C, H, W)."""

    dims = 2


class _LPPool(Module):
    """y = (Σ_window xᵖ)^{1/p} (p = norm_type; p = 1 sum pooling, p = ∞ max pooling)."""

    fn = None

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        f = type(self).fn
        return f(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride},"
            f" ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPool):
    """Power-average pooling over x (N, C, L) or (C, L)."""

    fn = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPool):
    """Power-average pooling over x (N, C, H, W) or (C, H, W)."""

    fn = staticmethod(F.lp_pool2d)


class _AlphaDropout(_DropoutNd):
    """Alpha dropout: dropped units take SELU's saturation value, then an affine map restores
    zero mean and unit variance (see F.alpha_dropout); identity in eval."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        super().__init__(p, inplace)

    def forward(self, input):  # noqa: A002
        x = input
        if self.training and self.p > 0 and not is_grad_enabled():
            check_training_mode_in_no_grad(type(self).__name__)
        # torch's alpha dropout modules pass no inplace on: the flag is kept (repr) but unused
        return type(self).fn(x, self.p, self.training, False)


class AlphaDropout(_AlphaDropout):
    """Alpha dropout of single elements (Klambauer et al. 2017, self-normalising networks)."""

    fn = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_AlphaDropout):
    """Alpha dropout of whole channels of x (N, C, *): one draw per (n, c)."""

    fn = staticmethod(F.feature_alpha_dropout)


__all__ = [
    "AlphaDropout",
    "ChannelShuffle",
    "CircularPad1d",
    "CircularPad2d",
    "FeatureAlphaDropout",
    "LPPool1d",
    "LPPool2d",
    "RReLU",
    "Softmax2d",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]
