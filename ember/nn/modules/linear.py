"""torch.nn.modules.linear at torch's path: Identity, Linear, Bilinear, LazyLinear and
NonDynamicallyQuantizableLinear (MultiheadAttention's out_proj)."""

from ..layers_more import Bilinear
from ..lazy import LazyLinear
from ..linear import Identity, Linear, NonDynamicallyQuantizableLinear  # noqa: F401

__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear"]  # torch's (the marker class is not)
