"""Tensor's autograd surface: ``backward()``, gradient hooks and ``retain_grad()``, and the
``_accumulate_grad`` that the engine (autograd.py) calls on every leaf it reaches.

Gradients are never written into in place: an op may hand the same array to two inputs
(``a + b``), so accumulation always makes a new array.

``Tensor``, ``apply``, ``as_array`` and ``_wrap`` are bound as this module's globals by
tensor.py (see the note at the end of tensor.py). tensor.py re-exports ``fit_grad``,
``check_hook_result``, ``RemovableHandle`` and ``_leaf_hooks``, which autograd_grad.py,
autograd_higher.py and tensor_misc.py import from there.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from . import tensor_misc
from .autograd import run_backward
from .backend import xp
from .backend_random import vmap_levels
from .errors import InputTypeError

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, _wrap, apply, as_array  # noqa: F401

#: Hooks of leaf tensors by id(tensor); a finalizer drops the entry with the tensor (a
#: WeakKeyDictionary would compare keys with Tensor.__eq__, which is elementwise). A
#: non-leaf's hooks live on the Function that made it, which the engine runs them from.
_leaf_hooks: dict[int, list] = {}


class AutogradTensorMethods:
    """backward, register_hook, retain_grad, and the leaves' gradient accumulation."""

    __slots__ = ()

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:  # fmt: skip
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (only into ``inputs`` when
        given). With ``create_graph`` the gradients keep a graph of their own, so they can be
        differentiated again (autograd_higher.py), and the graph is kept. Inside vmap it
        raises, as torch's (each slice would add its part to ``.grad``)."""
        if vmap_levels():
            raise RuntimeError(
                "backward() called inside a functorch transform. This is not supported, please"
                " use functorch.grad or functorch.vjp instead or call backward() outside of"
                " functorch transforms."
            )
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad and has no grad_fn"
            )
        if gradient is None:
            if self.array.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar output, got shape"
                    f" {self.array.shape}; pass gradient= of that shape"
                )
            if self.array.dtype.kind == "c":  # torch's rule: which gradient would 1 be?
                raise RuntimeError("grad can be implicitly created only for real scalar outputs")
            g = xp.ones_like(self.array)
        else:
            if not isinstance(gradient, (Tensor, xp.ndarray)):  # torch: TypeError, not a cast
                raise TypeError(
                    f"backward: gradient must be a Tensor (or None), but got"
                    f" {type(gradient).__name__}"
                )
            g = seed_array(gradient, self.array.dtype)
            if g.shape != self.array.shape:
                raise RuntimeError(
                    f"gradient has shape {g.shape} but the tensor has shape {self.array.shape}"
                )
        if create_graph or inputs is not None:
            self._backward_into(g, retain_graph, create_graph, inputs)
            return
        run_backward(self, g, bool(retain_graph))

    def _backward_into(self, g, retain_graph, create_graph: bool, inputs) -> None:
        """backward through autograd.grad: into ``inputs``, or every leaf that requires grad."""
        from .autograd_grad import grad

        if inputs is None:
            inputs, seen, stack = [], set(), [self]
            while stack:
                t = stack.pop()
                if t._ctx is None:
                    if t.requires_grad and id(t) not in seen:
                        seen.add(id(t))
                        inputs.append(t)
                    continue
                if id(t._ctx) not in seen:
                    seen.add(id(t._ctx))
                    stack.extend(p for p in t._ctx.parents if p is not None)
        inputs = _distinct_inputs(inputs)
        # a non-leaf input retains its gradient from now on, as torch's; during this sweep
        # only here, so that it is not accumulated twice
        retaining = [t for t in inputs if t._ctx is not None]
        for t in retaining:
            retained = t._ctx.__dict__.get("retained")
            if retained and retained.get(t._idx) is t:
                del retained[t._idx]
        keep = create_graph if retain_graph is None else retain_graph
        try:
            grads = grad(self, inputs, Tensor(g), retain_graph=keep, create_graph=create_graph,
                         allow_unused=True)  # fmt: skip
        finally:
            for t in retaining:
                t.retain_grad()
        for t, gi in zip(inputs, grads):
            if gi is None:
                continue
            if create_graph:
                t.grad = gi if t._grad is None else t._grad + gi
            else:
                t._accumulate_grad(gi.array)

    def _accumulate_grad(self, g) -> None:
        """Add ``g`` into ``.grad`` (a new array each time: ``g`` may be shared; see above)."""
        if _leaf_hooks:
            for hook in _leaf_hooks.get(id(self), ()):
                g = hook(g)
        g = fit_grad(g, self.array)
        old = self._grad
        if old is not None and old.requires_grad and self._ctx is None:
            # a leaf's .grad with a graph (from create_graph=True): torch's AccumulateGrad adds
            # in place under no_grad, so the tensor, its requires_grad and grad_fn stay; ember
            # swaps in the sum. (retain_grad's .grad is summed out of place, as torch's.)
            old.array = old.array + g
        else:
            self.grad = _wrap(g if old is None else old.array + g, None, 0)
        if tensor_misc.post_accumulate_hooks:  # register_post_accumulate_grad_hook's
            for hook in list(tensor_misc.post_accumulate_hooks.get(id(self), ())):
                hook(self)

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` each time the gradient with respect to this tensor is computed;
        a hook that returns a tensor replaces the gradient (torch's Tensor.register_hook).

        Hooks run in the order registered, before the gradient is accumulated into a leaf's
        ``.grad`` or kept by ``retain_grad()``; ``handle.remove()`` takes one off again.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        shape = self.array.shape

        def on_grad(g):  # arrays in and out: the engine knows nothing of Tensors
            out = hook(_wrap(g, None, 0))
            if out is None:
                return g
            if not isinstance(out, (Tensor, xp.ndarray)):  # torch: no number, no list
                raise TypeError(f"expected Variable, but hook returned {type(out).__name__!r}")
            out = as_array(out)
            check_hook_result(hook, out.shape, shape)
            if out.dtype != g.dtype:  # torch refuses every change of dtype
                name = getattr(hook, "__name__", hook)
                if out.dtype.kind == "c" and g.dtype.kind != "c":  # as fit_grad says it
                    raise InputTypeError(
                        f"a complex gradient ({out.dtype}) reached a real tensor ({g.dtype},"
                        f" shape {tuple(shape)}): hook {name!r} has changed the type of value"
                    )
                raise RuntimeError(
                    f"hook {name!r} has changed the type of value (was {g.dtype}, got {out.dtype})"
                )
            return out

        on_grad.user_hook = hook  # create_graph=True calls it on the recorded Tensor itself
        if self._ctx is None:
            hooks = _leaf_hooks.get(id(self))
            if hooks is None:
                hooks = _leaf_hooks[id(self)] = []
                weakref.finalize(self, _leaf_hooks.pop, id(self), None)
        else:
            hooks = self._ctx.__dict__.setdefault("hooks", {}).setdefault(self._idx, [])
        hooks.append(on_grad)
        return RemovableHandle(hooks, on_grad)

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward (summed over backwards, as
        a leaf's); refused on a tensor that does not require grad, as torch refuses it."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is not None:
            self._retain = True
            retained = self._ctx.__dict__.setdefault("retained", {})
            retained[self._idx] = self
        return self


def _distinct_inputs(inputs) -> list:
    """backward's ``inputs``: Tensors, each once (torch accumulates a repeated one once)."""
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    seen, distinct = set(), []
    for t in inputs:
        if not isinstance(t, Tensor):
            raise InputTypeError(
                f"all inputs have to be Tensors or GradientEdges, but got {type(t).__name__}"
            )
        if id(t) not in seen:
            seen.add(id(t))
            distinct.append(t)
    return distinct


def check_hook_result(hook, got, want) -> None:
    """A register_hook hook must return None or a gradient of the tensor's own shape."""
    if tuple(got) != tuple(want):
        raise RuntimeError(
            f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape"
            f" {tuple(got)} for a tensor of shape {tuple(want)}"
        )


def seed_array(gradient, dtype, i: int = 0):
    """A given output gradient as an array of the output's dtype; a complex one for a real
    output is refused, as torch refuses it (the cast would drop its imaginary part)."""
    src = gradient.array if isinstance(gradient, Tensor) else gradient
    if dtype.kind != "c" and (isinstance(src, complex) or getattr(src, "dtype", None) is not None
                              and src.dtype.kind == "c"):  # fmt: skip
        raise RuntimeError(
            f"Mismatch in dtype: grad_output[{i}] is complex ({getattr(src, 'dtype', 'complex')})"
            f" and output[{i}] is real ({dtype})"
        )
    return as_array(gradient, dtype)


def fit_grad(g, data):
    """A gradient in ``data``'s shape and dtype (broadcast back, cast where they differ).

    Ops give a real input of a complex computation the real part of its gradient themselves
    (ops/complex.py), so a complex gradient reaching a real tensor here came from outside
    the ops (a hook, a grad_outputs): an error, as in torch, not a silent cut of Im."""
    if g.shape != data.shape:
        g = xp.broadcast_to(g, data.shape)
    if g.dtype != data.dtype:
        if g.dtype.kind == "c" and data.dtype.kind != "c":
            raise TypeError(
                f"a complex gradient ({g.dtype}) reached a real tensor ({data.dtype}, shape"
                f" {tuple(data.shape)}): a hook or grad_outputs gave it; the ops give a real"
                " tensor the real part of its gradient themselves"
            )
        g = g.astype(data.dtype)
    return g


class RemovableHandle:
    """What ``register_hook`` returns: ``remove()`` unregisters the hook (torch's name)."""

    def __init__(self, hooks: list, hook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
