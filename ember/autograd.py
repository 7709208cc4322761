"""The backward engine: reverse-mode sweep over the graph of recorded Functions.

A graph node is a Function (``parents``: the input Tensors or None, ``n_outputs``,
``freed``); a Tensor is an edge (``_ctx``: the Function that made it, ``_idx``: which
output). The engine orders the nodes with an explicit stack (never recursion, so a
chain of a hundred thousand ops is as easy as three), calls each ``backward`` once
with the summed gradients of its outputs, and hands leaf gradients back to the
Tensor through ``leaf._accumulate_grad(g)``. It knows nothing else about Tensors,
so it sits below ``tensor.py``.
"""

from __future__ import annotations

from .function import observers

FREED_GRAPH_MESSAGE = (
    "Trying to backward through the graph a second time (or to use saved values after"
    " they were freed); call backward(retain_graph=True) the first time if you need to"
)


def topological_order(root_fn) -> list:
    """Every Function reachable from ``root_fn``, each after all Functions it depends on."""
    order, visited, stack = [], set(), [(root_fn, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if fn in visited:
            continue
        visited.add(fn)
        stack.append((fn, True))
        for p in fn.parents:
            if p is not None:
                ctx = p._ctx
                if ctx is not None and ctx not in visited:
                    stack.append((ctx, False))
    return order


def run_backward(root, g, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf)·g into every leaf's ``.grad``.

    Gradients arriving at one output from several consumers are summed into a new array
    (never in place: an op may hand the same array to two inputs). Unless
    ``retain_graph``, each Function's saved arrays are dropped once it has run.
    """
    root_fn = root._ctx
    if root_fn is None:
        root._accumulate_grad(g)
        return
    grads = {root_fn: [None] * root_fn.n_outputs}
    grads[root_fn][root._idx] = g
    for fn in reversed(topological_order(root_fn)):
        gys = grads.pop(fn, None)
        if gys is None:  # no path from root to here carries a gradient
            continue
        if fn.freed:
            raise RuntimeError(FREED_GRAPH_MESSAGE)
        retained = fn.__dict__.get("retained")
        if retained:  # non-leaf tensors that asked for retain_grad()
            for i, t in retained.items():
                if gys[i] is not None:
                    t.grad = None
                    t._accumulate_grad(gys[i])
        in_grads = fn.backward(*gys) if fn.multi_output else fn.backward(gys[0])
        if observers:
            for obs in observers:
                obs.on_backward(fn, gys, in_grads)
        for p, gi in zip(fn.parents, in_grads):
            if gi is None or p is None:
                continue
            ctx = p._ctx
            if ctx is None:
                p._accumulate_grad(gi)
                continue
            slot = grads.get(ctx)
            if slot is None:
                slot = grads[ctx] = [None] * ctx.n_outputs
            prev = slot[p._idx]
            slot[p._idx] = gi if prev is None else prev + gi
        if not retain_graph:
            fn.__dict__.clear()
            fn.freed = True
