"""``ember.autograd.Function``: custom differentiable operations written as torch writes them.

    class Exp(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_y):
            (y,) = ctx.saved_tensors
            return grad_y * y          # ∂L/∂x = ∂L/∂y · eˣ

    y = Exp.apply(x)

``forward`` runs on Tensors with no graph recorded; ``apply`` then records one node whose
backward calls ``backward(ctx, *grad_outputs)`` and expects one gradient per argument of
``forward`` (None for arguments that are not Tensors or need none). The torch 2 form, a
``forward`` without ctx plus ``setup_context(ctx, inputs, output)``, works too. Under
``create_graph=True`` the user's ``backward`` runs with the graph recorded, so a backward
written with Tensor operations can be differentiated again (``once_differentiable`` refuses
that, as in torch). A forward that changes an input in place says so with
``ctx.mark_dirty(x)`` and returns x: x itself becomes the output, its new version in the
graph, as torch's (a leaf that requires grad is refused, as by torch; so, up front, is an
input that another recorded operation still needs, which torch would refuse at backward).

Tensors are the graph's; ember's own op base class, ``ember.Function``, is the array-level
one that ``ops/`` builds on (forward and backward on raw arrays, see function.py).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from .autograd_forward_ad import suspended
from .autograd_function_dirty import dirty_inputs
from .autograd_graph import _Packed
from .autograd_higher import rule
from .backend import xp
from .function import Function as _ArrayFunction
from .function import NodeName, dual_levels, is_grad_enabled, no_grad, saved_hooks
from .ops.complex import register_own
from .tensor import Tensor, apply


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: saved tensors, flags, and any attribute the
    user sets (``ctx.scale = 2.0``)."""

    def __init__(self) -> None:
        self._saved: tuple = ()
        self.needs_input_grad: tuple = ()
        self.materialize_grads = True
        self._non_differentiable: set = set()
        self._dirty: tuple = ()

    def save_for_backward(self, *tensors) -> None:
        self._saved = _only_tensors("save_for_backward", tensors)

    def save_for_forward(self, *tensors) -> None:
        """What ``jvp`` needs (forward-mode AD): ``ctx.saved_tensors`` gives these inside it."""
        self._saved_fw = _only_tensors("save_for_forward", tensors)

    @property
    def saved_tensors(self) -> tuple:
        """What save_for_backward kept (save_for_forward's inside ``jvp``). Under
        ``saved_tensors_hooks`` each access unpacks them again, as torch's."""
        if getattr(self, "_in_jvp", False):
            return self._saved_fw
        packed = self.__dict__.get("_packed")
        if packed is not None:
            return tuple(None if p is None else p.unpack_tensor() for p in packed)
        return self._saved

    def _pack_saved(self) -> None:
        """Store pack_hook(t) for every saved tensor t (the innermost open hooks), instead of
        t itself, as torch does when the node is recorded."""
        pack, unpack = saved_hooks[-1]
        with no_grad():
            self._packed = tuple(None if t is None else _Packed(pack(t), unpack)
                                 for t in self._saved)  # fmt: skip
        self._saved = ()

    def mark_non_differentiable(self, *outputs) -> None:
        """These outputs get no gradient and do not require grad (indices, masks …)."""
        self._non_differentiable.update(id(t) for t in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """True (the default): outputs that got no gradient arrive in backward as zeros;
        False: as None."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors) -> None:
        """These inputs were changed in place by forward (which must return them): each
        becomes its output, the new version of itself in the graph, as torch's."""
        self._dirty = tensors


def _only_tensors(api: str, tensors: tuple) -> tuple:
    for i, t in enumerate(tensors):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(
                f"{api} can only save tensors (or None), but argument {i} is of type"
                f" {type(t).__name__}"
            )
    return tensors


def once_differentiable(backward):
    """Mark a ``backward`` that is not itself differentiable (it works on values only):
    taking a second derivative through it raises instead of giving a wrong answer."""

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            return backward(ctx, *grad_outputs)

    wrapper.once_differentiable = True
    return wrapper


class Function:
    """torch.autograd.Function: subclass it with static ``forward`` and ``backward`` and call
    ``YourFunction.apply(*args)``; see the module docstring."""

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a custom Function must define a static forward")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> None:
        raise NotImplementedError  # the marker of the ctx-in-forward form

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a custom Function must define a static backward")

    vjp = backward

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs: Any) -> Any:
        """Forward-mode AD (autograd_forward_ad.py): the outputs' tangents from the inputs'
        (zeros for tensor inputs without one, None for other arguments)."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with"
            " forward mode AD."
        )

    def __init__(self, *args, **kwargs) -> None:
        warnings.warn(
            f"{type(self)} should not be instantiated. Methods on autograd functions are all"
            " static, so you should invoke them on the class itself. Instantiating an autograd"
            " function will raise an error in a future version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args, **kwargs):
        """torch's refusal of the legacy form ``F()(x)``: call ``F.apply(x)``."""
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use"
            f" new-style autograd function with static forward method ({type(self).__name__}"
            ".apply(...))."
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        if dual_levels and dual_levels[-1].has_dual(args):  # forward AD: the user's jvp
            return _apply_with_jvp(cls, args, kwargs)
        return cls._apply(FunctionCtx(), args, kwargs)

    @classmethod
    def _apply(cls, ctx: FunctionCtx, args: tuple, kwargs: dict) -> Any:
        grad_on = is_grad_enabled()
        ctx.needs_input_grad = tuple(
            grad_on and isinstance(a, Tensor) and a.requires_grad for a in args
        )
        separate = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        stand_ins = dirty_inputs(cls, ctx, args, outs, grad_on)
        if not any(ctx.needs_input_grad):
            return out
        tensor_at = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        node_outs = [o for o in outs if isinstance(o, Tensor)]
        if not node_outs:
            return out
        wrapped = apply(
            _CustomNode, *(stand_ins.get(id(args[i]), args[i]) for i in tensor_at),
            user_cls=cls, ctx=ctx, outputs=node_outs, tensor_at=tensor_at, n_args=len(args),
            out_at=[k for k, o in enumerate(outs) if isinstance(o, Tensor)], n_outs=len(outs),
        )  # fmt: skip
        wrapped = (wrapped,) if len(node_outs) == 1 else wrapped
        by_id = {}
        for user, w in zip(node_outs, wrapped):
            if id(user) in ctx._non_differentiable or w.dtype.kind not in "fc":
                w.requires_grad, w._ctx = False, None  # torch: integer outputs never need grad
            by_id[id(user)] = w
        for t in ctx._dirty:  # a dirty input becomes its output: x itself, now this node's
            w = by_id[id(t)]
            t._take_place_of(stand_ins[id(t)], w)
            by_id[id(t)] = t
        # saved outputs become the recorded ones, so a second derivative reaches this node
        ctx._saved = tuple(by_id.get(id(t), t) for t in ctx._saved)
        if saved_hooks:  # saved_tensors_hooks: what save_for_backward kept goes through pack
            ctx._pack_saved()
        result = tuple(by_id.get(id(o), o) if isinstance(o, Tensor) else o for o in outs)
        return result[0] if single else result


