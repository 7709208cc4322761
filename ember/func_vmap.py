"""``ember.vmap`` / ``ember.func.vmap``: torch.func.vmap's API and results, by looping.

torch's vmap runs the function once on BatchedTensors and lets every op's batching rule carry
the mapped dimension; for an op without a rule it falls back to a loop over the slices and a
stack. ember has no batching rules, so it always takes that fallback: ``func`` runs once per
slice i of the mapped inputs (x.select(in_dim, i)) and each output's slices are stacked along
its out_dim. The results, errors and the way it nests with grad, grad_and_value,
functional_call and itself are torch's; the speed is a Python loop's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .backend import xp
from .backend_random import vmap_levels
from .function import is_grad_enabled
from .functional.shape import stack
from .tensor import Tensor

__all__ = ["stack_module_state", "vmap"]


# ------------------------------------------------------------ pytrees, as torch.utils._pytree
# A spec is None for a leaf, else (type, keys or None, child specs). Tuples (namedtuples
# included), lists and dicts are nodes, everything else (None too, as torch's) is a leaf.
def _flatten(tree, leaves: list):
    if isinstance(tree, (tuple, list)):
        return (type(tree), None, [_flatten(t, leaves) for t in tree])
    if isinstance(tree, dict):
        return (type(tree), list(tree), [_flatten(v, leaves) for v in tree.values()])
    leaves.append(tree)
    return None


def _unflatten(spec, it):
    if spec is None:
        return next(it)
    kind, keys, children = spec
    items = [_unflatten(c, it) for c in children]
    if keys is not None:
        return kind(zip(keys, items))
    return kind(*items) if hasattr(kind, "_fields") else kind(items)


def _count(spec) -> int:
    return 1 if spec is None else sum(_count(c) for c in spec[2])


def _spec_str(spec) -> str:
    """A spec as torch's TreeSpec prints it (on one line)."""
    if spec is None:
        return "*"
    kind, keys, children = spec
    return f"TreeSpec({kind.__name__}, {keys}, [{', '.join(_spec_str(c) for c in children)}])"


def _broadcast(dims, spec, out: list) -> bool:
    """torch's _broadcast_to_and_flatten: ``dims`` (a tree of in/out dims) flattened against
    ``spec``, a leaf of ``dims`` standing for every leaf of the subtree it meets; False where
    the structures differ. Dict entries are matched by key, in any order (torch's pairs them
    by position when the two orders differ, mapping the wrong entry)."""
    if not isinstance(dims, (tuple, list, dict)):
        out.extend([dims] * _count(spec))
        return True
    if spec is None or type(dims) is not spec[0]:
        return False
    kind, keys, children = spec
    if keys is not None:
        if set(dims) != set(keys):
            return False
        return all(_broadcast(dims[k], c, out) for k, c in zip(keys, children))
    if len(dims) != len(children):
        return False
    return all(_broadcast(d, c, out) for d, c in zip(dims, children))


def _name(func) -> str:
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return repr(func)


# ------------------------------------------------------------ inputs
def _mapped_inputs(func, in_dims, args: tuple) -> tuple:
    """(batch size, flat args, their in_dims made non-negative, args' spec), with torch's
    checks and messages."""
    name = _name(func)
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a"
            " (potentially nested) tuple matching the structure of inputs, got:"
            f" {type(in_dims)}."
        )
    if not args:
        raise ValueError(
            f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are"
            " trying to vmap over a function with no inputs. The latter is unsupported."
        )
    flat: list = []
    spec = _flatten(args, flat)
    dims: list = []
    if not _broadcast(in_dims, spec, dims):
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with"
            f" the structure of `inputs`. in_dims has structure {_spec_str(_flatten(in_dims, []))}"
            f" but inputs has structure {_spec_str(spec)}."
        )
    where = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={{}} for"
    sizes = []
    for k, (x, d) in enumerate(zip(flat, dims)):
        if d is None:
            continue
        if not isinstance(d, int):
            raise ValueError(
                where.format(d) + " an input but in_dim must be either an integer dimension or"
                " None."
            )
        if not isinstance(x, Tensor):
            raise ValueError(
                where.format(d) + f" an input but the input is of type {type(x)}. We cannot"
                " vmap over non-Tensor arguments, please use None as the respective in_dim"
            )
        n = x.ndim
        if not -n <= d < n:
            raise ValueError(
                where.format(d) + f" some input, but that input is a Tensor of dimensionality"
                f" {n} so expected in_dim to satisfy -{n} <= in_dim < {n}."
            )
        if isinstance(d, bool):  # torch takes it as an int and x.size(True) refuses it
            raise TypeError(f"size(): argument 'dim' must be int, not bool (in_dim={d})")
        dims[k] = d % n
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got"
            f" sizes {sizes} for the mapped dimension"
        )
    return sizes[0], flat, dims, spec


