"""Each parameter's gradient as soon as backward has computed it, for DDP's overlap.

ember's engine (autograd.py) sums a leaf's gradient over its consumers during the sweep and
accumulates it into ``.grad`` only after the whole sweep, so post-accumulate-grad hooks all
fire at the end of backward, too late to overlap communication with the backward arithmetic
(torch's AccumulateGrad node runs as soon as the leaf's last consumer has). This observer
(``function.observers``, the profiler's interface) learns the same gradient earlier: at the
first op of a backward it counts, in the graph below the loss, the edges into each
parameter; after each op's backward it adds that op's contribution, in the engine's order
(g₁ + g₂ + …, the same arrays and the same additions); when a parameter's last edge has run
it computes what the engine will accumulate, ``fit_grad(g)`` (+ the ``.grad`` already there),
and hands it to ``on_ready`` — the same bits, before the sweep is over.

A parameter with ``register_hook`` hooks (which may change its gradient) or whose last edge
never runs (its consumer got no gradient) is left to the post-accumulate hook, as before.
Ops created during the sweep (utils.checkpoint's recomputation, a nested backward) are not
counted: their creation number is above the root's. DDP checks a sample of each early
gradient against what the engine accumulates, in case the two ever part.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from ...tensor_autograd import _leaf_hooks, fit_grad


class EarlyGradients:
    """An observer for one DDP's backward: ``on_ready(i, gradient)`` per parameter i."""

    def __init__(self, params: list, on_ready: Callable) -> None:
        self._params = [weakref.ref(p) for p in params]  # (a forgotten DDP leaks nothing)
        self._index = {id(p): i for i, p in enumerate(params)}
        self._on_ready = on_ready
        self._pending: dict[int, int] | None = None  # parameter → its edges still to run
        self._sums: dict[int, object] = {}
        self._root = -1  # the root's creation number: ops made later are not of this graph

    def reset(self) -> None:
        self._pending, self._sums, self._root = None, {}, -1

    def on_forward(self, fn, arrays, out) -> None:  # the loss's ops, between forward and backward
        pass

    def on_backward_start(self, fn) -> None:
        if self._pending is None:  # the first op of a backward: the root of its graph
            pending = self._edges(fn)
            self._pending = pending or None  # none of ours: the backward that follows may be
            self._root = fn.seq

    def on_backward(self, fn, grad_outputs, grad_inputs) -> None:
        pending = self._pending
        if not pending or fn.seq > self._root:  # (a checkpoint's recomputation: its own graph)
            return
        for p, g in zip(fn.parents, grad_inputs):
            if p is None or p._ctx is not None:
                continue
            i = self._index.get(id(p))
            if i is None or i not in pending:
                continue
            if g is not None:  # summed as the engine sums a leaf's contributions
                total = self._sums.get(i)
                self._sums[i] = g if total is None else total + g
            pending[i] -= 1
            if pending[i] == 0:
                del pending[i]
                total = self._sums.pop(i, None)
                p = self._params[i]()
                if total is not None and p is not None:  # as Tensor._accumulate_grad will
                    total = fit_grad(total, p.array)
                    self._on_ready(i, total if p.grad is None else p.grad.array + total)

    def _edges(self, root) -> dict[int, int]:
        """How many edges of the graph below ``root`` lead into each of our parameters."""
        counts: dict[int, int] = {}
        seen, stack = {id(root)}, [root]
        while stack:
            fn = stack.pop()
            for p in fn.parents:
                if p is None:
                    continue
                ctx = p._ctx
                if ctx is None:
                    i = self._index.get(id(p))
                    if i is not None:
                        counts[i] = counts.get(i, 0) + 1
                elif id(ctx) not in seen:
                    seen.add(id(ctx))
                    stack.append(ctx)
        return {i: n for i, n in counts.items() if not _leaf_hooks.get(id(self._params[i]()))}
