"""``ember.autograd.grad``: gradients of outputs with respect to chosen inputs, no ``.grad``.

The sweep is ``run_backward``'s (a heap of Functions, newest first), with three changes:

- it is seeded from several outputs at once, each with its ``grad_output``;
- it runs only the Functions that lie on a path from the outputs to some requested input
  (torch's engine does the same), found by one walk of the graph before the sweep;
- the gradient reaching a requested input is collected rather than accumulated: for a
  non-leaf input, the summed gradient of its (Function, output) slot when that Function is
  popped (after its tensors' hooks where that Function is not run on, before them where it
  is, as torch's engine captures it); for a leaf, the sum of its consumers' contributions
  after the sweep, passed through the leaf's own hooks. No leaf's ``.grad`` is written; a
  non-leaf that asked for ``retain_grad()`` and lies on a path, or is itself requested,
  still gets one, as in torch.

With ``create_graph=True`` the sweep is autograd_higher.py's: every step is recorded, so the
gradients can be differentiated again (for the ops that module covers).
"""

from __future__ import annotations

import warnings
from heapq import heappop

from .autograd import (
    FREED_GRAPH_MESSAGE,
    _output_hooks,
    add_leaf_grad,
    check_saved,
    free,
    newest_write,
    push_grad,
    tasks,
    unpack_saved,
)
from .autograd_node_hooks import run_post_hooks, run_pre_hooks
from .backend import xp
from .function import backward_started, observers
from .ops.complex import any_complex, complex_backward


def _as_tuple(x) -> tuple:
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """torch.autograd.grad, torch's arguments in torch's order: see ``_grad``. This registers
    the sweep as the running backward (register_multi_grad_hook asks which tensors it
    reaches). ``only_inputs`` is ignored, as torch ignores it (with its warning when False);
    ``is_grads_batched`` takes each grad_output's first dim as a batch (autograd_grad_batched)."""
    if not only_inputs:
        warnings.warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To"
            " accumulate gradient for other parts of the graph, please use"
            " torch.autograd.backward.",
            FutureWarning,
            stacklevel=2,
        )
    outs = _as_tuple(outputs)
    gos = given_grads(grad_outputs, len(outs))
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True"
        )
    if is_grads_batched:
        from .autograd_grad_batched import batched_grad

        return batched_grad(_task_grad, outs, inputs, gos, retain_graph, create_graph,
                            allow_unused, materialize_grads)  # fmt: skip
    return _task_grad(outs, inputs, gos, retain_graph, create_graph, allow_unused,
                      materialize_grads)  # fmt: skip


def _task_grad(outs: tuple, *args) -> tuple:
    """``_grad`` registered in ``tasks`` while it runs."""
    tasks.append([getattr(o, "_ctx", None) for o in outs])
    try:
        return _grad(outs, *args)
    finally:
        tasks.pop()


def given_grads(grad_outputs, n: int) -> tuple:
    """grad_outputs as torch reads them: one Tensor, or a sequence of Tensors and Nones (only
    the first ``n`` are used, as torch's zip uses them); None is a None per output. An array
    stands for a Tensor (ember's array interop); numbers and lists of numbers are refused
    with torch's TypeError, where ember used to turn them into gradients."""
    if grad_outputs is None:
        return (None,) * n
    if is_gradient(grad_outputs):
        return (grad_outputs,)
    if not isinstance(grad_outputs, (list, tuple)):
        raise TypeError(
            f"grad_outputs must be a Tensor, a sequence of Tensors (or None), or None, but got"
            f" {type(grad_outputs).__name__}"
        )
    for g in grad_outputs:
        if g is not None and not is_gradient(g):
            raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
    return tuple(grad_outputs[:n])


def is_gradient(g) -> bool:
    """A Tensor, or an array of the backend (which ember takes wherever a Tensor goes)."""
    from .tensor import Tensor

    return isinstance(g, (Tensor, xp.ndarray))


