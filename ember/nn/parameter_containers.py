"""ParameterList and ParameterDict: Parameters held in a list or dict, named "0", "1", … or by
their keys in parameters() and state_dict, as torch's.

Module finds tensors by walking attributes; these containers keep their entries in a private
attribute (skipped by the walk) and override ``_members`` to hand the walk each entry under
its torch name — the way ModuleList does — so module.py needs no change.
"""

from __future__ import annotations

from .module import Module, Parameter
from .module_registration import registered


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
        return ParameterList(self._params[i]) if isinstance(i, slice) else self._params[i]

    def __setitem__(self, i, p):
        name = str(i % len(self._params))
        self._params[i] = registered(self, name, _as_parameter(p), "parameter")

    def __len__(self):
        return len(self._params)

    def __iter__(self):
        return iter(self._params)

    def append(self, value) -> ParameterList:
        name = str(len(self._params))
        self._params.append(registered(self, name, _as_parameter(value), "parameter"))
        return self

    def extend(self, values) -> ParameterList:
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return ", ".join(f"{i}: {tuple(p.shape)}" for i, p in enumerate(self._params))


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
        return self._params[key]

    def __setitem__(self, key, p):
        self._params[str(key)] = registered(self, str(key), _as_parameter(p), "parameter")

    def __delitem__(self, key):
        del self._params[key]

    def __contains__(self, key):
        return key in self._params

    def __len__(self):
        return len(self._params)

    def __iter__(self):
        return iter(self._params)

    def keys(self):
        return self._params.keys()

    def values(self):
        return self._params.values()

    def items(self):
        return self._params.items()

    def get(self, key, default=None):
        return self._params.get(key, default)

    def pop(self, key):
        return self._params.pop(key)

    def update(self, parameters) -> None:
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for k, p in items:
            self[k] = p
