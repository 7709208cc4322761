"""torch.autograd.forward_ad: forward-mode differentiation with dual tensors.

Inside ``with dual_level():``, ``make_dual(x, t)`` gives a tensor that carries a tangent t
beside its value (a *dual* tensor, x + t·ε with ε² = 0). Every op then computes, beside its
output y = f(x), the output's tangent

    ṫ_y = J_f(x) · t                  (the Jacobian-vector product, one op at a time)

so after a whole function ``unpack_dual(out).tangent`` is J·t for the function, in one forward
pass: the directional derivative that reverse mode would need one backward pass per input
direction for. ``unpack_dual`` gives back (primal, tangent); leaving the level forgets every
tangent made in it.

How ember gets J_f·t for one op: ember records each op's derivative as Tensor operations (its
"recorded twin", autograd_higher.py), the map u ↦ J_fᵀ·u. That map is linear in u, so its own
vector-Jacobian product with t is J_f·t (the double-vjp trick). For each op with a dual input,
the op runs once on stand-ins of its inputs, one recorded backward sweep gives g(u) = J_fᵀ·u
with u a zero placeholder, and a second sweep gives ∂(g·t)/∂u = J_f·t. Ops that only
rearrange memory (views: indexing, transposes, reshapes) instead apply themselves to the
tangent, so a view's tangent is a view of its base's tangent and an in-place change of the view
reaches the base's tangent, as in torch. A custom ``autograd.Function`` uses its ``jvp``.

The tangent has a graph of its own when the primal or the tangent requires grad (and grad mode
is on), so reverse-over-forward (∂/∂x of J·t, a Hessian-vector product) works as in torch.

As in torch: one level at a time (nesting is refused), tangents flow under ``no_grad`` too,
``detach()`` drops the tangent, integer and boolean outputs have none. An op without a recorded
derivative is refused, naming the op.
"""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections import namedtuple

from .autograd_grad import grad
from .backend import xp
from .function import dual_levels, enable_grad, is_grad_enabled, observers, set_grad_enabled
from .tensor import Tensor, apply

__all__ = [
    "UnpackedDualTensor",
    "dual_level",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "What unpack_dual gives: the primal and its tangent (None if none)."


def _owner(a):
    """The array that owns a's memory (NumPy's base chain ends there)."""
    return a if a.base is None else a.base


class _Level:
    """The live level: the tensors it gave tangents to (weakly), and the per-op rule."""

    def __init__(self) -> None:
        self.tensors: list = []

    # While live the level is also one of function.observers: the Tensor methods' fast paths
    # that skip ``apply`` when nothing is recorded (``x[1:]`` without grad) take it then, so
    # every op reaches ``propagate``. It watches nothing itself.
    def on_forward(self, fn, arrays, out) -> None:
        pass

    def on_backward(self, fn, grad_outputs, grad_inputs) -> None:
        pass

    # ------------------------------------------------------------ tangents on tensors
    def set_tangent(self, t: Tensor, tangent: Tensor | None) -> None:
        t._fw = tangent
        if tangent is not None:
            self.tensors.append(weakref.ref(t))
            if len(self.tensors) > 4096 and len(self.tensors) % 4096 == 0:
                self.tensors = [r for r in self.tensors if r() is not None]

    def clear(self) -> None:
        for ref in self.tensors:
            t = ref()
            if t is not None:
                t._fw = None
        self.tensors = []

    @staticmethod
    def has_dual(inputs) -> bool:
        return any(isinstance(t, Tensor) and getattr(t, "_fw", None) is not None for t in inputs)

    # ------------------------------------------------------------ one op
    def propagate(self, cls, inputs: tuple, constants: dict):
        """Run op ``cls`` on ``inputs`` (some dual) and give its outputs their tangents."""
        with suspended():
            outs, tangents = _op_with_tangents(cls, inputs, constants, self)
        for o, tg in zip(outs if isinstance(outs, tuple) else (outs,), tangents):
            self.set_tangent(o, tg)
        return outs


@contextlib.contextmanager
def suspended():
    """No live level inside: the ops that compute a tangent get none themselves."""
    level = dual_levels.pop()
    try:
        yield level
    finally:
        dual_levels.append(level)


def _stand_in(x: Tensor, record: bool) -> Tensor:
    """A differentiable stand-in for dual input x: a view of x where the graph must reach x
    (reverse-over-forward), else a fresh leaf."""
    if record and x.requires_grad:
        return x.view_as(x)
    return Tensor(x.array).requires_grad_(True)


def _op_with_tangents(cls, inputs: tuple, constants: dict, level: _Level):
    tangents = [getattr(t, "_fw", None) if isinstance(t, Tensor) else None for t in inputs]
    record = is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in inputs)
    duals = [i for i, tg in enumerate(tangents) if tg is not None]
    for i in duals:
        if inputs[i].dtype.kind == "c" or tangents[i].dtype.kind == "c":
            raise NotImplementedError(
                f"forward-mode AD: {cls.__name__} got a complex dual tensor; ember's forward"
                " mode covers real tensors (its complex second derivatives take real losses"
                " only)"
            )
    with enable_grad():
        stand = list(inputs)
        for i in duals:
            stand[i] = _stand_in(inputs[i], record)
            # the op's recorded derivative reads its inputs from the graph: there they carry
            # their tangents, so a backward run inside the level has tangents (fwd-over-rev)
            level.set_tangent(stand[i], tangents[i])
        outs = apply(cls, *stand, **constants)
    multi = isinstance(outs, tuple)
    out_list = list(outs) if multi else [outs]
    if not record:  # the op records nothing, as without forward AD
        out_list = [_detached(o) for o in out_list]
    result = tuple(out_list) if multi else out_list[0]
    if len(duals) == 1 and all(_is_view_of(o, inputs[duals[0]]) for o in out_list):
        # a view op: its tangent is the same view of the input's tangent (linear, and a view
        # of the tangent's memory, so in-place changes of a view reach its base's tangent)
        args = list(inputs)
        args[duals[0]] = tangents[duals[0]].to(inputs[duals[0]].dtype)
        with set_grad_enabled(is_grad_enabled() and tangents[duals[0]].requires_grad):
            views = apply(cls, *args, **constants)
        return result, list(views) if multi else [views]
    return result, _jvp_by_double_vjp(
        [o for o in (outs if multi else (outs,))], [stand[i] for i in duals],
        [tangents[i].to(inputs[i].dtype) for i in duals], record,
    )  # fmt: skip


