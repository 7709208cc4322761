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

import warnings
from collections import OrderedDict

from .. import backend
from ..tensor import Tensor, as_array
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
        destination[prefix + name] = t  # over what a given destination held, as torch
    if overrides(module, "get_extra_state"):
        destination[prefix + EXTRA] = module.get_extra_state()


def positional_args(args: tuple, destination, prefix: str, keep_vars: bool):
    """``state_dict(destination, prefix, keep_vars)`` given positionally: torch still takes
    them, with a FutureWarning, each only where its keyword was left at its default."""
    warnings.warn(
        "Positional args are being deprecated, use kwargs instead. Refer to"
        " https://pytorch.org/docs/main/generated/torch.nn.Module.html"
        "#torch.nn.Module.state_dict for details.",
        FutureWarning,
        stacklevel=3,
    )
    if destination is None:
        destination = args[0]
    if len(args) > 1 and prefix == "":
        prefix = args[1]
    if len(args) > 2 and keep_vars is False:
        keep_vars = args[2]
    return destination, prefix, keep_vars


def _tensor_like(value) -> bool:
    """What loading copies from: a Tensor or a torch tensor (torch's ``is_tensor_like``), and
    a NumPy (or device) array, which ember takes too; not lists or numbers, which torch
    refuses."""
    return (
        isinstance(value, Tensor)
        or backend.is_host_or_device_array(value)
        or hasattr(type(value), "__torch_function__")
    )


def entry(key: str, value, t, errors: list):
    """``(value, array)``: state-dict entry ``value`` for the module's tensor ``t``, as an
    array of ``t``'s shape; or ``(value, None)`` with torch's message added to ``errors``
    (not a tensor, another shape). As torch, a 1-element 1-d entry fills a 0-d tensor (a
    checkpoint of torch 0.3), and the value then is its element ``value[0]``."""
    if not _tensor_like(value):
        errors.append(
            f'While copying the parameter named "{key}", expected torch.Tensor or'
            f" Tensor-like object from checkpoint but received {type(value)}"
        )
        return value, None
    a = as_array(value)
    if t.ndim == 0 and a.shape == (1,):
        value, a = value[0], a.reshape(())
    if a.shape != t.shape:
        errors.append(_assign.size_mismatch(key, a.shape, t.shape))
        return value, None
    return value, a


def load_own(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
    """The base ``_load_from_state_dict`` (see the module docstring), in torch's steps."""
    for hook in list((module._load_state_dict_pre_hooks or {}).values()):
        hook(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors)
    sizing = getattr(module, "_pre_load_state_dict", None)
    if sizing is not None:  # a lazy layer takes its shapes from the state first
        sizing(state_dict, prefix)
    own = dict(module._own_state())
    arrays, values = {}, {}
    for name, t in own.items():
        key = prefix + name
        if key not in state_dict:
            if strict:
                missing.append(key)
            continue
        value, a = entry(key, state_dict[key], t, errors)
        if a is not None:
            arrays[name], values[name] = a, value
    assign = local_metadata.get("assign_to_params_buffers", False)
    _assign.fill(module, own, arrays, values if assign else None)
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
    if metadata is not None:  # (the root module's hooks see it too)
        state_dict._metadata = metadata
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
