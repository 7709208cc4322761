"""torch.nn.modules.dropout at torch's path, with torch's base _DropoutNd (of every dropout
layer here)."""

from ..conv3d import Dropout3d
from ..dropout import Dropout, _DropoutNd  # noqa: F401
from ..layers_extra import AlphaDropout, FeatureAlphaDropout
from ..layers_more import Dropout1d, Dropout2d

__all__ = ["AlphaDropout", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "FeatureAlphaDropout"]
