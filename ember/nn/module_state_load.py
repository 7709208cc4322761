"""torch's per-module state-dict protocol: ``Module._save_to_state_dict`` and
``Module._load_from_state_dict``, the methods a module overrides to rename, convert or skip its
own entries (a checkpoint of an older layout, a version bump recorded in ``_metadata``).

``state_dict()`` calls ``_save_to_state_dict(destination, prefix, keep_vars)`` on every module
and records ``{"version": module._version}`` under the module's dotted name in
``destination._metadata``. ``load_state_dict()`` walks the modules as torch's ``load`` does:
each module's ``_load_from_state_dict(state_dict, prefix, local_metadata, True, missing_keys,
unexpected_keys, error_msgs)`` (the base one runs the load-state-dict pre-hooks, copies the
module's own tensors, and hands ``set_extra_state`` its entry), then its children, each on the
entries under its own prefix, then the module's post-hooks. ``Module.load_state_dict`` takes
this walk where any module has hooks, extra state or its own ``_load_from_state_dict``;
otherwise it copies all tensors in one pass (module.py's ``_load_tensors``), with the same
result.
"""

from __future__ import annotations

from collections import OrderedDict

from ..tensor import as_array
from . import module_assign as _assign

EXTRA = "_extra_state"


def overrides(module, name: str) -> bool:
    """Whether module's class overrides Module's method ``name`` (torch's test)."""
    from .module import Module

    return getattr(type(module), name) is not getattr(Module, name)


def save_own(module, destination, prefix: str, keep_vars: bool, as_is=None) -> None:
    """The base ``_save_to_state_dict``: the module's parameters and persistent buffers, then
    its extra state where it overrides ``get_extra_state``. As torch's, each entry is the
    tensor detached (same memory, no grad: ``.numpy()`` and in-place edits work on it), or
    with ``keep_vars`` the Parameter or buffer itself; so is any for which ``as_is(t)`` holds
    (a lazy module's uninitialised tensors, which have nothing to detach)."""
    for name, t in module._own_state():
        if t is not None and not keep_vars and not (as_is is not None and as_is(t)):
            t = t.detach()
        destination.setdefault(prefix + name, t)
    if overrides(module, "get_extra_state"):
        destination[prefix + EXTRA] = module.get_extra_state()


def load_own(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
    """The base ``_load_from_state_dict`` (see the module docstring), in torch's steps."""
    for hook in list((module._load_state_dict_pre_hooks or {}).values()):
        hook(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors)
    sizing = getattr(module, "_pre_load_state_dict", None)
    if sizing is not None:  # a lazy layer takes its shapes from the state first
        sizing(state_dict, prefix)
    own = dict(module._own_state())
    arrays = {}
    for name, t in own.items():
        key = prefix + name
        if key not in state_dict:
            if strict:
                missing.append(key)
            continue
        value = state_dict[key]
        try:
            a = as_array(value)
        except (TypeError, ValueError):
            errors.append(
                f'While copying the parameter named "{key}", expected torch.Tensor or'
                f" Tensor-like object from checkpoint but received {type(value)}"
            )
            continue
        if a.shape != t.shape:
            errors.append(_assign.size_mismatch(key, a.shape, t.shape))
            continue
        arrays[name] = a
    assign = local_metadata.get("assign_to_params_buffers", False)
    given = {name: state_dict[prefix + name] for name in arrays} if assign else None
    _assign.fill(module, own, arrays, given)
    extra = prefix + EXTRA
    if overrides(module, "set_extra_state"):
        if extra in state_dict:
            module.set_extra_state(state_dict[extra])
        elif strict:
            missing.append(extra)
    elif strict and extra in state_dict:
        unexpected.append(extra)
    if strict:
        children = {name.split(".", 1)[0] for name, _ in module._members()[1]}
        for key in state_dict:
            if key.startswith(prefix) and key != extra:
                head, *rest = key[len(prefix) :].split(".", 1)
                if (head not in children) if rest else (head not in own):
                    unexpected.append(key)


def load_tree(root, state_dict, strict: bool, assign: bool):
    """Module.load_state_dict by torch's walk: the missing and unexpected keys, or the error."""
    metadata = getattr(state_dict, "_metadata", None)
    state_dict = OrderedDict(state_dict)  # overrides and hooks edit this copy, as torch's
    missing, unexpected, errors = [], [], []
    keys = _assign._IncompatibleKeys(missing, unexpected)

    def load(module, local, prefix: str, path: frozenset) -> None:
        if id(module) in path:  # a module inside itself: cut short, as state_dict does
            return
        path = path | {id(module)}
        local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
        if assign:
            local_metadata["assign_to_params_buffers"] = True
        module._load_from_state_dict(
            local, prefix, local_metadata, True, missing, unexpected, errors
        )
        for name, child in module._members()[1]:
            child_prefix = f"{prefix}{name}."
            part = {k: v for k, v in local.items() if k.startswith(child_prefix)}
            load(child, part, child_prefix, path)
        for hook in list((module._load_state_dict_post_hooks or {}).values()):
            if hook(module, keys) is not None:
                raise AssertionError(
                    "Hooks registered with ``register_load_state_dict_post_hook`` are not"
                    " expected to return new values, if incompatible_keys need to be"
                    " modified, it should be done inplace."
                )

    load(root, state_dict, "", frozenset())
    _assign.raise_errors(root, missing, unexpected, errors, strict)
    return keys
