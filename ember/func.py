"""``ember.func``: torch.func's functional_call, grad, grad_and_value and vmap.

``functional_call(module, {name: tensor}, args)`` runs ``module`` with the given tensors in
place of its parameters and buffers, so the output is a function of those tensors and
gradients reach them; this is what meta-learning needs (MAML's adapted weights θ' = θ − α∇L(θ)
are tensors with a graph, not Parameters). ``grad(f)`` is the function x ↦ ∇f(x) of a scalar
f, ``grad_and_value(f)`` gives (∇f(x), f(x)); both are built on ``ember.autograd.grad`` with
the graph recorded whenever the result must stay differentiable, so they nest:
``grad(grad(f))(x)`` is f''(x). ``vmap(f)`` maps f over a dimension of its inputs, running it
once per slice and stacking the outputs (func_vmap.py); it nests with the others, so
``vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)`` gives per-sample gradients.
torch.func's vjp, jvp, linearize, jacrev, jacfwd and hessian are in func_transforms.py
(imported last).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .autograd_grad import grad as _autograd_grad
from .backend import xp
from .func_vmap import stack_module_state, vmap  # noqa: F401 - vmap loops (func_vmap.py)
from .function import enable_grad, is_grad_enabled
from .tensor import Tensor

__all__ = [
    "functional_call",
    "functionalize",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "replace_all_batch_norm_modules_",
    "stack_module_state",
    "vjp",
    "vmap",
]


# ------------------------------------------------------------ functional_call
def _all_named_tensors(module, prefix: str = "", path: tuple = ()):
    """(dotted name, tensor) for every parameter and buffer, a tensor or a submodule reached
    by two names listed under both (torch's ``remove_duplicate=False``)."""
    tensors, modules = module._members()
    for name, t in tensors:
        yield prefix + name, t
    for name, m in modules:
        if id(m) not in path:  # a module inside itself would never end
            yield from _all_named_tensors(m, f"{prefix}{name}.", path + (id(m),))


_ABSENT = object()  # the slot had no tensor: the swap adds an attribute and restoring removes it


class _Slot:
    """Where the tensor at dotted ``name`` lives: an attribute of the deepest submodule on the
    path, an entry of a ParameterList/ParameterDict, or of a list, tuple or dict attribute
    ("attr.i", as Module names them). ``get`` and ``put`` read and replace it there;
    ``module`` and ``member`` are the module that lists it and the name it lists it under."""

    def __init__(self, module, name: str) -> None:
        for owner, rest in module._owners_along(name):  # the longest module path first
            self.module, self.member = owner, ".".join(rest)
            params = vars(owner).get("_params")  # ParameterList / ParameterDict keep them here
            if len(rest) == 1 and isinstance(params, (list, dict)):
                self.box, self.key = params, int(rest[0]) if isinstance(params, list) else rest[0]
                return
            if len(rest) == 1:
                self.box, self.key = owner, rest[0]
                return
            box = vars(owner).get(rest[0])
            if len(rest) == 2 and isinstance(box, (list, tuple, dict)):
                self.owner, self.attr = owner, rest[0]
                self.box, self.key = box, rest[1] if isinstance(box, dict) else int(rest[1])
                return
            raise AttributeError(f"{type(owner).__name__} has no attribute `{rest[0]}`")
        raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")

    def get(self):
        if isinstance(self.box, dict):
            return self.box.get(self.key, _ABSENT)
        if isinstance(self.box, (list, tuple)):
            return self.box[self.key]
        return vars(self.box).get(self.key, _ABSENT)

    def put(self, v) -> None:
        if isinstance(self.box, tuple):  # immutable: the attribute gets a new tuple
            items = list(self.box)
            items[self.key] = v
            self.box = tuple(items)
            setattr(self.owner, self.attr, self.box)
        elif isinstance(self.box, dict) and v is _ABSENT:
            self.box.pop(self.key, None)
        elif isinstance(self.box, (list, dict)):
            self.box[self.key] = v
        elif v is _ABSENT:
            delattr(self.box, self.key)
        else:  # as torch swaps _parameters' entry: past Module.__setattr__'s kind checks
            object.__setattr__(self.box, self.key, v)


def _stand_in(slot: _Slot, original, v):
    """The tensor whose kind the swapped slot keeps while ``v`` is in it, as torch swaps into
    ``_parameters``/``_buffers``: the original's (a parameter stays a parameter, a buffer a
    buffer, persistence included), the stand-in an enclosing call gave it, or for a name the
    module did not have, ``v`` if torch's setattr would register it (a Parameter or an
    nn.Buffer) and None (not listed) for a plain tensor. No stand-in where there was None."""
    from .nn.layers_compat import Buffer
    from .nn.module import Parameter

    outer = slot.module._stand_ins or {}
    if slot.member in outer:
        return outer[slot.member]
    if original is _ABSENT:
        return v if isinstance(v, (Parameter, Buffer)) else None
    return original if isinstance(original, Tensor) else _ABSENT


def _set_stand_in(slot: _Slot, kind) -> None:
    """Record (or with ``_ABSENT`` remove) the slot's stand-in; an emptied table goes, so the
    module's attributes are exactly what they were."""
    table = dict(slot.module._stand_ins or {})
    if kind is _ABSENT:
        table.pop(slot.member, None)
    else:
        table[slot.member] = kind
    if table:
        slot.module._stand_ins = table
    else:
        vars(slot.module).pop("_stand_ins", None)


def _untie(named: list, given: dict) -> dict:
    """torch's tie_weights: a value given for one name of a tensor the module holds under
    several names goes to all of them; different values for one tied tensor are an error."""
    names_of: dict = {}
    for name, t in named:
        names_of.setdefault(id(t), []).append(name)
    out = dict(given)
    for tied in names_of.values():
        if len(tied) < 2:
            continue
        present = [n for n in tied if n in given]
        if len({id(given[n]) for n in present}) > 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(tied)}, which are tied."
                " Consider using tie_weights=False"
            )
        if present:
            for n in tied:
                out[n] = given[present[0]]
    return out


