"""ember.nn.parallel — torch.nn.parallel's names: ``DistributedDataParallel`` (one process per
replica, gradients averaged through ember.distributed) and ``DataParallel`` (one process on
one device runs the module as it is; see nn/layers_compat.py)."""

from ..layers_compat import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
