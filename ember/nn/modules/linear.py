"""torch.nn.modules.linear at torch's path: Identity, Linear, Bilinear, LazyLinear. (Not here:
torch's NonDynamicallyQuantizableLinear, a Linear marked for its quantization tooling.)"""

from ..layers_more import Bilinear
from ..lazy import LazyLinear
from ..linear import Identity, Linear

__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear"]
