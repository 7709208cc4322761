"""Sequential, ModuleList, ModuleDict."""

from __future__ import annotations

from collections import OrderedDict

from .module import Module
from .module_registration import registered


class Sequential(Module):
    """Apply modules in order: y = f_n(…f_2(f_1(x)))."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            items = list(modules[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, m in items:
            setattr(self, name, m)

    def _mods(self):
        # straight from the attributes: the same module may stand twice and then runs twice
        return [v for k, v in vars(self).items() if isinstance(v, Module) and not k.startswith("_")]

    def __getitem__(self, i):
        mods = self._mods()
        if isinstance(i, slice):
            return Sequential(*mods[i])
        return mods[i]

    def __len__(self):
        return len(self._mods())

    def __iter__(self):
        return iter(self._mods())

    def append(self, module: Module) -> Sequential:
        setattr(self, str(len(self)), module)
        return self

    def forward(self, x):
        for m in self._mods():
            x = m(x)
        return x


class ModuleList(Module):
    """A list of modules whose parameters are found (names 0, 1, …)."""

    def __init__(self, modules=()):
        super().__init__()
        self.items = [registered(self, str(i), m, "module") for i, m in enumerate(modules)]

    def _members(self):
        tensors, _ = super()._members()
        return tensors, [(str(i), m) for i, m in enumerate(self.items)]

    def __getitem__(self, i):
        return ModuleList(self.items[i]) if isinstance(i, slice) else self.items[i]

    def __setitem__(self, i, m):
        self.items[i] = registered(self, str(i % len(self.items)), m, "module")

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def append(self, m: Module) -> ModuleList:
        self.items.append(registered(self, str(len(self.items)), m, "module"))
        return self

    def extend(self, ms) -> ModuleList:
        for m in ms:
            self.append(m)
        return self

    def insert(self, i: int, m: Module) -> None:
        self.items.insert(i, m)

    def __repr__(self) -> str:
        """torch's: runs of neighbours with the same repr shown once, as
        ``(0-5): 6 x TransformerEncoderLayer(...)``."""
        if not self.items:
            return "ModuleList()"
        runs: list[list] = []  # [first index, last index, repr]
        for i, m in enumerate(self.items):
            r = repr(m)
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [
            (f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x ") + r.replace("\n", "\n  ")
            for a, b, r in runs
        ]
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules whose parameters are found (names are the keys)."""

    def __init__(self, modules=None):
        super().__init__()
        self.items_ = {}
        items = (modules or {}).items() if hasattr(modules or {}, "items") else modules
        for k, m in items:
            self[k] = m

    def _members(self):
        tensors, _ = super()._members()
        return tensors, list(self.items_.items())

    def __getitem__(self, k):
        return self.items_[k]

    def __getattr__(self, name):  # model.blocks.encoder, as torch's ModuleDict
        items = self.__dict__.get("items_")
        if items is not None and name in items:
            return items[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or module {name!r}")

    def __setitem__(self, k, m):
        self.items_[k] = registered(self, k, m, "module")

    def __contains__(self, k):
        return k in self.items_

    def __len__(self):
        return len(self.items_)

    def __iter__(self):
        return iter(self.items_)

    def keys(self):
        return self.items_.keys()

    def values(self):
        return self.items_.values()

    def items(self):
        return self.items_.items()
