"""torch.nn.modules.conv at torch's path, with torch's bases: _ConvNd (every convolution,
transposed ones included), _ConvTransposeNd and _LazyConvXdMixin (the lazy convolutions).

ember's _ConvNd takes a direct convolution's arguments (in_channels, out_channels,
kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype), not
torch's (which has ``transposed`` and ``output_padding`` among them). Not here: torch's
deprecated _ConvTransposeMixin, which no layer derives from.
"""

from ..conv import Conv1d, Conv2d, _ConvNd  # noqa: F401
from ..conv3d import Conv3d
from ..conv_transpose import ConvTranspose1d, ConvTranspose2d, _ConvTransposeNd  # noqa: F401
from ..layers_3d_more import ConvTranspose3d, LazyConv3d, LazyConvTranspose3d
from ..lazy import LazyConv1d, LazyConv2d, LazyConvTranspose1d, LazyConvTranspose2d
from ..lazy import _LazyConvMixin as _LazyConvXdMixin  # noqa: F401

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
]