def _apply_with_jvp(cls, args: tuple, kwargs: dict):
    """apply with dual inputs: forward and backward's node as usual (with no tangents inside),
    then the outputs' tangents from ``cls.jvp(ctx, *input tangents)``, as torch does."""
    level, ctx = dual_levels[-1], FunctionCtx()
    with suspended():
        out = cls._apply(ctx, args, kwargs)
        tangents = [
            None if not isinstance(a, Tensor)
            else a._fw if getattr(a, "_fw", None) is not None
            else Tensor(xp.zeros_like(a.array))
            for a in args
        ]  # fmt: skip
        ctx._in_jvp = True
        try:
            tg = cls.jvp(ctx, *tangents)
        finally:
            ctx._in_jvp = False
    outs = out if isinstance(out, tuple) else (out,)
    tgs = tg if isinstance(tg, tuple) else (tg,)
    if len(tgs) != len(outs):
        raise RuntimeError(
            f"{cls.__name__}.jvp returned {len(tgs)} tangents, but forward gave {len(outs)}"
            " outputs: jvp must return one tangent (or None) per output"
        )
    for o, t in zip(outs, tgs):
        if isinstance(o, Tensor) and t is not None:
            if tuple(t.shape) != tuple(o.shape):
                raise RuntimeError(
                    f"{cls.__name__}.jvp returned a tangent of shape {list(t.shape)} for an"
                    f" output of shape {list(o.shape)}"
                )
            level.set_tangent(o, t)
    return out


class InplaceFunction(Function):
    """torch.autograd.function.InplaceFunction: a Function with an ``inplace`` flag (False;
    a subclass may set it) for its forward to read. An old form: ``ctx.mark_dirty`` says what
    forward changed in place, and, as for every custom Function here, ``apply`` is called on
    the class, never on an instance."""

    inplace = False


