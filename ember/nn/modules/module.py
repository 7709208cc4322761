"""torch.nn.modules.module at torch's path: Module, Parameter, the global module hooks and
_IncompatibleKeys (what load_state_dict returns), and the global parameter, buffer and module
registration hooks (module_registration.py). (Not here: torch's deprecated
register_module_backward_hook.)"""

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
from ..module_registration import (  # noqa: F401
    register_module_buffer_registration_hook,
    register_module_module_registration_hook,
    register_module_parameter_registration_hook,
)

__all__ = [
    "Module",
    "register_module_forward_hook",
    "register_module_forward_pre_hook",
    "register_module_full_backward_hook",
    "register_module_full_backward_pre_hook",
    "register_module_buffer_registration_hook",
    "register_module_module_registration_hook",
    "register_module_parameter_registration_hook",
]
