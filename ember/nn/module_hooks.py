"""nn.Module's hooks and state-dict machinery beyond forward hooks: backward hooks (their
engine is module_backward_hooks.py), state-dict and load-state-dict hooks, extra state, and
torch's smaller Module methods (get_buffer, set_submodule, to_empty, type, bfloat16,
compile). ``ModuleHooks`` is a base class of ``Module`` (module.py)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from .. import backend
from ..backend import xp
from ..hooks import RemovableHandle, add_hook
from ..tensor import Tensor
from .module_backward_hooks import global_backward_hooks, global_backward_pre_hooks
from .module_state_load import EXTRA, load_own, load_tree, overrides, positional_args, save_own

_add = add_hook  # every module hook table: an ordered dict of id → hook


def _table(module, attr: str) -> dict:
    table = module.__dict__.get(attr)
    if table is None:
        table = {}
        object.__setattr__(module, attr, table)
    return table


def register_module_full_backward_hook(hook) -> RemovableHandle:
    """torch.nn.modules.module.register_module_full_backward_hook: ``hook(module, grad_input,
    grad_output)`` for every module call, before the module's own full backward hooks."""
    return _add(global_backward_hooks, hook)


def register_module_full_backward_pre_hook(hook) -> RemovableHandle:
    """torch's global backward pre-hook: ``hook(module, grad_output)`` for every module."""
    return _add(global_backward_pre_hooks, hook)