def _grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple:
    """Return d(outputs)/d(inputs)·grad_outputs, one tensor per input (torch.autograd.grad).

    outputs: a tensor or a sequence of tensors; a scalar needs no grad_output.
    inputs: leaf or non-leaf tensors that require grad.
    allow_unused: give None (zeros with ``materialize_grads``) for an input the outputs do
    not depend on instead of raising. retain_graph: keep the saved arrays (default: free
    them, as ``backward`` does, except inside vmap, which calls this once per slice).
    """
    from .backend_random import vmap_levels
    from .tensor import Tensor, _leaf_hooks, _wrap, fit_grad
    from .tensor_autograd import seed_array

    if retain_graph is None:
        # inside vmap the function runs once per slice: a graph from outside it (torch's
        # Jacobian example, vmap over autograd.grad(y, x, v)) is walked again by the next slice
        retain_graph = create_graph or bool(vmap_levels())
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if not outs:
        raise RuntimeError("grad requires at least one output")
    if not ins:
        raise RuntimeError("grad requires at least one input")
    gos = given_grads(grad_outputs, len(outs))
    if len(gos) != len(outs):
        raise RuntimeError(
            f"grad requires one grad_output per output: got {len(gos)} grad_outputs"
            f" for {len(outs)} outputs"
        )
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"inputs[{i}] is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")

    # seeds: (output tensor, gradient array)
    seeds = []
    for i, (out, go) in enumerate(zip(outs, gos)):
        if not isinstance(out, Tensor):
            raise TypeError(f"outputs[{i}] is a {type(out).__name__}, not a Tensor")
        if not out.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        if go is None:
            if out.array.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs: outputs[{i}] has"
                    f" shape {out.shape}; pass grad_outputs"
                )
            if out.array.dtype.kind == "c":  # torch's rule, as Tensor.backward's
                raise RuntimeError("grad can be implicitly created only for real scalar outputs")
            g = xp.ones_like(out.array)
        else:
            g = seed_array(go, out.array.dtype, i)
            if g.shape != out.array.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and"
                    f" output[{i}] has a shape of {out.array.shape}"
                )
        seeds.append((out, g))

    # which inputs are where: leaves by id, non-leaves by (Function, output index)
    leaf_inputs = {id(t): t for t in ins if t._ctx is None}
    slot_inputs = {(t._ctx, t._idx) for t in ins if t._ctx is not None}
    capture_fns = {fn for fn, _ in slot_inputs}

    # the Functions to run: those with a path to a requested input through their parents
    reachable, stack = {}, [o._ctx for o, _ in seeds if o._ctx is not None]
    while stack:
        fn = stack.pop()
        if fn in reachable:
            continue
        reachable[fn] = None
        stack.extend(p._ctx for p in fn.parents if p is not None and p._ctx is not None)
    needed = set()
    for fn in sorted(reachable, key=lambda f: f.seq):  # parents' Functions come first
        if any(
            p is not None and _leads_to_input(p, leaf_inputs, needed, slot_inputs)
            for p in fn.parents
        ):
            needed.add(fn)
    wanted = needed | capture_fns
    if create_graph:  # every step recorded, so the gradients can be differentiated again
        from .autograd_higher import recorded_grad

        if any(g.dtype.kind == "c" for _, g in seeds) or any(
            p is not None and p.array.dtype.kind == "c" for fn in needed for p in fn.parents
        ):
            raise TypeError(
                "create_graph=True (double backward) is real-only in ember: a complex"
                " gradient cannot be recorded for differentiation"
            )
        as_tensor = {id(go): go for go in gos if isinstance(go, Tensor)}
        seeds = [(out, as_tensor.get(id(go), Tensor(g))) for (out, g), go in zip(seeds, gos)]
        return recorded_grad(seeds, ins, wanted, needed, allow_unused, materialize_grads)

    captured = {}  # id(input) or (fn, idx) -> gradient array
    leaves = {}
    grads, heap = {}, []
    for out, g in seeds:
        fn = out._ctx
        if fn is None:  # a leaf output: its own gradient, if it is also an input
            if id(out) in leaf_inputs:
                add_leaf_grad(leaves, out, g)
            continue
        if fn in wanted:
            push_grad(grads, heap, fn, out._idx, g)

    while heap:
        fn = heappop(heap)[1]
        gys = grads.pop(fn)
        d = fn.__dict__
        run = fn in needed
        # torch's engine: a node that is only captured runs its tensors' hooks first (the
        # gradient returned is the hooked one); a node that runs on captures before them
        if not run:
            _output_hooks(d, gys)
        if fn in capture_fns:
            for i, gy in enumerate(gys):
                if gy is not None and (fn, i) in slot_inputs:
                    captured[(fn, i)] = gy
        if not run:
            continue
        if fn.freed:
            raise RuntimeError(FREED_GRAPH_MESSAGE)
        if fn.seq < newest_write[0]:
            check_saved(fn)
        _output_hooks(d, gys)
        node_hooks = d.get("node_hooks")  # grad_fn.register_prehook / register_hook
        if node_hooks and node_hooks[0]:
            gys = run_pre_hooks(node_hooks[0], gys)
        packed = d.get("packed")
        if packed:  # saved_tensors_hooks packed what forward saved: unpack it now
            unpack_saved(d, packed)
        if observers:  # a profiler takes the backward's start time here
            backward_started(fn)
        # only the edges that lead to a requested input are computed, as torch's engine: the
        # others' gradients (a weight's, in a gradient penalty wrt the input) are not needed,
        # and some are not implemented (zeta's wrt x, when only q's is asked for)
        asked = fn.needs_input_grad
        fn.needs_input_grad = tuple(
            n and p is not None and _leads_to_input(p, leaf_inputs, needed, slot_inputs)
            for n, p in zip(asked, fn.parents)
        )
        try:
            in_grads = _run_backward(fn, gys)
        finally:
            fn.needs_input_grad = asked
        if node_hooks and node_hooks[1]:
            in_grads = run_post_hooks(fn, node_hooks[1], in_grads, gys)
        if packed and retain_graph:  # the markers again: the next backward unpacks anew
            d.update(packed)
        if observers:
            for obs in observers:
                obs.on_backward(fn, gys, in_grads)
        for p, gi in zip(fn.parents, in_grads):
            if gi is None or p is None:
                continue
            ctx = p._ctx
            if ctx is None:
                if id(p) in leaf_inputs:
                    add_leaf_grad(leaves, p, gi)
            elif ctx in wanted:
                push_grad(grads, heap, ctx, p._idx, gi)
        if not retain_graph:
            free(fn)
    for key, (_leaf, g) in leaves.items():
        for hook in _leaf_hooks.get(key, ()):
            g = hook(g)
        captured[key] = g

    result = []
    for i, t in enumerate(ins):
        g = captured.get(id(t) if t._ctx is None else (t._ctx, t._idx))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in"
                    " the graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(_wrap(xp.zeros_like(t.array), None, 0) if materialize_grads else None)
            continue
        result.append(_wrap(fit_grad(g, t.array), None, 0))
    return tuple(result)


def _leads_to_input(p, leaf_inputs: dict, needed: set, slot_inputs: set) -> bool:
    """Whether the edge into tensor p reaches an input that autograd.grad was asked for."""
    ctx = p._ctx
    if ctx is None:
        return id(p) in leaf_inputs
    return ctx in needed or (ctx, p._idx) in slot_inputs


def _run_backward(fn, gys):
    """fn's backward on the gradients of its outputs (complex ones by torch's conjugate rules,
    ops/complex.py): autograd._sweep's dispatch, which that hot loop keeps inline."""
    if fn.multi_output:  # any output's gradient may be the complex one (gys[0] None)
        return complex_backward(fn, gys) if any_complex(gys) else fn.backward(*gys)
    g0 = gys[0]
    if g0 is not None and g0.dtype.kind == "c":
        return complex_backward(fn, gys)
    return fn.backward(g0)
