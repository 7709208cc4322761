"""torch's global registration hooks (torch.nn.modules.module):
``register_module_parameter_registration_hook``, ``..._buffer_...`` and ``..._module_...``.

``hook(module, name, value)`` runs as a module takes a parameter, a buffer or a submodule: by
attribute (``self.weight = Parameter(...)``), ``register_parameter``, ``register_buffer``,
``add_module``, or into a ModuleList, ModuleDict, ParameterList or ParameterDict (named by
index or key); a value it returns takes the given one's place. As in torch, a parameter set to
None runs no hook, a buffer or submodule set to None does.

ember keeps a module's members as plain attributes, so the hooks need a ``Module.__setattr__``,
which is installed when the first hook is registered: until then assigning an attribute costs
what it always did.
"""

from __future__ import annotations

from ..hooks import RemovableHandle, add_hook

_parameter_hooks: dict = {}
_buffer_hooks: dict = {}
_module_hooks: dict = {}
_TABLES = {"parameter": _parameter_hooks, "buffer": _buffer_hooks, "module": _module_hooks}


def register_module_parameter_registration_hook(hook) -> RemovableHandle:
    """torch's: ``hook(module, name, param)`` for every parameter a module takes."""
    return _register(_parameter_hooks, hook)


def register_module_buffer_registration_hook(hook) -> RemovableHandle:
    """torch's: ``hook(module, name, buffer)`` for every buffer a module takes."""
    return _register(_buffer_hooks, hook)


def register_module_module_registration_hook(hook) -> RemovableHandle:
    """torch's: ``hook(module, name, submodule)`` for every submodule a module takes."""
    return _register(_module_hooks, hook)


def _register(table: dict, hook) -> RemovableHandle:
    from .module import Module

    if Module.__dict__.get("__setattr__") is not _setattr_with_hooks:
        Module.__setattr__ = _setattr_with_hooks
    return add_hook(table, hook)


def registered(module, name: str, value, kind: str | None = None):
    """``value`` as the registration hooks of its kind leave it (itself where there are none):
    the parameter, buffer or submodule ``module`` takes under ``name``."""
    if not (_parameter_hooks or _buffer_hooks or _module_hooks):
        return value
    if kind == "parameter" and value is None:  # as torch: no hook for a parameter set to None
        return value
    table = _TABLES.get(kind or _kind(module, name, value))
    for hook in list((table or {}).values()):
        out = hook(module, name, value)
        if out is not None:
            value = out
    return value


def _kind(module, name: str, value) -> str | None:
    from ..tensor import Tensor
    from .module import Module, Parameter

    if value is None:  # what the name held says which (a parameter set to None: no hook)
        value = module.__dict__.get(name)
        if isinstance(value, Parameter) or value is None:
            return None
    if isinstance(value, Parameter):
        return "parameter"
    if isinstance(value, Module):
        return "module"
    if isinstance(value, Tensor) and (not name.startswith("_") or name in module._underscored):
        return "buffer"  # ember keeps every public tensor attribute as a buffer
    return None


def _setattr_with_hooks(self, name: str, value) -> None:
    object.__setattr__(self, name, registered(self, name, value))
