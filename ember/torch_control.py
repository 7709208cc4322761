"""torch's eager forms of control flow and of a few file and norm helpers: ``cond``,
``while_loop``, ``fork``/``wait`` (with a ``Future``), ``from_file`` and ``norm_except_dim``.

torch.cond and torch.while_loop exist so that torch.compile and torch.export can capture
data-dependent control flow in one graph. ember runs eagerly and captures no graph, so they
are what they mean:

    cond(pred, true_fn, false_fn, operands)  = true_fn(*operands) if pred else false_fn(*operands)
    while_loop(cond_fn, body_fn, carried)    : while cond_fn(*carried): carried = body_fn(*carried)

and gradients flow through the branch or the iterations that ran. ``fork(fn, *args)`` runs fn
at once (torch.jit's asynchronous fork is a scheduling choice; the result is the same) and
returns a completed Future; ``wait(future)`` gives its value.
"""

from __future__ import annotations

import os

from .backend import map_file, xp
from .promotion import default_float
from .tensor import Tensor

__all__ = ["Future", "cond", "fork", "from_file", "norm_except_dim", "wait", "while_loop"]


def _truth(pred, what: str) -> bool:
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(
                f"Expected {what} to be bool or single-element tensor, but got a tensor of"
                f" shape {list(pred.shape)}."
            )
        return bool(pred.detach().array.reshape(()))
    if isinstance(pred, (bool, int, float)):
        return bool(pred)
    raise RuntimeError(f"Expected {what} to be bool or tensor, but got {pred}.")


def cond(pred, true_fn, false_fn, operands=()):
    """true_fn(*operands) where ``pred`` (a bool or one-element tensor) holds, else
    false_fn(*operands)."""
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(
            "Expect operands to be a tuple of possibly nested dict/list/tuple that only consists"
            f" of tensor leaves, but got {type(operands).__name__}."
        )
    return (true_fn if _truth(pred, "pred") else false_fn)(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Apply body_fn to the carried values while cond_fn of them holds; the final values as
    a tuple."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(
            f"carried_inputs must be a tuple or list, got {type(carried_inputs).__name__}"
        )
    carried = tuple(carried_inputs)
    while _truth(cond_fn(*carried), "cond_fn's output"):
        out = body_fn(*carried)
        out = out if isinstance(out, (tuple, list)) else (out,)
        if len(out) != len(carried):
            raise RuntimeError(
                f"body_fn should return the same number of elements as carried_inputs: got"
                f" {len(out)}, expected {len(carried)}"
            )
        carried = tuple(out)
    return carried


class Future:
    """torch.futures.Future, completed: ``wait()`` and ``value()`` give the result,
    ``then(fn)`` a Future of fn(self)."""

    def __init__(self, value=None) -> None:
        self._value = value

    def done(self) -> bool:
        return True

    def wait(self):
        return self._value

    value = wait

    def set_result(self, result) -> None:
        self._value = result

    def then(self, callback) -> Future:
        return Future(callback(self))


def fork(func, *args, **kwargs) -> Future:
    """torch.jit.fork: func(*args, **kwargs) as a Future (run now; see the module docstring)."""
    return Future(func(*args, **kwargs))


def wait(future: Future):
    """torch.jit.wait: a Future's value."""
    return future.wait()


def from_file(filename, shared=None, size: int = 0, *, dtype=None, layout=None, device=None,
              pin_memory: bool = False) -> Tensor:  # fmt: skip
    """A tensor of ``size`` elements read from the start of a file by memory mapping. With
    ``shared=True`` writes into the tensor go into the file; otherwise they stay private
    (copy on write)."""
    dt = xp.dtype(default_float() if dtype is None else dtype)
    need = size * dt.itemsize
    have = os.path.getsize(filename)
    if need > have:
        raise RuntimeError(
            f"file <{filename}> size <{have}> is smaller than the required mapping size <{need}>"
        )
    if size == 0:
        return Tensor(xp.empty(0, dt))
    return Tensor(map_file(filename, dt, size, bool(shared)))


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:  # noqa: A002
    """‖v‖_pow over every dimension but ``dim``, kept as size-1 axes (dim = −1: the norm of
    the whole tensor): weight norm's ‖v‖."""
    if dim == -1:
        return v.norm(pow)
    axes = tuple(a for a in range(v.ndim) if a != dim % v.ndim)
    powered = v.abs().pow(pow)
    # no other dim (a 1-D v): nothing to sum; an empty dim list would sum every dim, as torch's
    total = powered.sum(axis=axes, keepdims=True) if axes else powered
    return total.pow(1.0 / pow)