class ModuleHooks:
    """The Module methods described in this file's docstring."""

    _backward_hooks: dict | None = None
    _backward_pre_hooks: dict | None = None
    _is_full_backward_hook: bool | None = None
    _state_dict_pre_hooks: dict | None = None
    _state_dict_hooks: dict | None = None
    _load_state_dict_pre_hooks: dict | None = None
    _load_state_dict_post_hooks: dict | None = None
    _version: int = 1

    # ------------------------------------------------------------ backward hooks
    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """torch's: ``hook(module, grad_input, grad_output)`` once the gradients with respect
        to the module's inputs are computed; it may return a new ``grad_input`` tuple, which
        then flows to the inputs. Both are tuples over the positional arguments (outputs),
        None where there is no tensor or no gradient (module_backward_hooks.py says more).
        Global hooks run first; ``prepend`` puts this hook before the module's others."""
        if self._is_full_backward_hook is False:
            raise RuntimeError(
                "Cannot use both regular backward hooks and full backward hooks on a single"
                " Module. Please use only one of them."
            )
        object.__setattr__(self, "_is_full_backward_hook", True)
        return _add(_table(self, "_backward_hooks"), hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """torch's: ``hook(module, grad_output)`` when the gradients with respect to the
        module's outputs are computed, before the full backward hooks; it may return a new
        ``grad_output`` tuple, which then flows on through the module."""
        return _add(_table(self, "_backward_pre_hooks"), hook, prepend)

    def register_backward_hook(self, hook) -> RemovableHandle:
        """Deprecated in torch in favour of register_full_backward_hook: ``hook(module,
        grad_input, grad_output)`` on the node of the module's last operation, so
        ``grad_input`` is that operation's input gradients, not the module's."""
        if self._is_full_backward_hook is True:
            raise RuntimeError(
                "Cannot use both regular backward hooks and full backward hooks on a single"
                " Module. Please use only one of them."
            )
        object.__setattr__(self, "_is_full_backward_hook", False)
        return _add(_table(self, "_backward_hooks"), hook)

    # ------------------------------------------------------------ state-dict hooks
    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """torch's: ``hook(module, prefix, keep_vars)`` before this module's entries are
        written by ``state_dict()`` (on every call that reaches this module)."""
        return _add(_table(self, "_state_dict_pre_hooks"), hook)

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        """torch's: ``hook(module, state_dict, prefix, local_metadata)`` after this module and
        its children have written their entries; it may edit ``state_dict`` in place and
        must return None (torch raises otherwise)."""
        return _add(_table(self, "_state_dict_hooks"), hook)

    def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """torch's: ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before ``load_state_dict`` loads anything; it may edit
        the state dict (a copy of the one given), or append to the lists. As in torch,
        ``strict`` is passed as True; messages in ``error_msgs`` make loading fail."""
        return _add(_table(self, "_load_state_dict_pre_hooks"), hook)

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        """torch's: ``hook(module, incompatible_keys)`` after ``load_state_dict`` has loaded
        this module and its children; it may edit ``incompatible_keys.missing_keys`` and
        ``.unexpected_keys`` in place (a strict load checks them afterwards) and must
        return None."""
        return _add(_table(self, "_load_state_dict_post_hooks"), hook)

    # ------------------------------------------------------------ extra state
    def get_extra_state(self):
        """torch's: a module that overrides this has its return value saved under
        ``"<prefix>_extra_state"`` by ``state_dict()``; the base raises, as torch's."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called."
        )

    def set_extra_state(self, state) -> None:
        """torch's: given the ``"_extra_state"`` entry by ``load_state_dict`` in a module
        that overrides it; the base raises, as torch's."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called."
        )

    # ------------------------------------------------------------ state_dict / load
    def _tensor_state(self) -> OrderedDict:
        """state_dict's tensors alone: no hooks, no extra state (what loading fills)."""
        out = OrderedDict()
        for prefix, m in self.named_modules(remove_duplicate=False):  # a shared module: twice
            for name, t in m._own_state():
                out.setdefault(f"{prefix}.{name}" if prefix else name, t)
        return out

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """Every parameter and persistent buffer by dotted name (the arrays are shared), and
        the ``_extra_state`` of modules that override ``get_extra_state``, in torch's order.
        State-dict pre-hooks run before a module's entries, post-hooks after its
        children's; ``prefix`` starts every key, ``destination`` is filled and returned.
        Entries are detached tensors sharing the parameters' memory (torch's), or with
        ``keep_vars`` the Parameters and buffers themselves (the hooks get it too). The
        three may come positionally, deprecated with a FutureWarning, as torch's."""
        if args:
            destination, prefix, keep_vars = positional_args(args, destination, prefix, keep_vars)
        if destination is None:
            out = OrderedDict()
            out._metadata = OrderedDict()
        else:
            out = destination
        self._write_state(out, prefix, keep_vars, frozenset())
        return out

    def _write_state(self, out, prefix: str, keep_vars: bool, path: frozenset) -> None:
        # a module reached under several names is written under each, as torch (only a module
        # inside itself is cut short)
        if id(self) in path:
            return
        path = path | {id(self)}
        local_metadata = {"version": self._version}
        if hasattr(out, "_metadata"):  # torch's record of each module's _version
            out._metadata[prefix[:-1]] = local_metadata
        for hook in list((self._state_dict_pre_hooks or {}).values()):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(out, prefix, keep_vars)
        for name, child in self._members()[1]:
            if overrides(child, "state_dict"):  # torch asks each child for its state_dict
                child.state_dict(destination=out, prefix=f"{prefix}{name}.", keep_vars=keep_vars)
            else:
                child._write_state(out, f"{prefix}{name}.", keep_vars, path)
        for hook in list((self._state_dict_hooks or {}).values()):
            if hook(self, out, prefix, local_metadata) is not None:
                raise RuntimeError("state_dict post-hook must return None")

    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        """torch's: write this module's own entries (parameters, persistent buffers, extra
        state; not its children's) into ``destination`` under ``prefix``. Override it to
        change what a module saves (module_state_load.py)."""
        save_own(self, destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list, unexpected_keys: list,
                              error_msgs: list) -> None:  # fmt: skip
        """torch's: load this module's own entries from ``state_dict`` (the pre-hooks first),
        appending to the three lists; ``local_metadata`` holds the saved ``version``. Override
        it to read an older layout, then call this one (module_state_load.py)."""
        load_own(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs)  # fmt: skip

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values into this module's tensors in place (ember Tensors, NumPy arrays or
        torch tensors), as torch's: load-state-dict pre-hooks first, ``set_extra_state`` for
        modules that override it, then the post-hooks (children before parents). With
        ``strict`` missing or unexpected keys are an error; wrong shapes always are. With
        ``assign`` the state dict's tensors become the module's own (their dtype and memory
        kept, a parameter keeping the module's requires_grad), as torch's."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        modules = list(self.named_modules())
        if not any(
            m._load_state_dict_pre_hooks
            or m._load_state_dict_post_hooks
            or overrides(m, "set_extra_state")
            or overrides(m, "get_extra_state")
            or overrides(m, "_load_from_state_dict")
            for _, m in modules
        ) and not any(k == EXTRA or k.endswith("." + EXTRA) for k in state_dict):
            return self._load_tensors(state_dict, strict, assign)
        return load_tree(self, state_dict, strict, assign)

    # ------------------------------------------------------------ smaller methods
    def share_memory(self):
        """torch's Module.share_memory: every parameter and buffer into shared memory
        (Tensor.share_memory_), so processes forked afterwards train the same weights
        (Hogwild); gradients stay private. Returns self."""
        for t in [*self.parameters(), *self.buffers()]:
            t.share_memory_()
        return self

    def get_submodule(self, target: str):
        """The submodule at dotted path ``target`` ("" is self), as torch's."""
        m, parts, i = self, target.split(".") if target else [], 0
        while i < len(parts):
            children = dict(m._members()[1])
            # a module in a list attribute is named "attr.i": one step may take two parts
            for take in (1, 2):
                key = ".".join(parts[i : i + take])
                if key in children:
                    m, i = children[key], i + take
                    break
            else:
                where = ".".join(parts[:i]) or type(self).__name__
                raise AttributeError(
                    f"get_submodule({target!r}): {where} has no submodule {parts[i]!r}"
                )
        return m

    def _owners_along(self, target: str):
        """(submodule, the rest of the path's parts) for each module prefix of dotted
        ``target`` that names a submodule, the longest prefix first."""
        parts = target.split(".")
        for k in range(len(parts) - 1, -1, -1):
            try:
                owner = self.get_submodule(".".join(parts[:k]))
            except AttributeError:
                continue
            yield owner, parts[k:]

    def get_parameter(self, target: str):
        """The parameter at dotted path ``target`` ("fc.weight"), as torch's."""
        from .module import Parameter

        for m, rest in self._owners_along(target):
            name = ".".join(rest)
            p = dict(m._members()[0]).get(name)
            # as torch: neither a plain tensor swapped in nor a Parameter in a buffer's place
            if isinstance(p, Parameter) and isinstance(m._listed_as(name, p), Parameter):
                return p
        raise AttributeError(f"get_parameter({target!r}): no parameter at that path")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target`` ("bn.running_mean"), as torch's."""
        path, _, name = target.rpartition(".")
        m = self.get_submodule(path)
        t = dict(m._members()[0]).get(name)
        if t is None:
            raise AttributeError(f"{type(m).__name__} has no attribute `{name}`")
        from .module import Parameter

        if isinstance(m._listed_as(name, t), (Parameter, type(None))):
            raise AttributeError(f"`{name}` is not a buffer")
        return t

    def set_submodule(self, target: str, module, strict: bool = False) -> None:
        """torch's: put ``module`` at dotted path ``target``, replacing a submodule there or,
        unless ``strict``, adding a new one to the existing parent."""
        from .module import Module

        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        atoms = target.split(".")
        parent, name = self.get_submodule(".".join(atoms[:-1])), atoms[-1]
        container = None
        if len(atoms) > 1 and name.isdigit() or (len(atoms) > 1 and not hasattr(parent, name)):
            try:  # "layers.0": an element of a list (or dict) attribute, as ember names them
                grand = self.get_submodule(".".join(atoms[:-2]))
                container = getattr(grand, atoms[-2])
            except AttributeError:
                container = None
            if not isinstance(container, (list, dict)):
                container = None
        if container is not None:
            key = int(name) if isinstance(container, list) else name
            container[key] = module
            return
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def to_empty(self, *, device, recurse: bool = True):
        """torch's: parameters and buffers (of submodules too, with ``recurse``) given new,
        uninitialised storage on ``device`` (checked; the process has one), each keeping its
        identity."""
        if device is not None:
            backend.check_device(device)
        for t in [*self.parameters(recurse=recurse), *self.buffers(recurse=recurse)]:
            t.array = xp.empty_like(t.array)
        return self

    def type(self, dst_type):
        """torch's: cast every parameter and buffer (integer ones too) to ``dst_type`` (a
        dtype or a type name such as "torch.DoubleTensor"), in place; returns self."""
        for t in [*self.parameters(), *self.buffers()]:
            t.array = t.type(dst_type).array
            if t.grad is not None:
                t.grad = Tensor(t.grad.type(dst_type).array)
        return self

    def bfloat16(self):
        """torch casts floating parameters and buffers to bfloat16; NumPy has no bfloat16, so
        ember refuses with a TypeError (float16 is ``half()``, float32 ``float()``)."""
        raise TypeError(
            "Module.bfloat16(): ember runs on NumPy, which has no bfloat16 dtype; use"
            " .half() (float16) or .float() (float32) instead"
        )

    def compile(self, *args, **kwargs) -> None:
        """torch compiles the module's forward in place with torch.compile and returns None.
        Ember has no compiler (``ember.compile`` hands models back unchanged), so this
        accepts torch's arguments, changes nothing, and returns None."""
        return None
