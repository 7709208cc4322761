"""torch.nn.modules.module at torch's path: Module, Parameter and the global module hooks."""

from ..module import Module, Parameter  # noqa: F401
from ..module_hooks import (  # noqa: F401
    RemovableHandle,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)