def _functional_call(module, parameters_and_buffers: dict, args=None, kwargs=None, *,
                     tie_weights: bool = True, strict: bool = False) -> Any:  # fmt: skip
    kwargs = {} if kwargs is None else kwargs
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    named = list(_all_named_tensors(module))
    values = _untie(named, parameters_and_buffers) if tie_weights else parameters_and_buffers
    if strict:
        known = {n for n, _ in named}
        unexpected, missing = sorted(set(values) - known), sorted(known - set(values))
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError(
                f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(msgs)
            )
    for name, v in values.items():
        if not isinstance(v, Tensor) and v is not None:
            raise TypeError(f"{v} is not an instance of Tensor (functional_call key {name!r})")
    # (name, slot, original, the slot's stand-in before), restored in reverse order even when
    # forward raises; while swapped, each name is listed where it was (parameter or buffer)
    swapped = []
    try:
        for name, v in values.items():
            slot = _Slot(module, name)
            original = slot.get()
            outer = (slot.module._stand_ins or {}).get(slot.member, _ABSENT)
            slot.put(v)
            swapped.append((name, slot, original, outer))
            _set_stand_in(slot, _stand_in(slot, original, v))
        return module(*args, **kwargs)
    finally:
        now = {}
        for name, slot, original, outer in reversed(swapped):
            now[name] = slot.get()  # the module may have replaced it (self.x = self.x + 1)
            slot.put(original)
            _set_stand_in(slot, outer)
        # as torch: what the module left in a slot goes back into the caller's dict
        parameters_and_buffers.update(
            {k: now[k] for k in parameters_and_buffers if k in now and now[k] is not _ABSENT}
        )


