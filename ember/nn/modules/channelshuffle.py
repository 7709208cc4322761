"""torch.nn.modules.channelshuffle at torch's path: ChannelShuffle."""

from ..layers_extra import ChannelShuffle

__all__ = ["ChannelShuffle"]