class _CustomNode(_ArrayFunction):
    """The graph node of one ``Function.apply``: its backward is the user's."""

    __slots__ = ("fn_name",)

    def forward(self, *arrays, user_cls, ctx, outputs, tensor_at, n_args, out_at, n_outs):
        self.cls, self.ctx, self.tensor_at, self.n_args = user_cls, ctx, tensor_at, n_args
        self.out_at, self.n_outs = out_at, n_outs  # where the Tensor outputs are among all
        self.shapes = [(a.shape, a.dtype) for a in arrays]
        self.out_shapes = [(o.shape, o.dtype) for o in outputs]
        self.fn_name = user_cls.__name__  # repr: <NameBackward>
        if len(outputs) > 1:
            self.multi_output = True
            return tuple(o.array for o in outputs)
        return outputs[0].array

    @property
    def name(self) -> str:
        return NodeName(self.fn_name)

    def _grad_tensors(self, gys):
        """The incoming gradients as Tensors (zeros for a missing one, unless the user's
        set_materialize_grads(False) asked for None), one per output of forward: None for
        an output that is no Tensor, as torch passes it."""
        out = [None] * self.n_outs
        for k, g, (shape, dtype) in zip(self.out_at, gys, self.out_shapes):
            if g is None and self.ctx.materialize_grads:
                g = Tensor(xp.zeros(shape, dtype=dtype))
            out[k] = g if g is None or isinstance(g, Tensor) else Tensor(g)
        return out

    def _checked(self, grads) -> list:
        """The user's gradients, one per forward argument, checked and picked for the
        tensor inputs."""
        grads = grads if isinstance(grads, tuple) else (grads,)
        name = self.cls.__name__
        if len(grads) < self.n_args or any(g is not None for g in grads[self.n_args :]):
            raise RuntimeError(
                f"function {name}Backward returned an incorrect number of gradients (expected"
                f" {self.n_args}, got {len(grads)})"
            )
        for i, g in enumerate(grads[: self.n_args]):
            if g is not None and not isinstance(g, (Tensor, xp.ndarray)):
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            if g is not None and i not in self.tensor_at:
                raise RuntimeError(
                    f"function {name}Backward returned a gradient different than None at"
                    f" position {i + 1}, but the corresponding forward input was not a Variable"
                )
        picked = []
        for k, i in enumerate(self.tensor_at):
            g = grads[i]
            shape, dtype = self.shapes[k]
            if g is not None:
                if not isinstance(g, Tensor):
                    g = Tensor(xp.asarray(g, dtype=dtype))
                if tuple(g.shape) != tuple(shape):
                    if not _expands_to(tuple(shape), tuple(g.shape)):
                        raise RuntimeError(
                            f"Function {name}Backward returned an invalid gradient at index"
                            f" {i} - got {list(g.shape)} but expected shape compatible with"
                            f" {list(shape)}"
                        )
                    g = g.sum_to_size(*shape)  # torch sums a broadcast gradient down
            picked.append(g)
        return picked

    def backward(self, *gys):
        grads = self._grad_tensors(gys)
        with no_grad():
            result = self.cls.backward(self.ctx, *grads)
        return tuple(
            None if g is None else g.array.astype(dtype, copy=False)
            for g, (_, dtype) in zip(self._checked(result), self.shapes)
        )


def _expands_to(shape: tuple, grad_shape: tuple) -> bool:
    """Whether an input of ``shape`` broadcasts to ``grad_shape`` (torch's
    is_expandable_to): its gradient is then that gradient summed down to ``shape``."""
    if len(shape) > len(grad_shape):
        return False
    return all(n == m or n == 1 for n, m in zip(reversed(shape), reversed(grad_shape)))


@rule(_CustomNode)
def _custom_recorded(fn, g):
    """create_graph=True: the user's backward, run with the graph recorded."""
    gys = g if fn.multi_output else [g]
    grads = fn._checked(fn.cls.backward(fn.ctx, *fn._grad_tensors(gys)))
    if not getattr(fn.cls.backward, "once_differentiable", False):
        return tuple(grads)
    # values only. As torch: where an incoming gradient is itself differentiable, the value
    # is tied to it by a node that raises when differentiated; otherwise it is a constant
    anchor = [t for t in gys if t is not None and t.requires_grad]
    if not anchor:
        return tuple(grads)
    return tuple(
        None if v is None else apply(_DelayedError, v, *anchor, name=fn.cls.__name__) for v in grads
    )


# a custom Function's backward is the user's, and meets complex gradients as torch's does
# (it receives ∂L/∂x + i∂L/∂y and returns the same convention); a real input keeps Re
register_own(_CustomNode)


class _DelayedError(_ArrayFunction):
    """Stands for a value computed by a ``once_differentiable`` backward: the value passes,
    and a backward through it raises. The extra inputs only tie it to the graph."""

    def forward(self, value, *anchor, name):
        self.fn_name = name
        return value

    def backward(self, gy):
        raise RuntimeError(
            f"trying to differentiate twice a function that was marked with"
            f" @once_differentiable ({self.fn_name}.backward)"
        )
