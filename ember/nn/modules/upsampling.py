"""torch.nn.modules.upsampling at torch's path: Upsample, UpsamplingNearest2d and
UpsamplingBilinear2d."""

from ..layers_extra import UpsamplingBilinear2d, UpsamplingNearest2d
from ..layers_more import Upsample

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]
