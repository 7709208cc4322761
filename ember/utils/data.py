"""``ember.utils.data``: ember.data's datasets and loader at torch's path (torch.utils.data).

``from ember.utils.data import DataLoader, TensorDataset`` reads as it does in PyTorch; the
classes are ember.data's own (one implementation, two paths). ``ember.utils.data.distributed``
is torch.utils.data.distributed (``DistributedSampler``); ``.dataloader``, ``.dataset`` and
``.sampler`` are ember.data's files at torch's paths.
"""

import sys

from .. import data as _data
from ..data import *  # noqa: F403
from ..data import __all__  # noqa: F401
from ..data import distributed_sampler as distributed
from ..module_paths import register

#: torch.utils.data's files and the names each defines (ember.data holds them all)
_FILES = {
    "dataset": ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
                "ChainDataset", "Subset", "random_split"],
    "dataloader": ["DataLoader", "get_worker_info", "default_collate", "default_convert"],
    "sampler": ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
                "SubsetRandomSampler", "WeightedRandomSampler"],
}  # fmt: skip

_here = sys.modules[__name__]
register(_here, "distributed", distributed)
for _file, _names in _FILES.items():
    register(_here, _file, {n: getattr(_data, n) for n in _names})
