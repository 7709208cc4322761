"""torch.nn.modules.module at torch's path: Module, Parameter, the global module hooks and
_IncompatibleKeys (what load_state_dict returns). (Not here: torch's deprecated
register_module_backward_hook and its global buffer/module/parameter registration hooks, which
ember lacks.)"""

from ..module import Module, Parameter  # noqa: F401
from ..module_assign import _IncompatibleKeys  # noqa: F401
from ..module_forward_hooks import (  # noqa: F401
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from ..module_hooks import (  # noqa: F401
    RemovableHandle,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)

__all__ = [
    "Module",
    "register_module_forward_hook",
    "register_module_forward_pre_hook",
    "register_module_full_backward_hook",
    "register_module_full_backward_pre_hook",
]
