"""The backward engine: reverse-mode sweep over the graph of recorded Functions.

A graph node is a Function (``parents``: the input Tensors or None, ``n_outputs``,
``freed``, ``seq``: its creation number); a Tensor is an edge (``_ctx``: the Function
that made it, ``_idx``: which output). A Function is always created after the
Functions that made its inputs, so running nodes in decreasing ``seq`` runs every
node after all its consumers: the engine keeps a heap of the nodes that have
received a gradient and pops the newest (as PyTorch orders by sequence number). No
recursion and no separate topological sort, so a chain of a hundred thousand ops is
as easy as three. Leaf gradients are summed over their consumers and go back to the Tensor
once, through ``leaf._accumulate_grad(g)``: after the sweep, or, while any leaf has
post-accumulate-grad hooks, each leaf as soon as the last edge into it has run (torch's
AccumulateGrad timing: DistributedDataParallel launches a bucket's all_reduce from those
hooks while the sweep goes on through the earlier layers, and a hook finds the leaves that
torch would have accumulated before it in ``.grad``). The engine knows nothing else about
Tensors, so it sits below ``tensor.py``.
"""

from __future__ import annotations

from heapq import heappop, heappush

from .autograd_node_hooks import run_post_hooks, run_pre_hooks
from .autograd_saved_writes import check_saved, newest_write, sequence  # noqa: F401 - re-export
from .function import backward_started, observers
from .ops.complex import any_complex, complex_backward

#: register_post_accumulate_grad_hook's hooks by id(leaf) (tensor_misc.py registers them,
#: Tensor._accumulate_grad calls them). While any leaf has one, the engine counts the edges
#: into every leaf before the sweep and accumulates each as soon as its count runs out.
post_accumulate_hooks: dict[int, list] = {}

#: The backward sweeps running now, innermost last, each as the list of its root Functions:
#: register_multi_grad_hook (autograd_graph.py) asks which tensors the current one reaches.
tasks: list = []

FREED_GRAPH_MESSAGE = (
    "Trying to backward through the graph a second time (or to use saved values after"
    " they were freed); call backward(retain_graph=True) the first time if you need to"
)


def push_grad(grads: dict, heap: list, fn, idx: int, g) -> None:
    """Add g to the gradient of fn's output idx; schedule fn when it is the first one."""
    slot = grads.get(fn)
    if slot is None:
        slot = grads[fn] = [None] * fn.n_outputs
        heappush(heap, (-fn.seq, fn))
    prev = slot[idx]
    slot[idx] = g if prev is None else _accumulated(fn, idx, prev, g)


def _accumulated(fn, idx: int, prev, g):
    """prev + g, two consumers' gradients for output idx of fn. Shapes differ only where the
    output's shape was changed under no_grad after some consumers were recorded: its guard
    hook (autograd_saved_writes.guard_recorded_shape) then says so instead of NumPy."""
    try:
        return prev + g
    except ValueError:
        for hook in fn.__dict__.get("hooks", {}).get(idx, ()):
            if getattr(hook, "shape_guard", None):
                hook(prev)
                hook(g)
        raise


def add_leaf_grad(leaves: dict, leaf, g) -> None:
    """Sum g into leaves[id(leaf)] = [leaf, total]."""
    entry = leaves.get(id(leaf))
    if entry is None:
        leaves[id(leaf)] = [leaf, g]
    else:
        entry[1] = entry[1] + g


def _output_hooks(d: dict, gys: list) -> None:
    """A node's output hooks (register_hook), then its retain_grad() tensors, in that order
    (hooks first, so retain_grad sees the hooked gradient); gys is updated in place. d is the
    Function's __dict__."""
    hooks = d.get("hooks")
    if hooks:
        for i, output_hooks in hooks.items():
            if gys[i] is not None:
                for hook in output_hooks:
                    gys[i] = hook(gys[i])
    retained = d.get("retained")
    if retained:  # non-leaf tensors that asked for retain_grad(): summed, as torch's
        for i, t in retained.items():
            if gys[i] is not None:
                t._accumulate_grad(gys[i])


def free(fn) -> None:
    """Drop what a Function saved once backward has run it, and count it off its inputs'
    ``_used`` (the consumers an in-place change must wait for; tensor_inplace.py), once.

    A Function whose class is ``rerunnable`` (it keeps shapes and numbers, never an array: a
    sum, a reshape, x + y, x + 1, x · c) is not spent, as torch's nodes that saved no tensor
    are not: ``loss.backward()`` twice through such ops, or ``autograd.grad`` twice through a
    shared ``b = a - 1``, runs it again instead of raising."""
    d = fn.__dict__
    if fn.rerunnable:
        if "_released" in d:
            return
        d["_released"] = True
    else:
        d.clear()
        fn.freed = True
    for p in fn.parents:
        if p is not None:
            p._used -= 1


def awaited_edges(root_fn) -> dict[int, int] | None:
    """How many edges of the graph below ``root_fn`` lead into each leaf: one walk over the
    nodes, only while post-accumulate-grad hooks exist (None otherwise). Every leaf is
    counted, not only the hooked ones: as in torch, a hook that reads another parameter's
    ``.grad`` then finds it accumulated once that parameter's last edge has run."""
    if not any(post_accumulate_hooks.values()):  # only removed hooks left: nothing to time
        return None
    counts: dict[int, int] = {}
    seen, stack = {id(root_fn)}, [root_fn]
    while stack:
        for p in stack.pop().parents:
            if p is None:
                continue
            ctx = p._ctx
            if ctx is None:
                counts[id(p)] = counts.get(id(p), 0) + 1
            elif id(ctx) not in seen:
                seen.add(id(ctx))
                stack.append(ctx)
    return counts


