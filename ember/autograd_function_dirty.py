"""``ctx.mark_dirty`` for custom Functions (autograd_function.py): the inputs a forward changed
in place, checked, each given a stand-in for its version before forward, so that the tensor
itself can become the node's output, as torch's."""

from __future__ import annotations

from .tensor_inplace import _view_source


def dirty_inputs(cls, ctx, args, outs, grad_on) -> dict:
    """Check what ``ctx.mark_dirty`` named (inputs that forward returned) and give each a
    stand-in for its version before forward: the node's input, so that the tensor itself can
    become the node's output. Refusals are torch's (a leaf that requires grad), or made up
    front where torch would refuse at backward (the tensor is the input of another recorded
    operation, which may need the value forward overwrote)."""
    stand_ins = {}
    for t in ctx._dirty:
        if not any(t is a for a in args):
            raise RuntimeError(f"{cls.__name__}: mark_dirty only takes inputs of forward")
        if not any(t is o for o in outs):
            raise RuntimeError(
                "Some elements marked as dirty during the forward method were not returned as"
                " output. The inputs that are modified inplace must all be outputs of the"
                " Function."
            )
        if not (grad_on and any(ctx.needs_input_grad)):
            continue
        if t.requires_grad and t._ctx is None:
            raise RuntimeError(
                "a leaf Variable that requires grad has been used in an in-place operation"
                f" ({cls.__name__}.forward, mark_dirty)"
            )
        # the new version needs grad: a tensor whose memory is a view of other memory cannot
        # take it (ember cannot carry the change into the other memory's graph)
        t._check_rebind(f"{cls.__name__}.forward (mark_dirty)", needs_grad=True)
        if t._ctx is not None and _view_source(t._ctx, t.array) is not None:
            raise RuntimeError(
                f"{cls.__name__}.forward (mark_dirty): this input is a view of another tensor in"
                " the graph (x[i], x.t() …); ember cannot carry the in-place change into that"
                " tensor's graph. Pass a tensor that owns its memory (clone() it first), or"
                " change the other tensor."
            )
        stand_ins[id(t)] = t._version_stand_in()
    return stand_ins
