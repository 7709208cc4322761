"""torch.nn.modules.pooling at torch's path, with torch's bases: _MaxPoolNd, _MaxUnpoolNd,
_AvgPoolNd, _LPPoolNd, _AdaptiveMaxPoolNd and _AdaptiveAvgPoolNd (each of its 1-D, 2-D and
3-D layers; the fractional max pools derive from none, as torch's)."""

from ..conv3d import AdaptiveAvgPool3d, AvgPool3d, MaxPool3d
from ..layers_3d_more import AdaptiveMaxPool3d, LPPool3d, MaxUnpool3d
from ..layers_extra import LPPool1d, LPPool2d
from ..layers_extra import _LPPool as _LPPoolNd  # noqa: F401
from ..layers_fold import AdaptiveMaxPool1d, AdaptiveMaxPool2d
from ..layers_fold import _AdaptiveMaxPool as _AdaptiveMaxPoolNd  # noqa: F401
from ..layers_pool_more import FractionalMaxPool2d, FractionalMaxPool3d
from ..pool import (  # noqa: F401
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool1d,
    MaxUnpool2d,
    _AdaptiveAvgPoolNd,
    _AvgPoolNd,
)
from ..pool import _MaxPool as _MaxPoolNd  # noqa: F401
from ..pool import _MaxUnpool as _MaxUnpoolNd  # noqa: F401

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
]
