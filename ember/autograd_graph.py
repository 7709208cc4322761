"""torch.autograd.graph: hooks on the values ops save for backward, and multi-tensor grad hooks.

- ``saved_tensors_hooks(pack_hook, unpack_hook)``: while the block is open, every array an op
  recorded in it saves for backward goes through ``pack_hook`` (as a Tensor) when the op runs;
  what pack returns is kept instead, and ``unpack_hook(packed)`` must give back the Tensor
  whose array the backward then uses. As in torch, the hooks of the op's recording time
  apply (not those open at backward), the innermost block wins, and unpack runs when the
  backward of that op runs (again on each backward through a retained graph).
- ``save_on_cpu``: torch's pair that parks saved tensors in host memory; ember's arrays are
  already there, so it keeps a host copy.
- ``disable_saved_tensors_hooks(message)``: opening ``saved_tensors_hooks`` inside raises
  ``RuntimeError(message)``.
- ``register_multi_grad_hook(tensors, fn, mode="all"|"any")``.

How: a Function keeps what it saves as plain attributes, so ``apply`` (tensor.py) calls
``pack_saved`` after forward while ``function.saved_hooks`` is non-empty (one truth test per
recorded op otherwise). It replaces each array attribute, and each tuple/list holding arrays
(one level), by a marker, listed in ``fn.packed``; the engines (autograd.py, autograd_grad.py,
autograd_higher.py) put the unpacked arrays back just before the op's backward
(``unpack_saved``), and, when the graph is retained, the markers again after it.
"""

from __future__ import annotations

import contextlib
import threading

from . import autograd
from .backend import xp
from .function import Function, no_grad, saved_hooks
from .hooks import RemovableHandle
from .tensor import Tensor, _wrap

_ndarray = xp.ndarray
_ENGINE_KEYS = frozenset(("parents", "needs_input_grad", "hooks", "retained", "packed"))
_disabled: list = []  # messages of the open disable_saved_tensors_hooks blocks, innermost last


class _Packed:
    """A saved array's stand-in: what pack_hook returned, and the unpack_hook to undo it."""

    __slots__ = ("value", "unpack_hook")

    def __init__(self, value, unpack_hook) -> None:
        self.value, self.unpack_hook = value, unpack_hook

    def unpack(self):
        return self.unpack_tensor().array

    def unpack_tensor(self) -> Tensor:
        out = self.unpack_hook(self.value)
        if not isinstance(out, Tensor):
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got result of"
                f" type {type(out).__name__}"
            )
        return out

    def __repr__(self) -> str:
        return "<saved value packed by saved_tensors_hooks>"


class _PackedSeq:
    """A saved tuple or list whose arrays were packed one by one."""

    __slots__ = ("kind", "items")

    def __init__(self, kind, items) -> None:
        self.kind, self.items = kind, items

    def unpack(self):
        return self.kind(i.unpack() if isinstance(i, _Packed) else i for i in self.items)


def pack_saved(fn, inputs) -> None:
    """Pack the arrays ``fn`` saved in forward with the innermost open hooks (apply calls this
    for a recorded op while ``saved_hooks`` is non-empty). An array that is an input's is
    passed as that input Tensor, as torch passes the saved input itself."""
    pack, unpack = saved_hooks[-1]
    by_id = {id(t.array): t for t in inputs if isinstance(t, Tensor)}

    def one(a):
        t = by_id.get(id(a))
        return _Packed(pack(_wrap(a, None, 0) if t is None else t), unpack)

    d = fn.__dict__
    packed = {}
    with no_grad():  # a hook's own ops record nothing (and so save, and pack, nothing)
        for name, v in list(d.items()):
            if name in _ENGINE_KEYS:
                continue
            if v.__class__ is _ndarray:
                packed[name] = one(v)
            elif isinstance(v, (tuple, list)) and any(e.__class__ is _ndarray for e in v):
                items = [one(e) if e.__class__ is _ndarray else e for e in v]
                packed[name] = _PackedSeq(type(v), items)
    if packed:
        d.update(packed)
        d["packed"] = packed


def _check_enabled() -> None:
    if _disabled:
        raise RuntimeError(_disabled[-1])


