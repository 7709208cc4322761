"""torch.nn.modules.batchnorm at torch's path, with torch's bases: _NormBase (batch and
instance norm), _BatchNorm (BatchNorm1d/2d/3d, their lazy forms, SyncBatchNorm) and
_LazyNormBase (the lazy batch and instance norms)."""

from ..conv3d import BatchNorm3d
from ..layers_3d_more import LazyBatchNorm3d
from ..lazy import LazyBatchNorm1d, LazyBatchNorm2d, _LazyNormBase  # noqa: F401
from ..normalization import BatchNorm1d, BatchNorm2d, _BatchNorm, _NormBase  # noqa: F401
from ..sync_batchnorm import SyncBatchNorm

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "SyncBatchNorm",
]
