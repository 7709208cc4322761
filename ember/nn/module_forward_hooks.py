"""nn.Module's forward hooks as torch runs them (``Module._call_impl``): pre-hooks that may
replace the inputs, hooks that may replace the output, each optionally seeing the keyword
arguments (``with_kwargs``), hooks that run even when forward raises (``always_call``), and
the global tables of ``torch.nn.modules.module.register_module_forward_(pre_)hook``, whose
hooks run before every module's own. ``ModuleForwardHooks`` is a base class of ``Module``."""

from __future__ import annotations

import warnings

from ..hooks import RemovableHandle, add_hook
from .module_hooks import _table

#: torch.nn.modules.module's global forward tables: id → hook, and the ids with options
global_forward_pre_hooks: dict = {}
global_forward_hooks: dict = {}
global_forward_hooks_with_kwargs: dict = {}
global_forward_hooks_always_called: dict = {}


def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """torch's global forward pre-hook: ``hook(module, args)`` before every module's forward
    (before the module's own pre-hooks); a result that is not None replaces ``args`` (a
    single value is wrapped in a tuple)."""
    return add_hook(global_forward_pre_hooks, hook)


def register_module_forward_hook(
    hook, *, with_kwargs: bool = False, always_call: bool = False
) -> RemovableHandle:
    """torch's global forward hook: ``hook(module, args, output)`` (``hook(module, args,
    kwargs, output)`` with ``with_kwargs``) after every module's forward, before the module's
    own hooks; a result that is not None replaces the output."""
    return _add_flagged(
        global_forward_hooks,
        hook,
        False,
        (global_forward_hooks_with_kwargs, with_kwargs),
        (global_forward_hooks_always_called, always_call),
    )


def _add_flagged(table: dict, hook, prepend: bool, *flags) -> RemovableHandle:
    """add_hook, plus the hook's id in each (flag table, wanted) pair's table where wanted;
    removing the handle takes it out of those too."""
    handle = add_hook(table, hook, prepend)
    for flag_table, wanted in flags:
        if wanted:
            flag_table[handle.id] = True
        handle.extra_tables.append(flag_table)
    return handle


def _pre_hook_result(result, args: tuple, kwargs: dict, with_kwargs: bool):
    """(args, kwargs) after a pre-hook that returned ``result``, with torch's rules."""
    if result is None:
        return args, kwargs
    if with_kwargs:
        if isinstance(result, tuple) and len(result) == 2:
            return result
        raise RuntimeError(
            "forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
            f"but got {result}."
        )
    return (result if isinstance(result, tuple) else (result,)), kwargs


class ModuleForwardHooks:
    """The forward-hook methods of Module (this file's docstring)."""

    _forward_hooks: dict | None = None
    _forward_pre_hooks: dict | None = None
    _forward_hooks_with_kwargs: dict | None = None
    _forward_hooks_always_called: dict | None = None
    _forward_pre_hooks_with_kwargs: dict | None = None

    def register_forward_pre_hook(
        self, hook, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """torch's: ``hook(module, args)`` before every forward; a result that is not None
        replaces the positional inputs (a single value becomes a 1-tuple). With
        ``with_kwargs``, ``hook(module, args, kwargs)`` returns None or ``(args, kwargs)``.
        Global pre-hooks run first; ``prepend`` puts this one before the module's others."""
        return _add_flagged(
            _table(self, "_forward_pre_hooks"),
            hook,
            prepend,
            (_table(self, "_forward_pre_hooks_with_kwargs"), with_kwargs),
        )

    def register_forward_hook(
        self, hook, *, prepend: bool = False, with_kwargs: bool = False, always_call: bool = False
    ) -> RemovableHandle:
        """torch's: ``hook(module, args, output)`` after every forward (``hook(module, args,
        kwargs, output)`` with ``with_kwargs``); a result that is not None replaces the
        output. With ``always_call`` the hook also runs, with output None, when forward
        raises (its own errors are then only warned about, and forward's error propagates)."""
        return _add_flagged(
            _table(self, "_forward_hooks"),
            hook,
            prepend,
            (_table(self, "_forward_hooks_with_kwargs"), with_kwargs),
            (_table(self, "_forward_hooks_always_called"), always_call),
        )

    def _forward_hooked(self, args: tuple, kwargs: dict, bw=None):
        """forward between the forward pre-hooks and the forward hooks; ``bw``
        (module_backward_hooks.BackwardHook) wraps the inputs after the pre-hooks and the
        output after the hooks."""
        pre = self._forward_pre_hooks
        if global_forward_pre_hooks or pre:
            with_kwargs = self._forward_pre_hooks_with_kwargs or {}
            for hook_id, hook in [*global_forward_pre_hooks.items(), *(pre or {}).items()]:
                kw = hook_id in with_kwargs
                result = hook(self, args, kwargs) if kw else hook(self, args)
                args, kwargs = _pre_hook_result(result, args, kwargs, kw)
        if bw is not None:
            args = bw.setup_input_hook(args)
        if not (global_forward_hooks or self._forward_hooks):
            out = self.forward(*args, **kwargs)
            return out if bw is None else bw.setup_output_hook(out)
        called: set = set()
        out = None
        try:
            out = self.forward(*args, **kwargs)
            for hook_id, hook, kw, always in list(
                self._post_hooks()
            ):  # hooks may remove themselves
                if always:
                    called.add(hook_id)
                result = hook(self, args, kwargs, out) if kw else hook(self, args, out)
                if result is not None:
                    out = result
        except Exception:
            self._always_called_after_error(args, kwargs, out, called)
            raise
        return out if bw is None else bw.setup_output_hook(out)

    def _post_hooks(self):
        """(id, hook, with_kwargs, always_call) of the global forward hooks, then the module's."""
        own_kw = self._forward_hooks_with_kwargs or {}
        own_always = self._forward_hooks_always_called or {}
        for hook_id, hook in global_forward_hooks.items():
            yield (
                hook_id,
                hook,
                hook_id in global_forward_hooks_with_kwargs,
                hook_id in global_forward_hooks_always_called,
            )
        for hook_id, hook in (self._forward_hooks or {}).items():
            yield hook_id, hook, hook_id in own_kw, hook_id in own_always

    def _always_called_after_error(self, args, kwargs, out, called: set) -> None:
        """torch's except branch: the ``always_call`` hooks not yet run get their turn; an
        error of theirs is a warning, so forward's own error is the one raised."""
        for hook_id, hook, kw, always in list(self._post_hooks()):
            if not always or hook_id in called:
                continue
            where = "global module" if hook_id in global_forward_hooks else "module"
            try:
                result = hook(self, args, kwargs, out) if kw else hook(self, args, out)
                if result is not None:
                    out = result
            except Exception as e:  # noqa: BLE001 - torch silences it into a warning too
                warnings.warn(
                    f"{where} forward hook with ``always_call=True`` raised an exception that"
                    f" was silenced as another error was raised in forward: {e}",
                    stacklevel=2,
                )
