"""``ember.utils.data``: ember.data's datasets and loader at torch's path (torch.utils.data).

``from ember.utils.data import DataLoader, TensorDataset`` reads as it does in PyTorch; the
classes are ember.data's own (one implementation, two paths). ``ember.utils.data.distributed``
is torch.utils.data.distributed (``DistributedSampler``).
"""

import sys

from ..data import *  # noqa: F403
from ..data import __all__  # noqa: F401
from ..data import distributed_sampler as distributed

sys.modules[__name__ + ".distributed"] = distributed
