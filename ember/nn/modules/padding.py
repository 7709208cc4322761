"""torch.nn.modules.padding at torch's path, with torch's bases: _ConstantPadNd (the constant
and zero pads; ZeroPadNd is a ConstantPadNd), _ReflectionPadNd, _ReplicationPadNd and
_CircularPadNd."""

from ..conv3d import ConstantPad3d, ReflectionPad3d, ReplicationPad3d, ZeroPad3d
from ..layers_3d_more import CircularPad3d
from ..layers_extra import CircularPad1d, CircularPad2d
from ..layers_extra import _CircularPad as _CircularPadNd  # noqa: F401
from ..layers_more import (  # noqa: F401
    ConstantPad1d,
    ConstantPad2d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReplicationPad1d,
    ReplicationPad2d,
    ZeroPad1d,
    ZeroPad2d,
    _ConstantPadNd,
    _ReflectionPadNd,
    _ReplicationPadNd,
)

__all__ = [
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]
