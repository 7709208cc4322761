"""torch's global registration hooks (torch.nn.modules.module):
``register_module_parameter_registration_hook``, ``..._buffer_...`` and ``..._module_...``.

``hook(module, name, value)`` runs as a module takes a parameter, a buffer or a submodule: by
attribute (``self.weight = Parameter(...)``), ``register_parameter``, ``register_buffer``,
``add_module``, or into a ModuleList, ModuleDict, ParameterList or ParameterDict (named by
index or key); a value it returns takes the given one's place. As in torch, a parameter set to
None runs no hook, a buffer or submodule set to None does.

ember keeps a module's members as plain attributes; ``Module.__setattr__`` is ``assign`` below,
which runs the hooks and torch's checks of what may replace a member.
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


# bound by module.py once its classes exist (this file sits below it)
Parameter = Module = Tensor = None


def assign(module, name: str, value) -> None:
    """``module.name = value`` as torch's Module.__setattr__ takes it: the registration hooks
    run; a Parameter or a Module may replace anything; a registered parameter takes only a
    Parameter or None, a submodule only a Module or None, a buffer only a Tensor or None
    (torch's TypeError: ``m.weight = tensor`` used to turn the parameter into a buffer
    silently); and a Parameter or Module under a name starting with _ is a member, as torch
    registers it (ember's walk skips other private attributes)."""
    if _parameter_hooks or _buffer_hooks or _module_hooks:
        value = registered(module, name, value)
    if value is not None and not isinstance(value, Parameter):
        old = module.__dict__.get(name)
        if old is not None:
            if isinstance(old, Parameter):
                _refuse(value, "parameter", name, "torch.nn.Parameter or None")
            if not isinstance(value, Module):
                if isinstance(old, Module):
                    _refuse(value, "child module", name, "torch.nn.Module or None")
                if (isinstance(old, Tensor) and not isinstance(value, Tensor)
                        and (name[0] != "_" or name in module._underscored)):  # fmt: skip
                    _refuse(value, "buffer", name, "torch.Tensor or None")
    if name[0] == "_" and isinstance(value, (Parameter, Module)):
        if name not in module._underscored:
            object.__setattr__(module, "_underscored", module._underscored | {name})
    object.__setattr__(module, name, value)


def _refuse(value, kind: str, name: str, expected: str):
    raise TypeError(
        f"cannot assign '{type(value).__module__}.{type(value).__name__}' as {kind} '{name}'"
        f" ({expected} expected)"
    )


def forget(module, name: str) -> None:
    """``del module.name``: the name leaves the private and non-persistent sets too, so a
    member registered again under it starts afresh (persistent, as torch's)."""
    object.__delattr__(module, name)
    for kept in ("_non_persistent", "_underscored"):
        names = getattr(module, kept)
        if name in names:
            object.__setattr__(module, kept, names - {name})
