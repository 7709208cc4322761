"""torch.nn.modules.linear_cross_entropy_options at torch's path: LinearCrossEntropyOptions.
(Not here: torch's _AutoDefault sentinel.)"""

from ..linear_cross_entropy import LinearCrossEntropyOptions

__all__ = ["LinearCrossEntropyOptions"]
