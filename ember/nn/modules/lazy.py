"""torch.nn.modules.lazy at torch's path: LazyModuleMixin. (Not here: torch's _LazyProtocol,
a typing Protocol for its type checker.)"""

from ..lazy import LazyModuleMixin

__all__ = ["LazyModuleMixin"]
