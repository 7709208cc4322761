"""``ember.nn.functional``: the same module as ``ember.functional``, at torch's path.

Code written ``import torch.nn.functional as F`` reads ``import ember.nn.functional as F``.
Every public name of ember.functional (its ``__all__``) is this module's too.
"""

from ..functional import *  # noqa: F403 - the whole public F, under torch's path
from ..functional import __all__  # noqa: F401
