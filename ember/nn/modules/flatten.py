"""torch.nn.modules.flatten at torch's path: Flatten and Unflatten."""

from ..layers_more import Unflatten
from ..linear import Flatten

__all__ = ["Flatten", "Unflatten"]
