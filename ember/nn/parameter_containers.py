"""ParameterList and ParameterDict: Parameters held in a list or dict, named "0", "1", … or by
their keys in parameters() and state_dict, as torch's.

Module finds tensors by walking attributes; these containers keep their entries in a private
attribute (skipped by the walk) and override ``_members`` to hand the walk each entry under
its torch name — the way ModuleList does — so module.py needs no change.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..tensor import Tensor
from .container import abs_index, update_pairs
from .module import Module, Parameter
from .module_registration import registered


class MissingKey(KeyError, AttributeError):
    """A key a ParameterDict lacks: a KeyError, as a dict's, and an AttributeError, as torch's
    (whose ParameterDict looks keys up as attributes), so either ``except`` catches it."""


def _entries_repr(entries) -> str:
    """torch's lines ``  (key): Parameter containing: [float32 of size 2x3]``, one per entry."""
    return "\n".join(
        f"  ({k}): Parameter containing: [{kind} of size {'x'.join(map(str, p.shape))}]"
        for k, p, kind in entries
        if p is not None
    )


def _as_parameter(p) -> Parameter:
    return p if isinstance(p, Parameter) or p is None else Parameter(p)


class ParameterList(Module):
    """A list of Parameters named "0", "1", … in parameters() and state_dict, as torch's.

    The list lives in ``_params`` (private, so Module's attribute walk skips it) and
    ``_members`` hands the walk its entries under their index names — the way ModuleList
    works — so Module itself needs no change. Plain tensors become Parameters.
    """

    def __init__(self, values=None):
        super().__init__()
        self._params = []
        for p in values or ():
            self.append(p)

    def _members(self):
        tensors, modules = super()._members()
        own = [(str(i), p) for i, p in enumerate(self._params) if p is not None]
        return own + tensors, modules

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ParameterList(self._params[i])
        return self._params[abs_index(i, len(self._params))]

    def __setitem__(self, i, p):
        i = abs_index(i, len(self._params))
        self._params[i] = registered(self, str(i), _as_parameter(p), "parameter")

    def __len__(self):
        return len(self._params)

    def __iter__(self):
        return iter(self._params)

    def append(self, value) -> ParameterList:
        name = str(len(self._params))
        self._params.append(registered(self, name, _as_parameter(value), "parameter"))
        return self

    def extend(self, values) -> ParameterList:
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(
                "ParameterList.extend should be called with an iterable, but got "
                + type(values).__name__
            )
        for v in values:
            self.append(v)
        return self

    def __iadd__(self, values) -> ParameterList:
        return self.extend(values)

    def extra_repr(self) -> str:
        return _entries_repr((str(i), p, f"ember.{p.dtype}") for i, p in enumerate(self._params))


class ParameterDict(Module):
    """A dict of Parameters named by their keys in parameters() and state_dict, as torch's
    (insertion order kept). Found by Module's walk through ``_members``, as ParameterList."""

    def __init__(self, parameters=None):
        super().__init__()
        self._params: dict = {}
        if parameters is not None:
            self.update(parameters)

    def _members(self):
        tensors, modules = super()._members()
        own = [(k, p) for k, p in self._params.items() if p is not None]
        return own + tensors, modules

    def __getitem__(self, key):
        if key not in self._params:
            raise MissingKey(f"'ParameterDict' object has no attribute {key!r}")
        return self._params[key]

    def __setitem__(self, key, p):
        if not isinstance(key, str):
            raise TypeError(
                "Index given to ParameterDict cannot be used as a key as it is not a string"
                f" (type is '{type(key).__name__}'). Open an issue on github if you need"
                " non-string keys."
            )
        if not key or "." in key:  # torch's KeyError (its keys are attribute names)
            raise KeyError(f"parameter name must be a non-empty string without '.', got {key!r}")
        self._params[key] = registered(self, key, _as_parameter(p), "parameter")

    def __delitem__(self, key):
        del self._params[key]

    def __contains__(self, key):
        return key in self._params

    def __len__(self):
        return len(self._params)

    def __iter__(self):
        return iter(self._params)

    def __reversed__(self):
        return reversed(list(self._params))

    def keys(self):
        return self._params.keys()

    def values(self):
        return self._params.values()

    def items(self):
        return self._params.items()

    def get(self, key, default=None):
        return self._params.get(key, default)

    def pop(self, key):
        value = self[key]
        del self._params[key]
        return value

    def popitem(self) -> tuple:
        """Remove and return the last (key, parameter) pair."""
        return self._params.popitem()

    def clear(self) -> None:
        self._params.clear()

    def setdefault(self, key, default=None):
        """self[key], set to ``default`` first where key is missing."""
        if key not in self._params:
            self[key] = default
        return self._params[key]

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters (not copies of them)."""
        return ParameterDict(dict(self._params))

    @staticmethod
    def fromkeys(keys, default=None) -> ParameterDict:
        return ParameterDict([(k, default) for k in keys])

    def extra_repr(self) -> str:  # torch's, which names the legacy type here
        return _entries_repr((k, p, p.type()) for k, p in self._params.items())

    def update(self, parameters) -> None:
        """Add or replace parameters from a mapping or a sequence of (key, value) pairs (a plain
        dict's in sorted key order, as torch's)."""
        for k, p in update_pairs("ParameterDict", parameters):
            self[k] = p

    def __or__(self, other) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other) -> ParameterDict:
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other) -> ParameterDict:
        self.update(other)
        return self