def _is_view_of(out: Tensor, x: Tensor) -> bool:
    """out shares x's memory as the same dtype (view(dtype) reinterprets bits: not linear)."""
    a = out.array
    return a.base is not None and a.dtype == x.dtype and _owner(a) is _owner(x.array)


def _detached(o: Tensor) -> Tensor:
    return Tensor(o.array) if o.requires_grad else o


def _jvp_by_double_vjp(outs: list, stand: list, tangents: list, record: bool) -> list:
    """J·t for each output: g(u) = Jᵀu by one recorded sweep, then the vjp of g with t."""
    slots = [i for i, o in enumerate(outs) if o.dtype.kind in "fc" and o.requires_grad]
    result: list = [None] * len(outs)
    if not slots:
        return result
    with enable_grad():
        us = [Tensor(xp.zeros_like(outs[i].array), requires_grad=True) for i in slots]
        gs = grad([outs[i] for i in slots], stand, us, create_graph=True, allow_unused=True)
    pairs = [(g, t) for g, t in zip(gs, tangents) if g is not None and g.requires_grad]
    if not pairs:
        return result
    graph = is_grad_enabled() and (record or any(t.requires_grad for _, t in pairs))
    with set_grad_enabled(graph):
        jts = grad([g for g, _ in pairs], us, [t for _, t in pairs], create_graph=graph,
                   allow_unused=True)  # fmt: skip
    for i, jt in zip(slots, jts):
        if jt is not None and any(xp.may_share_memory(jt.array, t.array) for _, t in pairs):
            jt = jt.clone()  # an identity's J·t is t itself: its own memory, for in-place changes
        if jt is not None and not graph:
            jt = Tensor(jt.array)
        result[i] = jt
    return result


# ------------------------------------------------------------ the public API
def enter_dual_level() -> int:
    """Open a forward-AD level (torch allows one at a time) and return its number, 0."""
    if dual_levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    level = _Level()
    dual_levels.append(level)
    observers.append(level)
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the level: every tangent made in it is forgotten."""
    current = len(dual_levels) - 1
    level = current if level is None else level
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != current:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created."
            " This is not supported."
        )
    level_ = dual_levels.pop()
    observers.remove(level_)
    level_.clear()


def _live_level(level: int | None, api: str) -> _Level:
    if not dual_levels:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to"
            " enter_dual_level() first."
        )
    if level is not None and level != len(dual_levels) - 1:
        raise RuntimeError(f"Invalid level given to {api}")
    return dual_levels[-1]


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` that carries ``tangent`` (same shape, floating point) at the level.

    Gradients of the result flow back to ``tensor``, as through any view."""
    lvl = _live_level(level, "_make_dual")
    for what, t in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual(): {what} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind not in "fc":
            raise ValueError(
                f"Expected {what} to be floating point or complex, but got: ember.{t.dtype}"
            )
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the"
            " original Tensor, this is not supported. Tensor is of size"
            f" {list(tensor.shape)} while the given forward gradient is of size"
            f" {list(tangent.shape)}."
        )
    if getattr(tensor, "_fw", None) is not None:
        raise RuntimeError(
            "Making a dual Tensor based on a Tensor that already has a forward gradient at the"
            " same level 0 is not supported."
        )
    with suspended():
        dual = tensor.view_as(tensor)
    lvl.set_tangent(dual, tangent)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent): a view of ``tensor`` without tangent, and its tangent (or None)."""
    if not dual_levels:
        return UnpackedDualTensor(tensor, None)
    _live_level(level, "_unpack_dual")
    tangent = getattr(tensor, "_fw", None)
    with suspended():
        primal = tensor.view_as(tensor)
    return UnpackedDualTensor(primal, tangent)


class dual_level:  # noqa: N801 - torch's name
    """``with dual_level():`` opens a forward-AD level and closes it at the end (also a
    decorator); ``__enter__`` gives the level's number."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with dual_level():
                return func(*args, **kwargs)

        return wrapper


def tangent_of(t: Tensor) -> Tensor | None:
    """The tangent ``t`` carries at the live level (None outside one, or without)."""
    return getattr(t, "_fw", None) if dual_levels else None