def functional_call(module, parameter_and_buffer_dicts: dict | Sequence[dict], args: Any = None,
                    kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:  # fmt: skip
    """``module(*args, **kwargs)`` with the given tensors in place of its parameters and
    buffers (dotted names, e.g. ``"0.weight"``, ``"bn.running_mean"``); the originals are put
    back afterwards, also when the forward raises. Gradients of the output flow to the given
    tensors. Several dicts may be given (their keys must not repeat). ``args`` that is not a
    tuple is one argument. ``tie_weights``: a tensor the module holds under two names is
    replaced under both. ``strict``: every parameter and buffer must be given, and no other.
    Buffers updated in place (batch norm's running statistics) are the given tensors. During
    the call the module lists each name where it was, as torch does: a plain tensor given for
    a parameter is in ``named_parameters()``, a Parameter given for a buffer in
    ``named_buffers()``; a name the module did not have is listed only if it is a Parameter."""
    if isinstance(parameter_and_buffer_dicts, dict):
        merged = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError(
                "Expected all elements of parameter_and_buffer_dicts to be dictionaries"
            )
        keys = [k for d in parameter_and_buffer_dicts for k in d]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(
                f"{repeated} appeared in multiple dictionaries; behavior of functional call is"
                " ambiguous"
            )
        merged = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(
            "Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got"
            f" {type(parameter_and_buffer_dicts)}"
        )
    return _functional_call(module, merged, args, kwargs, tie_weights=tie_weights, strict=strict)


# ------------------------------------------------------------ grad, grad_and_value
def _leaves(tree) -> list:
    """The leaves of a tree of tuples, lists and dicts, in order."""
    if isinstance(tree, (tuple, list)):
        return [x for t in tree for x in _leaves(t)]
    if isinstance(tree, dict):
        return [x for t in tree.values() for x in _leaves(t)]
    return [tree]


def _rebuild(tree, it):
    """``tree``'s structure with its leaves taken in order from the iterator ``it``."""
    if isinstance(tree, (tuple, list)):
        items = [_rebuild(t, it) for t in tree]
        if hasattr(tree, "_fields"):  # a namedtuple
            return type(tree)(*items)
        return type(tree)(items)
    if isinstance(tree, dict):
        return type(tree)((k, _rebuild(v, it)) for k, v in tree.items())
    return next(it)


def _reaches_outer(t, own: set) -> bool:
    """Whether t's graph reaches a tensor that requires grad other than the ``own`` leaves
    this call made: then the result must keep its graph (nesting, captured parameters)."""
    if not isinstance(t, Tensor) or not t.requires_grad:
        return False
    stack, seen = [t], set()
    while stack:
        x = stack.pop()
        fn = x._ctx
        if fn is None:
            if id(x) not in own:
                return True
            continue
        if id(fn) not in seen:
            seen.add(id(fn))
            stack.extend(p for p in fn.parents if p is not None and p.requires_grad)
    return False


def _argnums(argnums, n: int) -> tuple:
    if isinstance(argnums, int):
        nums = (argnums,)
    elif isinstance(argnums, tuple) and all(isinstance(a, int) for a in argnums):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        nums = argnums
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    for a in nums:
        if not -n <= a < n:
            raise RuntimeError(f"Got argnum={a}, but only {n} positional inputs")
    nums = tuple(a % n for a in nums)
    if len(set(nums)) != len(nums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return nums


def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable:  # fmt: skip
    """The function ``*args ↦ (∇f, f(*args))`` of a function f returning a 0-d Tensor (or,
    with ``has_aux``, a pair (0-d Tensor, aux) → ``(∇f, (f, aux))``). ∇f is taken with
    respect to ``args[argnums]`` (a Tensor or a tuple/list/dict of Tensors, the gradient
    shaped alike; a tuple of argnums gives a tuple). An input f does not depend on gets zeros.
    The results keep a graph only towards tensors from outside the call that require grad
    (inputs that do, captured parameters, an enclosing ``grad``), which is what lets it nest."""

    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        track = is_grad_enabled()  # under no_grad nothing outside is differentiated
        own: set = set()
        new_args, flat = list(args), []
        with enable_grad():
            for n in nums:
                wrapped = []
                for t in _leaves(args[n]):
                    if not isinstance(t, Tensor):
                        raise ValueError(
                            f"Thing passed to transform API must be Tensor, got {type(t)}"
                        )
                    if track and t.requires_grad:
                        w = t.view_as(t)  # a new node, still on the caller's graph
                    else:
                        w = t.detach().requires_grad_(True)
                        own.add(id(w))
                    wrapped.append(w)
                new_args[n] = _rebuild(args[n], iter(wrapped))
                flat.append(wrapped)
            result = func(*new_args, **kwargs)
            if has_aux:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        "grad_and_value(f)(*args): output of function f should be a tuple:"
                        " (output, aux) if has_aux is True"
                    )
                output, aux = result
            else:
                output, aux = result, None
            if not isinstance(output, Tensor):
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got"
                    f" {type(output)}"
                )
            if output.ndim != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got"
                    f" tensor with {output.ndim} dims. Maybe you wanted to use the vjp or"
                    " jacrev APIs instead?"
                )
            inputs = [w for ws in flat for w in ws]
            keep = track and _reaches_outer(output, own)
            if output.requires_grad:
                grads = _autograd_grad(output, inputs, retain_graph=True, create_graph=keep,
                                       allow_unused=True, materialize_grads=True)  # fmt: skip
            else:
                grads = tuple(Tensor(xp.zeros(w.shape, dtype=w.dtype)) for w in inputs)
        it = iter(grads)
        trees = tuple(_rebuild(args[n], it) for n in nums)
        g = trees[0] if isinstance(argnums, int) else trees
        value = output if keep else output.detach()
        if not has_aux:
            return g, value
        aux = _rebuild(aux, iter([_detach_unless_outer(x, own, track) for x in _leaves(aux)]))
        return g, (value, aux)

    return wrapper


def _detach_unless_outer(x, own: set, track: bool):
    if isinstance(x, Tensor) and not (track and _reaches_outer(x, own)):
        return x.detach()
    return x


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The function ``*args ↦ ∇f(*args)`` (with ``has_aux``: ``(∇f, aux)``) of a function f
    returning a 0-d Tensor; see :func:`grad_and_value`. ``grad(grad(f))`` is f''."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


# replace_all_batch_norm_modules_ and functionalize: func_modules.py
from .func_modules import functionalize, replace_all_batch_norm_modules_  # noqa: E402, F401

# torch.func's vjp, jvp, jacrev, jacfwd and hessian (func_transforms.py, which uses the helpers
# above, so it is imported last)
from .func_transforms import hessian, jacfwd, jacrev, jvp, linearize, vjp  # noqa: E402, F401
