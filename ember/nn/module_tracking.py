"""Module tracking: which modules' forwards are running, for diagnostics that name the layer
an op sits in (anomaly detection, activation capture).

While tracking is on, ``Module.__call__`` is swapped for a version that pushes the module on
``module_stack`` around its call; off, a module call costs exactly what it always did.
"""

from __future__ import annotations

import contextlib

from .module import Module

#: The modules whose forward is running, outermost first. Kept up to date only while
#: tracking is on (anomaly detection and activation capture name the layer an op sits in).
module_stack: list[Module] = []
_tracking_depth = 0
_plain_call = Module.__call__


def _tracked_call(self, *args, **kwargs):
    module_stack.append(self)
    try:
        return _plain_call(self, *args, **kwargs)
    finally:
        module_stack.pop()


def start_tracking() -> None:
    """Swap ``Module.__call__`` for the version that maintains ``module_stack`` (nested
    starts count); outside tracking a module call costs exactly what it always did."""
    global _tracking_depth
    if _tracking_depth == 0:
        Module.__call__ = _tracked_call
    _tracking_depth += 1


def stop_tracking() -> None:
    """Undo one ``start_tracking``; the last one puts the plain ``__call__`` back. Calls
    already running keep popping their own entries, so stopping mid-forward is safe."""
    global _tracking_depth
    if _tracking_depth == 0:
        raise RuntimeError("stop_tracking() without a matching start_tracking()")
    _tracking_depth -= 1
    if _tracking_depth == 0:
        Module.__call__ = _plain_call


@contextlib.contextmanager
def track_modules():
    """Maintain ``module_stack`` inside the block."""
    start_tracking()
    try:
        yield module_stack
    finally:
        stop_tracking()


class ModulePaths:
    """torch's names of the running modules (torch.utils.module_tracker's and the flop
    counter's): the outermost module by its class ("Net"), a submodule by the attributes
    below it ("Net.b.0"), found by asking each parent for the child, remembered by identity."""

    def __init__(self) -> None:
        self._names: dict[int, str] = {}

    def clear(self) -> None:
        self._names.clear()

    def current(self) -> tuple[str, ...]:
        """The names of the modules in ``module_stack``, outermost first."""
        names, parent = [], None
        for m in module_stack:
            name = self._names.get(id(m)) if parent is not None else None
            if name is None:
                name = self._child_name(parent, m, names[-1] if names else None)
            names.append(name)
            parent = m
        return tuple(names)

    def _child_name(self, parent, m, parent_name) -> str:
        if parent is not None:
            for attr, child in parent.named_children():
                if child is m:
                    name = f"{parent_name}.{attr}"
                    self._names[id(m)] = name
                    return name
        return type(m).__name__


class ModuleObserver:
    """A block inside which ``module_stack`` is kept and every op is reported to ``self``
    (``function.observers``): the base of the flop counter and the module tracker, which name
    the running modules through ``self._paths`` (a ModulePaths)."""

    _paths: ModulePaths

    def __enter__(self):
        from ..function import observers

        self._paths.clear()
        start_tracking()
        observers.append(self)
        return self

    def __exit__(self, *exc) -> None:
        from ..function import observers

        observers.remove(self)
        stop_tracking()
