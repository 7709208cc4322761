"""``ember.utils``: torch's ``torch.utils`` paths; ``ember.utils.data`` is ``ember.data``,
``ember.utils.checkpoint`` is activation checkpointing."""

from . import checkpoint, data  # noqa: F401
