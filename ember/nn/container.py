"""Sequential, ModuleList, ModuleDict, with torch's container methods: indexing with negative
indices and slices, item assignment and deletion (names renumbered 0, 1, … afterwards, as
torch's), append, extend, insert, pop, +, += and (Sequential) * and *=; dict methods on
ModuleDict."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from .module import Module
from .module_registration import registered


def abs_index(idx, n: int) -> int:
    """``idx`` as a position in [0, n), with torch's IndexError when it is outside [-n, n)."""
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range")
    return idx % n


def a_module(value, where: str):
    """``value`` if it is a Module, else torch's TypeError (a container holds modules only)."""
    if not isinstance(value, Module):
        raise TypeError(f"{where}: {type(value).__name__} is not a Module subclass")
    return value


def check_key(container, key) -> None:
    """torch's refusals of a new key of a ModuleDict, those of add_module: not a string
    (TypeError); empty, with a dot, or the name of another attribute of the container
    (``training``, ``forward``: KeyError). A key it holds may take another module."""
    if key not in container:
        container._check_member_name("module", key, lambda v: False)


def update_pairs(kind: str, items) -> list:
    """The (key, value) pairs of a mapping or of a sequence of pairs, refused as torch refuses
    them (``kind``: "ModuleDict" or "ParameterDict"): an OrderedDict or a container keeps its
    order, another mapping is taken in sorted key order, as torch's update takes it."""
    if callable(getattr(items, "items", None)):  # a mapping, ModuleDict or ParameterDict
        pairs = list(items.items())
        ordered = isinstance(items, (OrderedDict, Module)) or not isinstance(items, Mapping)
        return pairs if ordered else sorted(pairs, key=lambda kv: kv[0])
    if not isinstance(items, Iterable):
        raise TypeError(
            f"{kind}.update should be called with an iterable of key/value pairs, but got "
            + type(items).__name__
        )
    pairs = []
    for j, pair in enumerate(items):
        if not isinstance(pair, Iterable):
            raise TypeError(
                f"{kind} update sequence element #{j} should be Iterable; is" + type(pair).__name__
            )
        pair = list(pair)
        if len(pair) != 2:
            raise ValueError(
                f"{kind} update sequence element #{j} has length {len(pair)}; 2 is required"
            )
        pairs.append(tuple(pair))
    return pairs