def _slices(x: Tensor, d: int, size: int) -> list:
    """x's slices along d, views of it (an in-place write in func reaches x, as torch's).
    With a graph to record, one Split node (unbind), whose backward concatenates the slices'
    gradients once; indexing per slice would scatter each gradient into a zero tensor of x's
    whole shape. Without one, plain indexing, the cheapest view."""
    if x.requires_grad and is_grad_enabled():
        return list(x.unbind(d))
    if d:
        x = x.movedim(d, 0)  # a view: x[i] with an int is __getitem__'s quickest path
    return [x[i] for i in range(size)]


def _empty_slice(x: Tensor, d: int) -> Tensor:
    """What func gets for x when the mapped size is 0: zeros of one slice's shape, as
    x.sum(d) where x needs a gradient (so x stays on the graph and gets its empty one)."""
    if x.requires_grad and is_grad_enabled():
        return x.sum(d)
    return Tensor(xp.zeros(x.shape[:d] + x.shape[d + 1 :], dtype=x.dtype))


# ------------------------------------------------------------ the loop
class _Level:
    """One running vmap call, as backend_random.vmap_draw reads it: its randomness, and under
    'same' each generator's state before its first draw in the call."""

    __slots__ = ("randomness", "states")

    def __init__(self, randomness: str) -> None:
        self.randomness = randomness
        self.states: dict = {}

    def restore(self) -> None:
        for gen, state in self.states.values():
            gen.set_state(state)


def _run(func, level: _Level, slices_per_call, spec, kwargs: dict) -> list:
    """func's output for each list of flat args, with ``level`` on the vmap stack."""
    flat_args = spec is not None and all(c is None for c in spec[2])  # f(x, y): no rebuild
    levels = vmap_levels()
    levels.append(level)
    try:
        outs = []
        for leaves in slices_per_call:
            if level.states:  # 'same': every slice starts from the first slice's state
                level.restore()
            args = tuple(leaves) if flat_args else _unflatten(spec, iter(leaves))
            outs.append(func(*args, **kwargs))
        return outs
    finally:
        levels.pop()


# ------------------------------------------------------------ outputs
def _check_out_dims(func, out_dims) -> None:
    leaves: list = []
    _flatten(out_dims, leaves)
    if not all(isinstance(d, int) or d is None for d in leaves):
        raise ValueError(
            f"vmap({_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None or"
            " a python collection of ints representing where in the outputs the vmapped"
            " dimension should appear."
        )


def _same(a, b) -> bool:
    """Whether two slices' outputs are one value (an output that no mapped input reaches)."""
    if a is b:
        return True
    if not isinstance(b, Tensor) or a.shape != b.shape or a.dtype != b.dtype:
        return False
    x, y = a.array, b.array
    nan = x.dtype.kind in "fc"
    return bool(xp.array_equal(x, y, equal_nan=nan))


def _unmapped(name: str, column: list):
    """An output whose out_dim is None: torch returns it as func returned it, and refuses a
    BatchedTensor. Running once per slice, ember sees a mapped output as values that differ
    between the slices; equal ones are one value, returned (the first slice's)."""
    first = column[0]
    if isinstance(first, Tensor) and not all(_same(first, x) for x in column[1:]):
        raise ValueError(
            f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None"
        )
    return first


def _mapped(name: str, column: list, d: int, empty: bool) -> Tensor:
    """The slices of one output stacked along d (the probe's, sliced to size 0, if empty)."""
    for x in column:
        if not isinstance(x, Tensor):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(x)}."
                " Did you mean to set out_dims= to None for output?"
            )
    n = column[0].ndim + 1
    if not -n <= d < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
        )
    shape = column[0].shape
    for k, x in enumerate(column):
        if x.shape != shape:
            raise RuntimeError(
                f"vmap({name}, ...): `{name}` returned a tensor of shape {tuple(shape)} for"
                f" slice 0 and of shape {tuple(x.shape)} for slice {k}; torch runs it once on"
                " the whole batch, so its outputs' shapes cannot depend on the values"
            )
    out = stack(column, d)
    return out[(slice(None),) * (d % n) + (slice(0, 0),)] if empty else out


def _outputs(func, outs: list, out_dims, empty: bool):
    """The slices' outputs stacked as out_dims says, in the structure func returns."""
    name = _name(func)
    first: list = []
    spec = _flatten(outs[0], first)
    flat = [first]
    single = spec is None and all(isinstance(out, Tensor) for out in outs)
    if single:  # one Tensor per slice, the common case: no trees to compare
        flat = [[out] for out in outs]
    for k, out in enumerate(() if single else outs[1:], 1):
        leaves: list = []
        other = _flatten(out, leaves)
        if other != spec:
            raise RuntimeError(
                f"vmap({name}, ...): `{name}` returned outputs of structure {_spec_str(spec)}"
                f" for slice 0 and {_spec_str(other)} for slice {k}; torch runs it once on the"
                " whole batch, so its outputs' structure cannot depend on the values"
            )
        flat.append(leaves)
    dims: list = []
    if isinstance(outs[0], Tensor):  # torch's edge case: one Tensor takes d, (d,) or None
        whole = isinstance(out_dims, int) or out_dims is None
        fits = whole or (isinstance(out_dims, tuple) and len(out_dims) == 1)
        dims = [out_dims] if whole else list(out_dims) if fits else []
    else:
        fits = _broadcast(out_dims, spec, dims)
    if not fits:
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible"
            f" with the structure of `outputs`. out_dims has structure"
            f" {_spec_str(_flatten(out_dims, []))} but outputs has structure {_spec_str(spec)}."
        )
    result = []
    for j, d in enumerate(dims):
        column = [leaves[j] for leaves in flat]
        result.append(_unmapped(name, column) if d is None else _mapped(name, column, d, empty))
    return _unflatten(spec, iter(result))


