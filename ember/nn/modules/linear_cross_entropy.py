"""torch.nn.modules.linear_cross_entropy at torch's path: LinearCrossEntropyLoss (and
LinearCrossEntropyOptions). (Not here: torch's chunking internals _ChunkViews and
_ChunkContext.)"""

from ..linear_cross_entropy import LinearCrossEntropyLoss, LinearCrossEntropyOptions  # noqa: F401

__all__ = []  # as torch's: the package takes these from .loss and .linear_cross_entropy_options
