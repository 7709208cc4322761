"""Optimizer base: parameter groups, per-parameter state, state_dict.

A subclass writes ``update(p, g, state, group)``: the update rule for one
parameter array ``p`` with gradient ``g``, in place, as the lines of its
docstring. The base class loops over groups and parameters with grad mode off.
"""

from __future__ import annotations

import copy

from ..backend import xp
from ..function import no_grad
from ..tensor import Tensor


class Optimizer:
    def __init__(self, params, defaults: dict, *, maximize: bool = False):
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Tensors or dicts, got a single Tensor")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        # maximize (torch's flag, every optimizer): step up the gradient, θ ← θ + η·(…)
        self.defaults = {**defaults, "maximize": bool(maximize)}
        self.param_groups: list[dict] = []
        self.state: dict = {}
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        ps = group["params"]
        group["params"] = [ps] if isinstance(ps, Tensor) else list(ps)
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if id(p) in seen:
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)  # initial_lr is the scheduler's to set, as in torch

    def _check(self, group: dict) -> None:
        if group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                p.grad = None if set_to_none or p.grad is None else Tensor(xp.zeros_like(p.data))

    def step(self, closure=None):
        loss = None
        if closure is not None:
            from ..function import enable_grad

            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.get(p)
                    if state is None:
                        state = self.state[p] = {}
                    g = p.grad.data
                    g = -g if group["maximize"] else g
                    if p.data.ndim == 0:
                        _update_scalar(self.update, p.data, g, state, group)
                    else:
                        self.update(p.data, g, state, group)
        return loss

    def update(self, p, g, state: dict, group: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """{'state': {index: {name: array or number}}, 'param_groups': [... 'params': [index]]}"""
        index, groups = {}, []
        for g in self.param_groups:
            pg = {k: v for k, v in g.items() if k != "params"}
            pg["params"] = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                pg["params"].append(index[id(p)])
            groups.append(pg)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: (v.copy() if hasattr(v, "copy") else v) for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state has {len(groups)} parameter groups, optimizer has"
                f" {len(self.param_groups)}"
            )
        by_index = {}
        for mine, theirs in zip(self.param_groups, groups):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError(
                    f"a loaded parameter group has {len(theirs['params'])} parameters, the"
                    f" optimizer's has {len(mine['params'])}"
                )
            for p, i in zip(mine["params"], theirs["params"]):
                by_index[int(i)] = p
            for k, v in theirs.items():
                if k != "params":
                    mine[k] = copy.deepcopy(v)
        self.state = {}
        for i, st in state_dict["state"].items():
            p = by_index.get(int(i))
            if p is not None:  # torch too keeps no state for an index that names no parameter
                self.state[p] = {k: self._load_value(k, v, p.data.dtype) for k, v in st.items()}

    # state that is one number, not one per element (NAdam's mu_product, ASGD's eta and mu)
    _scalar_state: tuple[str, ...] = ()

    def _load_value(self, key, v, dtype):
        """A copy of one saved state value, ember's or torch's (then a torch.Tensor): arrays of
        the parameter's dtype, as torch casts all floating state but ``step`` to it; ``step``
        a number, scalar state a NumPy scalar, lists (LBFGS's history) element by element."""
        if isinstance(v, (list, tuple)):
            return type(v)(self._load_value(None, x, dtype) for x in v)
        if not hasattr(v, "__array__"):  # Python numbers, None, strings
            return copy.deepcopy(v)
        # a copy; a torch.Tensor converts through its __array__ (called bare: torch's takes no
        # copy= keyword, which NumPy 2 warns about)
        a = xp.array(v.__array__())
        if key == "step":
            return int(a) if float(a).is_integer() else float(a)
        if a.dtype.kind == "f":
            a = a.astype(dtype)
        if a.ndim == 0 and (key is None or key in self._scalar_state):
            return a[()]
        return a

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k not in ("params", "initial_lr"):
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines) + "\n)"


def _update_scalar(update, p, g, state: dict, group: dict) -> None:
    """``update`` for a 0-d parameter, run on 1-element views of it and of its state.

    Arithmetic on 0-d arrays returns scalars, not arrays: an in-place ``b *= μ`` on such a
    result would rebind a name and leave the state (or ``out=``) behind. A (1,) view of each
    0-d array updates the original in place; the state keeps torch's 0-d shape.
    """
    views = {k: v.reshape(1) if _is_array(v, ()) else v for k, v in state.items()}
    update(p.reshape(1), g.reshape(1), views, group)
    for k, v in views.items():
        # arrays the rule created (or replaced) at shape (1,) go back as p's 0-d shape
        state[k] = v.reshape(()) if _is_array(v, (1,)) else v


def _is_array(v, shape: tuple) -> bool:
    # an array, not a NumPy scalar (NAdam's mu_product, ASGD's eta): those stay as they are
    return isinstance(v, xp.ndarray) and v.shape == shape
