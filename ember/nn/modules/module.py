"""torch.nn.modules.module at torch's path: Module, Parameter and the global module hooks."""

from ..module import Module, Parameter  # noqa: F401
from ..module_forward_hooks import (  # noqa: F401
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from ..module_hooks import (  # noqa: F401
    RemovableHandle,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)
