"""Hooks on a graph node (a ``grad_fn``), as torch's ``Node.register_prehook``/``register_hook``.

    y.grad_fn.register_prehook(hook)   hook(grad_outputs) -> tuple | None
    y.grad_fn.register_hook(hook)      hook(grad_inputs, grad_outputs) -> tuple | None

``grad_outputs`` holds ∂L/∂(each output of the node), one entry per output, None where no
gradient arrived; ``grad_inputs`` holds what the node's backward computed, ∂L/∂(each input),
None for an input that needs none. A pre-hook runs after the output tensors' own hooks and
their ``retain_grad`` (which so see the gradient before it), just before the node's
backward, and what it returns replaces ``grad_outputs``; a hook runs right after the
backward, and what it returns replaces ``grad_inputs``: a None in the returned tuple drops
that gradient. This is the order of torch's engine. The hooks see Tensors; in a
``create_graph`` sweep they see the recorded ones, so what a hook computes is differentiated
too. A returned tuple must have one entry per slot and keep each gradient's dtype and shape.

Function (function.py) keeps the hooks in its ``node_hooks`` entry, (pre-hooks, hooks), each
a table of hooks.py; the three sweeps (autograd.py, autograd_grad.py, autograd_higher.py) call
the two runners below only for a node that has some.
"""

from __future__ import annotations


def _given(g, recorded: bool):
    """A gradient as the hook sees it: a Tensor (the recorded one in a create_graph sweep)."""
    if g is None or recorded:
        return g
    from .tensor import _wrap  # the engine sits below tensor.py: looked up when a hook runs

    return _wrap(g, None, 0)


def _returned(hook, out, before: list, shapes: list, recorded: bool) -> list:
    """The hook's tuple, checked against the gradients it replaces, as arrays again (as the
    recorded Tensors in a create_graph sweep)."""
    from .tensor import Tensor

    name = getattr(hook, "__name__", hook)
    if not isinstance(out, tuple):
        raise TypeError(f"expected tuple, but hook returned {type(out).__name__!r}")
    if len(out) != len(before):
        raise RuntimeError(
            f"hook {name!r} has returned an incorrect number of values (got {len(out)}, but"
            f" expected {len(before)})"
        )
    values = []
    for v, old, shape in zip(out, before, shapes):
        if v is None:
            values.append(None)
            continue
        if not isinstance(v, Tensor):
            raise TypeError(f"expected Variable, but hook returned {type(v).__name__!r}")
        if old is not None and v.dtype != old.dtype:
            raise RuntimeError(
                f"hook {name!r} has changed the type of value (was {old.dtype}, got {v.dtype})"
            )
        if shape is not None and tuple(v.shape) != tuple(shape):
            raise RuntimeError(
                f"hook {name!r} has changed the size of value (was {tuple(shape)}, got"
                f" {tuple(v.shape)})"
            )
        values.append(v if recorded else v.array)
    return values


def run_pre_hooks(table: dict, gys: list, recorded: bool = False) -> list:
    """The node's pre-hooks, in order, on ``gys`` (its outputs' gradients); returns the list
    the backward gets."""
    for hook in list(table.values()):
        out = hook(tuple(_given(g, recorded) for g in gys))
        if out is not None:
            gys = _returned(hook, out, gys, [getattr(g, "shape", None) for g in gys], recorded)
    return gys


def run_post_hooks(fn, table: dict, in_grads, gys: list, recorded: bool = False) -> list:
    """The node's hooks, in order, on ``in_grads`` (what its backward computed, None where an
    input needs no gradient) and ``gys``; returns the gradients the sweep passes on."""
    parents = fn.parents
    in_grads = [None if p is None else g for p, g in zip(parents, in_grads)]
    shapes = [None if p is None else p.shape for p in parents]
    outputs = tuple(_given(g, recorded) for g in gys)
    for hook in list(table.values()):
        out = hook(tuple(_given(g, recorded) for g in in_grads), outputs)
        if out is not None:
            in_grads = _returned(hook, out, in_grads, shapes, recorded)
    return in_grads
