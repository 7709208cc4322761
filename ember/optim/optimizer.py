"""Optimizer base: parameter groups, per-parameter state, state_dict.

A subclass writes ``update(p, g, state, group)``: the update rule for one
parameter array ``p`` with gradient ``g``, in place, as the lines of its
docstring. The base class loops over groups and parameters with grad mode off.
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict

from .. import backend
from ..autograd_saved_writes import note_write
from ..backend import xp
from ..function import no_grad
from ..nn.module import zero_grad_of
from ..tensor import Tensor
from .impl_flags import check_group_at_step
from .optimizer_hooks import (  # noqa: F401  (torch.optim.optimizer's names)
    OptimizerHooks,
    RemovableHandle,
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)


class Optimizer(OptimizerHooks):
    #: whether torch's optimizer of that name takes ``maximize`` (LBFGS and Muon do not)
    has_maximize = True

    def __init__(self, params, defaults: dict, *, maximize: bool = False):
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Tensors or dicts, got a single Tensor")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        # maximize (torch's flag, every optimizer but LBFGS and Muon): step up the gradient,
        # θ ← θ + η·(…); where torch has none, the param_groups carry no such key either
        self._patch_step_function()  # torch's: step runs the step hooks (optimizer_hooks.py)
        self.defaults = dict(defaults)
        if self.has_maximize:
            self.defaults["maximize"] = bool(maximize)
        self.param_groups: list[dict] = []
        # torch's defaultdict: ``opt.state[p]`` of a parameter not stepped yet is {}
        self.state: defaultdict = defaultdict(dict)
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict) -> None:
        """Add a group: {'params': Tensors or (name, Tensor) pairs, option: value, …}; options
        it leaves out take the optimizer's defaults."""
        if not isinstance(group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(group).__name__}")
        group = dict(group)
        ps = group["params"]
        if isinstance(ps, set):  # torch's rule: a set's order, so the state_dict ids, may change
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the"
                " ordering of tensors in sets will change between runs; use a list instead"
            )
        ps = [ps] if isinstance(ps, Tensor) else list(ps)
        # torch's named parameters, e.g. model.named_parameters(): the names go to param_names
        names = [p[0] for p in ps if isinstance(p, tuple)]
        group["params"] = [p[1] if isinstance(p, tuple) else p for p in ps]
        if names:
            if len(names) != len(ps):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are"
                    f" missing: {len(names)} of {len(ps)} parameters are (name, Tensor) pairs"
                )
            group["param_names"] = names
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf and not getattr(p, "_retain", False):
                # its .grad is never kept, and stepping it would not change the leaf it came from
                raise ValueError(
                    "can't optimize a non-leaf Tensor (one computed from others); pass the"
                    " leaf parameters, or tensor.detach().requires_grad_()"
                )
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check(group)
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future,"
                " this will cause an error",
                stacklevel=3,
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                raise ValueError(
                    "all optimizer param groups should be with/without names: this group"
                    f" {'has' if 'param_names' in group else 'has no'} param_names, an earlier"
                    f" one {'has' if 'param_names' in g else 'has no'}"
                )
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)  # initial_lr is the scheduler's to set, as in torch

    def _check(self, group: dict) -> None:
        """A subclass's check of a group's options (torch checks only the constructor's: a
        group's own lr=-1 is taken, as torch takes it)."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every gradient, or (``set_to_none=False``) zero it in place, the same tensor
        kept, as torch's (a reference to ``p.grad`` sees the zeros)."""
        for g in self.param_groups:
            for p in g["params"]:
                zero_grad_of(p, set_to_none)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            from ..function import enable_grad

            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            if group.get("fused") or group.get("capturable") or group.get("differentiable"):
                check_group_at_step(group, [p for p in group["params"] if p.grad is not None])
        with no_grad():
            for group in self.param_groups:
                group = numbers_of(group)  # lr=tensor(0.1), as torch allows, as a number
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.get(p)
                    fresh = state is None
                    if fresh:
                        state = self.state[p] = {}
                    g = p.grad.array
                    g = -g if group.get("maximize") else g
                    if p.array.dtype.kind == "c":
                        _update_complex(self.update, p.array, g, state, group)
                    elif p.array.ndim == 0:
                        _update_scalar(self.update, p.array, g, state, group)
                    else:
                        self.update(p.array, g, state, group)
                    note_write(p.array)  # a graph recorded before this step saw the old value
                    if fresh and not state:  # SGD without momentum keeps none, as torch's
                        del self.state[p]
        return loss

    def update(self, p, g, state: dict, group: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """{'state': {index: {name: array or number}}, 'param_groups': [... 'params': [index]]};
        torch's state_dict pre hooks run first, its post hooks on the result."""
        return self._run_state_dict_hooks(self._state_dict)

    def _state_dict(self) -> dict:
        index, groups = {}, []
        for g in self.param_groups:
            pg = {k: v for k, v in g.items() if k != "params"}
            pg["params"] = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                pg["params"].append(index[id(p)])
            groups.append(pg)
        state = {}
        for p, st in self.state.items():  # torch's order: the state's, first step first
            if id(p) in index:
                state[index[id(p)]] = {
                    k: (v.copy() if hasattr(v, "copy") else v) for k, v in st.items()
                }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load ``state_dict`` (ember's or torch's); torch's load_state_dict pre hooks get a
        shallow copy first and may return the dict to load; its post hooks run after."""
        state_dict = self._run_load_state_dict_pre_hooks(state_dict)
        self._load_state_dict(state_dict)
        self._run_load_state_dict_post_hooks()

    def _load_state_dict(self, state_dict: dict) -> None:
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
        self.state = defaultdict(dict)
        for i, st in state_dict["state"].items():
            p = by_index.get(int(i))
            if p is not None:  # torch too keeps no state for an index that names no parameter
                self.state[p] = {k: self._load_value(k, v, p.array.dtype) for k, v in st.items()}

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
        a = xp.array(v) if backend.is_array(v) else xp.array(v.__array__())
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
                if k != "params":  # initial_lr too, as torch's
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines) + "\n)"


def check_tensor_lr(lr) -> None:
    """torch's first check of ``lr``: a tensor must hold one element (comparing a longer one
    with 0 would raise a RuntimeError of its own, not torch's ValueError)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


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


def _update_complex(update, p, g, state: dict, group: dict) -> None:
    """``update`` for a complex parameter, as torch's optimizers step one: on view_as_real of
    the parameter, its gradient and its state, (..., 2) real arrays over the same memory, so
    each of Re and Im is a parameter of its own (Adam's second moment is then per part, not
    |g|²). The state keeps torch's complex arrays."""

    def as_real(a):
        return xp.ascontiguousarray(a).view(a.real.dtype).reshape(a.shape + (2,))

    # a view: the rule's in-place update changes p (a parameter that is not contiguous, a
    # transposed one say, is stepped on a contiguous copy and copied back, as torch steps it)
    work = p if p.flags.c_contiguous else xp.ascontiguousarray(p)
    real = as_real(work)
    shape = real.shape
    views = {k: as_real(v) if _is_array(v, p.shape) and v.dtype.kind == "c" else v
             for k, v in state.items()}  # fmt: skip
    update(real, as_real(g), views, group)
    if work is not p:
        p[...] = work
    for k, v in views.items():
        # arrays the rule created (or replaced) at the real view's shape go back as complex
        state[k] = v.view(p.dtype).reshape(p.shape) if _is_array(v, shape) else v


def _is_array(v, shape: tuple) -> bool:
    # an array, not a NumPy scalar (NAdam's mu_product, ASGD's eta): those stay as they are
    return isinstance(v, xp.ndarray) and v.shape == shape


def lerp(a, b, w: float):
    """torch's lerp with a scalar weight: a + w·(b − a) for |w| < ½, else b − (b − a)·(1 − w)
    (exact at w = 1), with w and 1 − w in a's precision as torch's kernel takes them."""
    w = a.dtype.type(w)
    d = b - a
    return a + w * d if abs(w) < 0.5 else b - d * (a.dtype.type(1) - w)


def lerp_(a, b, w: float) -> None:
    """a ← lerp(a, b, w) in place."""
    a[...] = lerp(a, b, w)


def numbers_of(group: dict) -> dict:
    """The group with its one-element tensor hyperparameters (lr, betas, …) as numbers for the
    update's array arithmetic (``p -= lr * g`` with a tensor lr would rebind p to a new tensor
    and leave the parameter as it was); the group itself unchanged where none are.

    A float64 (or integer) tensor becomes a Python number. A float32 one becomes a NumPy
    float32 scalar: as torch's 0-d float32 tensor, it keeps the scalar arithmetic it enters
    (``1 - lr·λ``, ``lr / bias_correction``) in float32, so a float64 parameter steps by
    torch's float32-rounded amounts, not by amounts computed from lr in float64."""
    if not any(
        isinstance(v, Tensor) or (type(v) is tuple and any(isinstance(x, Tensor) for x in v))
        for k, v in group.items()
        if k != "params"
    ):
        return group

    def number(v):
        if isinstance(v, Tensor) and v.array.size == 1:
            a = v.array.reshape(())
            return a[()] if a.dtype.kind == "f" and a.dtype.itemsize < 8 else a.item()
        return tuple(number(x) for x in v) if isinstance(v, tuple) else v

    return {k: v if k == "params" else number(v) for k, v in group.items()}