def run_backward(root, g, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf)·g into every leaf's ``.grad``.

    Gradients arriving at one output from several consumers are summed into a new array
    (never in place: an op may hand the same array to two inputs). Unless
    ``retain_graph``, each Function's saved arrays are dropped once it has run.
    """
    root_fn = root._ctx
    tasks.append([root_fn])
    try:
        if root_fn is None:
            root._accumulate_grad(g)
        else:
            _sweep(root_fn, root._idx, g, retain_graph)
    finally:
        tasks.pop()


def unpack_saved(d: dict, packed: dict) -> None:
    """Put back, in a Function's __dict__ d, the arrays that saved_tensors_hooks packed
    (autograd_graph.py), through their unpack hooks: just before the op's backward."""
    for name, marker in packed.items():
        d[name] = marker.unpack()


def _sweep(root_fn, idx: int, g, retain_graph: bool) -> None:
    """run_backward's sweep, from output idx of root_fn."""
    grads, heap = {}, []  # heap of (-seq, fn): seq is unique, so Functions are never compared
    push_grad(grads, heap, root_fn, idx, g)
    # a leaf's contributions are summed here and accumulated once, after the sweep (torch's
    # AccumulateGrad): its hooks then see its whole gradient, not one consumer's share; while
    # post-accumulate hooks exist, each leaf as soon as its last edge has run (awaited_edges)
    leaves = {}
    awaited = awaited_edges(root_fn) if post_accumulate_hooks else None
    while heap:
        fn = heappop(heap)[1]
        gys = grads.pop(fn)
        if fn.freed:
            raise RuntimeError(FREED_GRAPH_MESSAGE)
        if fn.seq < newest_write[0]:  # recorded before a write outside autograd: saved it?
            check_saved(fn)
        d = fn.__dict__
        if d.get("hooks") or d.get("retained"):  # the helper runs only for hooked nodes
            _output_hooks(d, gys)
        node_hooks = d.get("node_hooks")  # grad_fn.register_prehook / register_hook
        if node_hooks and node_hooks[0]:
            gys = run_pre_hooks(node_hooks[0], gys)
        packed = d.get("packed")
        if packed:  # saved_tensors_hooks packed what forward saved: unpack it now
            unpack_saved(d, packed)
        if observers:  # a profiler takes the backward's start time here
            backward_started(fn)
        if fn.multi_output:  # any output's gradient may be the complex one (gys[0] None)
            in_grads = complex_backward(fn, gys) if any_complex(gys) else fn.backward(*gys)
        else:
            g0 = gys[0]
            if g0 is not None and g0.dtype.kind == "c":  # torch's conjugate rules: ops/complex.py
                in_grads = complex_backward(fn, gys)
            else:
                in_grads = fn.backward(g0)
        if node_hooks and node_hooks[1]:
            in_grads = run_post_hooks(fn, node_hooks[1], in_grads, gys)
        if packed and retain_graph:  # the markers again: the next backward unpacks anew
            d.update(packed)
        if observers:
            for obs in observers:
                obs.on_backward(fn, gys, in_grads)
        for p, gi in zip(fn.parents, in_grads):
            if awaited and p is not None and id(p) in awaited:
                _count_off(awaited, leaves, p, gi)
                continue
            if gi is None or p is None:
                continue
            ctx = p._ctx
            if ctx is None:  # add_leaf_grad and push_grad inlined: this runs once per edge
                entry = leaves.get(id(p))
                if entry is None:
                    leaves[id(p)] = [p, gi]
                else:
                    entry[1] = entry[1] + gi
                continue
            want = p.array.dtype  # torch's validate_outputs: a gradient takes its tensor's dtype
            if gi.dtype is not want and gi.dtype != want and gi.dtype.kind == want.kind == "f":
                gi = gi.astype(want)  # (x.float() · a float64: ∂L/∂x rounds through float32)
            slot = grads.get(ctx)
            if slot is None:  # first gradient for ctx: schedule it
                slot = grads[ctx] = [None] * ctx.n_outputs
                heappush(heap, (-ctx.seq, ctx))
            prev = slot[p._idx]
            try:
                slot[p._idx] = gi if prev is None else prev + gi
            except ValueError:  # shapes differ: see _accumulated
                _accumulated(ctx, p._idx, prev, gi)
        if not retain_graph:
            free(fn)
    for leaf, g in leaves.values():
        leaf._accumulate_grad(g)


def _count_off(awaited: dict, leaves: dict, p, gi) -> None:
    """One edge into an awaited leaf has run: sum its gradient (None adds nothing); when it
    was the last, accumulate the leaf now (its hooks run during the sweep)."""
    if gi is not None:
        add_leaf_grad(leaves, p, gi)
    left = awaited[id(p)] - 1
    if left:
        awaited[id(p)] = left
        return
    del awaited[id(p)]
    entry = leaves.pop(id(p), None)
    if entry is not None:
        p._accumulate_grad(entry[1])


from .autograd_grad import grad  # noqa: E402, F401 - ember.autograd.grad