class saved_tensors_hooks:  # noqa: N801 - torch's name
    """torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook): a context manager
    under which each value an op saves for backward is stored as ``pack_hook(tensor)`` and
    recovered with ``unpack_hook(packed)`` (which must return a Tensor) when backward needs it.

    As in torch: the hooks of the block the op was recorded in apply; nested blocks use the
    innermost; the pack hook must not modify its input in place. ember keeps the hooks for
    the whole process (torch's are per thread) and runs pack hooks under no_grad."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> None:
        _check_enabled()
        saved_hooks.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *exc) -> None:
        saved_hooks.pop()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - torch's name
    """torch.autograd.graph.save_on_cpu(pin_memory=False, device_type="cuda"): saved tensors
    move to host memory in forward and back to their device for backward. ember runs on the
    CPU, so each saved value is kept as a host copy (``pin_memory`` changes nothing)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        self.pin_memory, self.device_type = pin_memory, device_type

        def pack_to_cpu(tensor):
            return (tensor.device, _wrap(tensor.array.copy(), None, 0))

        def unpack_from_cpu(packed):
            _device, tensor = packed
            return tensor

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str):
    """torch.autograd.graph.disable_saved_tensors_hooks(error_message): inside, opening a
    saved_tensors_hooks block raises ``RuntimeError(error_message)``; the previous state
    returns on exit. A context manager and a decorator."""
    _disabled.append(error_message)
    try:
        yield
    finally:
        _disabled.pop()


#: torch.autograd.graph.Node, the class of every ``grad_fn``: ember's recorded op base class
Node = Function


def increment_version(tensor) -> None:
    """torch.autograd.graph.increment_version: tells torch's version counters that ``tensor``
    changed outside autograd's sight. ember keeps no version counters (an in-place change
    with grad gives the tensor new memory; the graph keeps what it saved), so there is
    nothing to tell."""


class allow_mutation_on_saved_tensors(contextlib.ContextDecorator):  # noqa: N801 - torch's name
    """torch.autograd.graph.allow_mutation_on_saved_tensors: inside, a tensor saved for
    backward may be changed in place, and backward uses the value it had when saved (torch
    clones it at the change). That is how ember always works: an in-place change gives the
    tensor new memory and leaves the saved array as it was (tensor_inplace.py), so the block
    changes nothing; it is a context manager (and a decorator) for torch's code."""

    def __enter__(self) -> allow_mutation_on_saved_tensors:
        return self

    def __exit__(self, *exc) -> None:
        return None


# --- register_multi_grad_hook ---------------------------------------------------------------

_reach_cache: dict = {}  # id(task) -> (task, set of ids of the Functions and leaves it reaches)


def _will_execute(t) -> bool:
    """Whether the innermost running backward reaches ``t`` (its Function, or the leaf)."""
    if not autograd.tasks:
        raise AssertionError("expected this hook to be called inside a backward call")
    task = autograd.tasks[-1]
    hit = _reach_cache.get(id(task))
    if hit is None or hit[0] is not task:
        seen, stack = set(), [r for r in task if r is not None]
        while stack:
            fn = stack.pop()
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            for p in fn.parents:
                if p is not None:
                    if p._ctx is None:
                        seen.add(id(p))
                    else:
                        stack.append(p._ctx)
        _reach_cache.clear()  # one task's answer at a time is enough
        hit = _reach_cache[id(task)] = (task, seen)
    return id(t if t._ctx is None else t._ctx) in hit[1]


class _MultiHandle(RemovableHandle):
    """register_multi_grad_hook's handle: ``remove()`` takes off the hook on every tensor."""

    def __init__(self, handles) -> None:
        self.handles = tuple(handles)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def register_multi_grad_hook(tensors, fn, *, mode: str = "all") -> RemovableHandle:
    """torch.autograd.graph.register_multi_grad_hook(tensors, fn, *, mode="all").

    ``"all"``: once per backward, after the gradient of every tensor the backward reaches is
    computed, ``fn(grads)`` with a list of one entry per tensor (None for those it did not reach).
    ``"any"``: ``fn(grad)`` once per backward, with the first of those gradients computed.
    The hook must not modify its arguments. Returns a handle whose ``remove()`` takes it off.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    lock = threading.Lock()
    if mode == "any":
        seen: set = set()

        def wrapped(grad):
            task = id(autograd.tasks[-1]) if autograd.tasks else None
            with lock:
                if task in seen:
                    return
                seen.clear()  # only the running backward's entry matters
                seen.add(task)
            fn(grad)

        return _MultiHandle(t.register_hook(wrapped) for t in tensors if t.requires_grad)

    state: dict = {}  # id(task) -> [task, calls so far, calls expected, buffer]

    def inner(idx):
        def hook(grad):
            task = autograd.tasks[-1] if autograd.tasks else None
            with lock:
                entry = state.get(id(task))
                if entry is None or entry[0] is not task:
                    expected = sum(_will_execute(t) for t in tensors if t.requires_grad)
                    entry = state[id(task)] = [task, 0, expected, [None] * len(tensors)]
                entry[3][idx] = grad
                entry[1] += 1
                done = entry[1] == entry[2]
                if done:
                    del state[id(task)]
            if done:
                fn(entry[3])  # a list, as torch passes it

        return hook

    return _MultiHandle(t.register_hook(inner(i)) for i, t in enumerate(tensors) if t.requires_grad)
