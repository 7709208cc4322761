"""torch.nn.modules at torch's path: ``ember.nn.modules.module`` (Module and its globals)."""

from . import module  # noqa: F401
