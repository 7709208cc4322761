"""torch.utils.hooks' ``RemovableHandle`` and the one way ember keeps hooks in a table: every
``register_*_hook`` of modules and optimizers puts the hook in an ordered dict under a fresh
id and returns the handle that takes it out again (``remove()``, or leaving a ``with``
block). Tensor hooks (tensor_autograd.py) keep their own list and handle."""

from __future__ import annotations

import itertools

_ids = itertools.count(1)


class RemovableHandle:
    """What a hook registration returns: ``remove()`` takes the hook out of its table (once;
    again is harmless); ``id`` is its key there; also a context manager that removes it on
    exit."""

    def __init__(self, table: dict) -> None:
        self.table, self.id = table, next(_ids)
        self.extra_tables: list[dict] = []  # the hook's option flags, keyed by the same id

    def remove(self) -> None:
        self.table.pop(self.id, None)
        for extra in self.extra_tables:
            extra.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(table: dict, hook, prepend: bool = False) -> RemovableHandle:
    """Put ``hook`` in ``table`` (last, or first with ``prepend``, torch's order of calls)."""
    handle = RemovableHandle(table)
    if prepend:
        rest = list(table.items())
        table.clear()
        table[handle.id] = hook
        table.update(rest)
    else:
        table[handle.id] = hook
    return handle
