"""``ember.autograd.grad(..., is_grads_batched=True)``: many vector-Jacobian products at once.

The first dim of every grad_output is a batch: row b asks for Σ_k v_k[b]·∂out_k/∂inputs, and
the answer for each input is those rows stacked, (B, *input.shape). torch maps the backward
with vmap; here it is one sweep per row over the same graph (kept for the next row, and after
the last as ``retain_graph`` says), so the values, the refusals and the freeing of the graph
are those of B plain calls. An input no row reaches is None, or with ``materialize_grads``
zeros of the input's own shape (not batched), as torch gives it.
"""

from __future__ import annotations

from .backend import xp


def batched_grad(run, outs: tuple, inputs, gos: tuple, retain_graph, create_graph: bool,
                 allow_unused, materialize_grads: bool) -> tuple:  # fmt: skip
    """``run(outs, inputs, gos, retain_graph, create_graph, allow_unused, materialize)`` (the
    plain autograd.grad) once per row of the batched ``gos``; the rows' results stacked."""
    from .functional.shape import stack
    from .tensor import Tensor, _wrap

    sizes = set()
    for i, (out, go) in enumerate(zip(outs, gos)):
        if not isinstance(go, Tensor):
            raise ValueError(
                "is_grads_batched=True needs a batched Tensor for every grad_output (its first"
                f" dim the batch), but grad_output[{i}] is None"
            )
        want = tuple(getattr(out, "shape", ()))
        if go.ndim == 0:  # torch's vmap indexes its batch dim, which a 0-d tensor lacks
            raise IndexError(
                f"is_grads_batched=True: grad_output[{i}] is 0-d, with no first dim to batch over"
            )
        if tuple(go.shape[1:]) != want:
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each"
                " grad_output as the batch dimension. The sizes of the remaining dimensions are"
                " expected to match the shape of corresponding output, but a mismatch was"
                f" detected: grad_output[{i}] has a shape of {tuple(go.shape)} and output[{i}]"
                f" has a shape of {want}."
            )
        sizes.add(go.shape[0])
    if len(sizes) > 1:
        raise ValueError(
            "is_grads_batched=True: every grad_output needs the same batch size (first dim),"
            f" got {sorted(sizes)}"
        )
    batch = sizes.pop() if sizes else 0
    if batch == 0:  # torch's vmap indexes row 0 before it looks at the size
        raise IndexError("is_grads_batched=True with a batch of size 0: no row to differentiate")
    keep = create_graph if retain_graph is None else retain_graph
    rows = []
    for b in range(batch):  # the graph is kept for the next row; after the last, as asked
        row_gos = tuple(go[b] for go in gos)
        rows.append(run(outs, inputs, row_gos, keep if b == batch - 1 else True, create_graph,
                        True, False))  # fmt: skip
    result = []
    for i, t in enumerate(inputs if isinstance(inputs, (list, tuple)) else (inputs,)):
        column = [row[i] for row in rows]
        if column[0] is not None:
            result.append(stack(column) if create_graph else
                          _wrap(xp.stack([g.array for g in column]), None, 0))  # fmt: skip
        elif materialize_grads:
            result.append(_wrap(xp.zeros_like(t.array), None, 0))
        elif allow_unused:
            result.append(None)
        else:
            raise RuntimeError(
                f"The differentiated Tensor at index {i} appears to not have been used in the"
                " graph. Set allow_unused=True if this is the desired behavior."
            )
    return tuple(result)
