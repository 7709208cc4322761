"""torch's optimizer hooks: step pre/post hooks (per optimizer and global), state_dict and
load_state_dict pre/post hooks, each registration returning a ``RemovableHandle``.

As in torch, ``Optimizer.__init__`` wraps its class's ``step`` once in ``profile_hook_step``:
the wrapper runs the global then the optimizer's pre hooks, ``step``, then the optimizer's then
the global post hooks, all inside a ``record_function("Optimizer.step#<Class>.step")`` range.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from itertools import chain

from ..hooks import RemovableHandle, add_hook
from ..profiler import record_function

#: torch.optim.optimizer's global hooks: run for every optimizer's step
_global_optimizer_pre_hooks: OrderedDict = OrderedDict()
_global_optimizer_post_hooks: OrderedDict = OrderedDict()


def _register(table: OrderedDict, hook, prepend: bool = False) -> RemovableHandle:
    return add_hook(table, hook, prepend)


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """torch.optim.optimizer.register_optimizer_step_pre_hook: ``hook(optimizer, args, kwargs)
    -> None or (new_args, new_kwargs)`` before every optimizer's step, before its own hooks."""
    return _register(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """torch.optim.optimizer.register_optimizer_step_post_hook: ``hook(optimizer, args, kwargs)
    -> None`` after every optimizer's step, after its own post hooks."""
    return _register(_global_optimizer_post_hooks, hook)


class OptimizerHooks:
    """The hook half of torch's Optimizer (mixed into ember's ``Optimizer``)."""

    def _hook_table(self, name: str) -> OrderedDict:
        # created on first use, so a subclass that skips Optimizer.__init__ still works
        table = self.__dict__.get(name)
        if table is None:
            table = self.__dict__[name] = OrderedDict()
        return table

    @staticmethod
    def profile_hook_step(func):
        """torch's wrapper of ``step``: pre hooks (global, then this optimizer's) may return
        ``(new_args, new_kwargs)`` that replace step's arguments (anything else but None is a
        RuntimeError); then ``func``, then post hooks (this optimizer's, then global) with the
        arguments step got. Returns step's result."""

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            self = args[0]
            self._opt_called = True  # torch's mark: a scheduler stepped before it warns
            with record_function(f"Optimizer.step#{type(self).__name__}.step"):
                for pre_hook in chain(
                    _global_optimizer_pre_hooks.values(),
                    self._hook_table("_optimizer_step_pre_hooks").values(),
                ):
                    result = pre_hook(self, args, kwargs)
                    if result is not None:
                        if isinstance(result, tuple) and len(result) == 2:
                            args, kwargs = result
                        else:
                            raise RuntimeError(
                                f"{func} must return None or a tuple of (new_args, new_kwargs),"
                                f" but got {result}."
                            )
                out = func(*args, **kwargs)
                self._optimizer_step_code()
                for post_hook in chain(
                    self._hook_table("_optimizer_step_post_hooks").values(),
                    _global_optimizer_post_hooks.values(),
                ):
                    post_hook(self, args, kwargs)
                return out

        return wrapper

    def _optimizer_step_code(self) -> None:
        """torch's profiler entry point after each step; does nothing."""

    def _patch_step_function(self) -> None:
        """Wrap ``type(self).step`` in ``profile_hook_step`` once (torch patches the class)."""
        cls = type(self)
        if not getattr(cls.step, "hooked", False):
            cls.step = self.profile_hook_step(cls.step)
            cls.step.hooked = True

    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)`` before step()."""
        return _register(self._hook_table("_optimizer_step_pre_hooks"), hook)

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None`` after step()."""
        return _register(self._hook_table("_optimizer_step_post_hooks"), hook)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer) -> None`` at the start of state_dict(); ``prepend`` runs it before
        the hooks already registered."""
        return _register(self._hook_table("_optimizer_state_dict_pre_hooks"), hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict) -> state_dict or None`` at the end of state_dict(): it
        may change the dict in place, or return one that replaces it (for later hooks too)."""
        return _register(self._hook_table("_optimizer_state_dict_post_hooks"), hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict) -> state_dict or None`` before load_state_dict() loads:
        ``state_dict`` is a shallow copy of the one passed; a returned dict is loaded instead."""
        return _register(self._hook_table("_optimizer_load_state_dict_pre_hooks"), hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer) -> None`` after load_state_dict() has loaded."""
        return _register(self._hook_table("_optimizer_load_state_dict_post_hooks"), hook, prepend)

    def _run_state_dict_hooks(self, make):
        for hook in self._hook_table("_optimizer_state_dict_pre_hooks").values():
            hook(self)
        state_dict = make()
        for hook in self._hook_table("_optimizer_state_dict_post_hooks").values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def _run_load_state_dict_pre_hooks(self, state_dict: dict) -> dict:
        state_dict = state_dict.copy()  # shallow, as torch
        for hook in self._hook_table("_optimizer_load_state_dict_pre_hooks").values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def _run_load_state_dict_post_hooks(self) -> None:
        for hook in self._hook_table("_optimizer_load_state_dict_post_hooks").values():
            hook(self)
