"""torch.nn.modules.pixelshuffle at torch's path: PixelShuffle and PixelUnshuffle."""

from ..layers_more import PixelShuffle, PixelUnshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle"]