# ------------------------------------------------------------ vmap
def _check_chunk_size(chunk_size) -> None:
    """On the call, as torch (which splits the batch into chunk_size pieces then) refuses it."""
    if chunk_size is not None and not isinstance(chunk_size, int):
        raise TypeError(f"vmap: chunk_size must be an int or None, got {type(chunk_size)}")


def vmap(func: Callable, in_dims: int | tuple = 0, out_dims: int | tuple | None = 0,
         randomness: str = "error", *, chunk_size: int | None = None) -> Callable:  # fmt: skip
    """torch.func.vmap: the function that maps ``func`` over a dimension of its inputs.

    ``vmap(func)(x)`` is ``stack([func(x[0]), func(x[1]), …])``: ``in_dims`` says which
    dimension of each input is mapped (an int for every input, or a tuple with one entry per
    positional argument, each an int, None for an input passed whole to every call, or a
    tuple/list/dict shaped like that argument; negative dims count from the end). Keyword
    arguments are never mapped. ``out_dims`` says where the mapped dimension goes in each
    output (an int, or a tree like the outputs; None returns an output that no mapped input
    reaches as it is). func may return a Tensor or a tuple/list/dict of them. Errors are
    torch's: mapped dims of different sizes, in_dims that do not fit the arguments, a dim
    out of range, nothing mapped, an output that is not a Tensor where out_dim is an int.

    ``randomness``: 'error' (a random op inside func raises, as torch's), 'different' (each
    slice draws its own numbers) or 'same' (every slice draws the same numbers; afterwards
    the generator stands where one slice's draws leave it). ``chunk_size`` (None or > 0) is
    accepted; torch uses it to bound memory, and the results do not depend on it.

    How: ember has no per-op batching rules, so this is torch's fallback for ops without one,
    for every op: func runs once per slice and the outputs are stacked. It is for correctness
    and convenience (per-sample gradients ``vmap(grad(loss), in_dims=(None, 0, 0))``, model
    ensembles, Jacobians by ``vmap`` over ``autograd.grad``), not for speed: the cost is B
    calls of func. The slicing and the stacking are ember ops, so gradients flow through vmap
    back to unmapped inputs and captured tensors, and it nests with grad, grad_and_value,
    functional_call and itself. Inside func, ``autograd.grad`` keeps the graph it walks by
    default (torch calls it once; here the next slice walks it again), and ``backward()``
    raises, as torch's.

    Where looping cannot see what torch sees: data-dependent Python (``.item()``, ``if x >
    0``) works per slice where torch refuses it; an in-place write to a tensor from outside
    func happens once per slice (torch refuses those that take a mapped value and does the
    others once); an out_dim None output whose slices happen to be equal (always so for a
    batch of one) is returned where torch, seeing it mapped, raises. With a mapped size of 0,
    func runs once on zero slices to learn the outputs' shapes, which have size 0 at out_dim.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. Got"
            f" {randomness}"
        )
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        _check_out_dims(func, out_dims)
        _check_chunk_size(chunk_size)
        size, flat, dims, spec = _mapped_inputs(func, in_dims, args)
        empty = size == 0
        if empty:
            calls: Any = [[x if d is None else _empty_slice(x, d) for x, d in zip(flat, dims)]]
        else:
            cols = [None if d is None else _slices(x, d, size) for x, d in zip(flat, dims)]
            calls = ([x if c is None else c[i] for x, c in zip(flat, cols)] for i in range(size))
        # an empty batch draws nothing in torch under 'different': the probe's draws are undone
        probe_undo = empty and randomness == "different"
        level = _Level("same" if probe_undo else randomness)
        outs = _run(func, level, calls, spec, kwargs)
        if probe_undo:
            level.restore()
        return _outputs(func, outs, out_dims, empty)

    return wrapped


def stack_module_state(models) -> tuple[dict, dict]:
    """torch.func.stack_module_state: the parameters and the buffers of same-class models,
    each name's tensors stacked along a new dim 0, for ``vmap`` over ``functional_call``
    (an ensemble run as one model). Stacked parameters that required grad are new leaves that
    do; the models' own are left as they are."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError(
            "stack_module_state: Expected all models to have the same training/eval mode."
        )
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named: list) -> dict:
        out = {}
        for k in named[0]:
            ts = [d[k] for d in named]
            if len({t.requires_grad for t in ts}) > 1:
                raise RuntimeError(f"Expected {k} from each model to have the same .requires_grad")
            out[k] = stack(ts).detach().requires_grad_() if ts[0].requires_grad else stack(ts)
        return out

    params = stacked([dict(m.named_parameters()) for m in models])
    return params, stacked([dict(m.named_buffers()) for m in models])