class Sequential(Module):
    """Apply modules in order: y = f_n(…f_2(f_1(x))). Children are attributes, named "0", "1",
    … or by the keys of an OrderedDict given alone."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            items = list(modules[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, m in items:
            self.add_module(name, m)  # refuses what is no Module, as torch

    def _entries(self) -> list:
        # straight from the attributes: the same module may stand twice and then runs twice
        own = self._underscored  # a child named _x (added as such) is a child, as torch's
        return [(k, v) for k, v in vars(self).items() if isinstance(v, Module)
                and (k[0] != "_" or k in own)]  # fmt: skip

    def _mods(self):
        return [v for _, v in self._entries()]

    def _renumber(self, modules) -> None:
        """The children become ``modules``, named 0, 1, … (torch's numbering after a del)."""
        for name, _ in self._entries():
            del self.__dict__[name]
        for i, m in enumerate(modules):
            setattr(self, str(i), m)

    def __getitem__(self, idx):
        entries = self._entries()
        if isinstance(idx, slice):  # names kept, as torch's
            return type(self)(OrderedDict(entries[idx]))
        return entries[abs_index(idx, len(entries))][1]

    def __setitem__(self, idx: int, module: Module) -> None:
        entries = self._entries()
        setattr(self, entries[abs_index(idx, len(entries))][0], a_module(module, "Sequential"))

    def __delitem__(self, idx) -> None:
        mods = self._mods()
        gone = set(range(len(mods))[idx]) if isinstance(idx, slice) else {abs_index(idx, len(mods))}
        self._renumber([m for i, m in enumerate(mods) if i not in gone])

    def __len__(self):
        return len(self._entries())

    def __iter__(self):
        return iter(self._mods())

    def __add__(self, other) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(
                "add operator supports only objects of Sequential class, but"
                f" {type(other)} is given."
            )
        return Sequential(*self._mods(), *other._mods())

    def __iadd__(self, other) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(
                "add operator supports only objects of Sequential class, but"
                f" {type(other)} is given."
            )
        offset = len(self)  # named from the length before, as torch's (extend counts on)
        for i, m in enumerate(other):
            self.add_module(str(offset + i), m)
        return self

    def __mul__(self, other: int) -> Sequential:
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")
        return Sequential(*(self._mods() * other))

    __rmul__ = __mul__

    def __imul__(self, other: int) -> Sequential:
        repeated = self * other
        self._renumber(repeated._mods())
        return self

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> Sequential:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """``module`` before position ``index`` (-n ≤ index ≤ n); the children are renumbered."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        mods = self._mods()
        if not -len(mods) <= index <= len(mods):
            raise IndexError(f"Index out of range: {index}")
        mods.insert(index, module)
        self._renumber(mods)
        return self

    def pop(self, key):
        """Remove and return the module (or Sequential of modules, for a slice) at ``key``."""
        value = self[key]
        del self[key]
        return value

    def forward(self, input):  # noqa: A002
        x = input
        for m in self._mods():
            x = m(x)
        return x


class ModuleList(Module):
    """A list of modules whose parameters are found (names 0, 1, …)."""

    def __init__(self, modules=None):
        super().__init__()
        self.items = [
            registered(self, str(i), a_module(m, "ModuleList"), "module")
            for i, m in enumerate(modules or ())
        ]

    def _members(self):
        tensors, modules = super()._members()  # other modules set on it count too, as torch's
        others = [(n, m) for n, m in modules if not n.startswith("items.")]
        return tensors, [(str(i), m) for i, m in enumerate(self.items)] + others

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(self.items[idx])
        return self.items[abs_index(idx, len(self.items))]

    def __setitem__(self, idx: int, module: Module) -> None:
        i = abs_index(idx, len(self.items))
        self.items[i] = registered(self, str(i), a_module(module, "ModuleList"), "module")

    def __delitem__(self, idx) -> None:
        if isinstance(idx, slice):
            del self.items[idx]
        else:
            del self.items[abs_index(idx, len(self.items))]

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __iadd__(self, modules) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other) -> ModuleList:
        return ModuleList([*self.items, *other])

    def append(self, module: Module) -> ModuleList:
        module = a_module(module, "ModuleList")
        self.items.append(registered(self, str(len(self.items)), module, "module"))
        return self

    def extend(self, modules) -> ModuleList:
        if not isinstance(modules, Iterable):
            raise TypeError(
                "ModuleList.extend should be called with an iterable, but got "
                + type(modules).__name__
            )
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """``module`` before position ``index``, as list.insert (torch's fails on a negative
        index with a KeyError)."""
        module = a_module(module, "ModuleList")
        self.items.insert(index, registered(self, str(index), module, "module"))

    def pop(self, key):
        """Remove and return the module (or ModuleList, for a slice) at ``key``."""
        value = self[key]
        del self[key]
        return value

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
    """A dict of modules whose parameters are found (names are the keys), with dict's methods
    as torch's ModuleDict has them."""

    def __init__(self, modules=None):
        super().__init__()
        self.items_ = {}
        if modules is not None:
            self.update(modules)

    def _members(self):
        tensors, _ = super()._members()
        return tensors, list(self.items_.items())

    def __setattr__(self, name, value):
        if isinstance(value, Module) and "items_" in self.__dict__:
            self[name] = value  # d.proj = m is d["proj"] = m, as torch's one _modules holds both
        else:
            super().__setattr__(name, value)

    def __getitem__(self, k):
        return self.items_[k]

    def __getattr__(self, name):  # model.blocks.encoder, as torch's ModuleDict
        items = self.__dict__.get("items_")
        if items is not None and name in items:
            return items[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or module {name!r}")

    def __setitem__(self, k, m):
        check_key(self, k)
        self.items_[k] = registered(self, k, a_module(m, "ModuleDict"), "module")

    def __delitem__(self, k) -> None:
        del self.items_[k]

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

    def clear(self) -> None:
        self.items_.clear()

    def pop(self, key):
        """Remove ``key`` and return its module."""
        return self.items_.pop(key)

    def update(self, modules) -> None:
        """Add or replace modules from a mapping (or ModuleDict) or a sequence of pairs."""
        for k, m in update_pairs("ModuleDict", modules):
            self[k] = m
