"""``ember.utils``: torch's ``torch.utils`` paths; ``ember.utils.data`` is ``ember.data``."""

from . import data  # noqa: F401
