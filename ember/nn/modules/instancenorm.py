"""torch.nn.modules.instancenorm at torch's path, with torch's base _InstanceNorm (of
InstanceNorm1d/2d/3d and their lazy forms)."""

from ..conv3d import InstanceNorm3d
from ..layers_3d_more import LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d
from ..layers_more import InstanceNorm1d, InstanceNorm2d, _InstanceNorm  # noqa: F401

__all__ = [
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
]
