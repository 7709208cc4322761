"""``ember.utils.data``: ember.data's datasets and loader at torch's path (torch.utils.data).

``from ember.utils.data import DataLoader, TensorDataset`` reads as it does in PyTorch; the
classes are ember.data's own (one implementation, two paths).
"""

from ..data import *  # noqa: F403
from ..data import __all__  # noqa: F401
