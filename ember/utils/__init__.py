"""``ember.utils``: torch's ``torch.utils`` paths; ``ember.utils.data`` is ``ember.data``,
``ember.utils.checkpoint`` is activation checkpointing, ``ember.utils.hooks`` is ember.hooks
(``RemovableHandle``)."""

import sys

from .. import hooks
from . import checkpoint, data  # noqa: F401

sys.modules[__name__ + ".hooks"] = hooks  # from ember.utils.hooks import RemovableHandle
