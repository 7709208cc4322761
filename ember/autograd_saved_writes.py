"""Writes outside autograd into memory that a recorded op saved: found at backward, as torch's
version counters find them.

An in-place change under grad mode is recorded (tensor_inplace.py), and the ops that used the
old value keep it. A write that is not recorded changes the memory itself: under ``no_grad``
(an optimizer's step, ``nn.init``, ``load_state_dict``), into a tensor that needs no grad, or
through ``detach()``. An op recorded before such a write that saved that memory would compute
its gradient from the new values. torch counts a version for every tensor and raises at
backward; so does ember, more cheaply:

- each such write is stamped with a number from the counter that numbers recorded ops
  (``sequence``; an op recorded later gets a larger number), under the memory it went into: the
  storage root of the array (ops/as_strided.py), since torch's counter is shared by a tensor
  and all its views;
- the backward sweeps compare each op's number with the newest stamp (``newest_write``). Only an op
  recorded before some write is looked at: normally none is, because a training step writes
  after its backward. Such an op raises torch's error if an array it saved lies in memory
  written after it was recorded.

An op that saved nothing from the written memory (``y = x + 1``) is not misled, and does not
raise, as in torch. Writes through ``.data`` or ``.numpy()`` are not stamped, since torch does
not count them either: the gradient then uses the new values, as torch's does.

A change of shape outside autograd (``h.unsqueeze_(1)`` under ``no_grad``) of a tensor that a
recorded op made is found the same way torch finds it: ``guard_recorded_shape`` hooks that op's
output, and a gradient of the new shape arriving there raises torch's "expected shape
compatible with".
"""

from __future__ import annotations

import itertools
import weakref

from .ops.as_strided import storage_root

#: Creation numbers for recorded Functions (``apply`` stamps ``fn.seq = next(sequence)``), and
#: the stamps of the writes below, from one count: "recorded before the write" is a comparison.
sequence = itertools.count()

#: The newest write's stamp, in a list so the sweeps read it without a module lookup.
newest_write = [-1]

#: id(storage root) → [stamp of its newest write, weak reference to the root]
_written: dict[int, list] = {}

MODIFIED_MESSAGE = (
    "one of the variables needed for gradient computation has been modified by an inplace"
    " operation: {what}, saved by {op} when it was recorded, was written afterwards outside"
    " autograd (under no_grad, by an optimizer's step, through detach(), or into a tensor that"
    " does not require grad). Run backward before changing it, or let the op use a clone()."
)


def note_write(array) -> None:
    """Stamp a write, outside autograd, into ``array``'s memory (see the module docstring)."""
    root = array if getattr(array, "base", None) is None else storage_root(array)
    key = id(root)
    stamp = next(sequence)
    entry = _written.get(key)
    if entry is not None and entry[1]() is root:
        entry[0] = stamp
    else:
        _written[key] = [stamp, _reference(root, key)]
    newest_write[0] = stamp


def note_tensor_write(t) -> None:
    """``note_write`` for a Tensor written in place, unless it is a ``.data`` alias."""
    if not getattr(t, "_untracked", False):
        note_write(t.array)


def _reference(root, key: int):
    """A weak reference to ``root`` whose death forgets its entry (a later array at the same
    address is other memory); an array type without weak references is held instead."""

    def forget(ref) -> None:
        entry = _written.get(key)
        if entry is not None and entry[1] is ref:
            del _written[key]

    try:
        return weakref.ref(root, forget)
    except TypeError:
        return lambda: root


def check_saved(fn) -> None:
    """Raise torch's error if an array ``fn`` saved lies in memory written after ``fn`` was
    recorded; the sweeps call this only for ops recorded before the newest write."""
    seq = fn.seq
    for value in fn.__dict__.values():
        for a in _saved_arrays(value):
            root = a if getattr(a, "base", None) is None else storage_root(a)
            entry = _written.get(id(root))
            if entry is not None and entry[0] > seq and entry[1]() is root:
                what = f"an array of shape {list(a.shape)} and dtype {a.dtype}"
                op = f"{type(fn).__name__}Backward"
                raise RuntimeError(MODIFIED_MESSAGE.format(what=what, op=op))


def _saved_arrays(value):
    """The arrays in one attribute of a Function: an array, a Tensor's array, or those in a
    tuple or list of them (one level deep, as Functions keep them)."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    for v in items:
        a = getattr(v, "array", v)  # a Tensor (custom Functions, stand-ins) → its array
        if hasattr(a, "__array_interface__") or hasattr(a, "__cuda_array_interface__"):
            if hasattr(a, "shape") and hasattr(a, "strides"):
                yield a


def guard_recorded_shape(t) -> None:
    """t, an output of a recorded op, changes shape under no_grad (``h.unsqueeze_(1)``): a
    gradient computed later for the new shape cannot go to that op, which made the old one.
    torch refuses it at backward with this message; a hook on the op's output checks it
    (autograd._accumulated asks it too, where two consumers' gradients disagree in shape)."""
    hooks = t._ctx.__dict__.setdefault("hooks", {}).setdefault(t._idx, [])
    if any(getattr(h, "shape_guard", False) for h in hooks):
        return  # changed before: the shape the op made is already guarded
    want, op = tuple(t.array.shape), type(t._ctx).__name__

    def guard(g):
        if tuple(g.shape) != want:
            raise RuntimeError(
                f"Function {op}Backward was handed an invalid gradient - got {list(g.shape)} but"
                f" expected shape compatible with {list(want)}: the output's shape was changed"
                " in place under no_grad after the op was recorded"
            )
        return g

    guard.shape_guard = guard.user_hook = guard  # user_hook: create_graph runs it too
    hooks.insert(0, guard)
