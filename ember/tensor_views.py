"""How a view hangs from the tensor it views, so that in-place changes reach both, as in torch.

A view V of a tensor B (``B[i]``, ``B.t()``, ``B.reshape(...)``, ``B.diagonal()``) shares B's
memory. Without grad that is all it takes: a write into either is seen through the other. With
grad, an in-place change makes a new version of the tensor with a new array (tensor_inplace.py),
so the change is carried over by hand:

- V changed in place (``V.mul_(2)``, ``V[j] = h``): B becomes B with V's part replaced, recorded
  on B's graph (``write``: SetItem for an index, the inverse permutation for a transpose, the
  inverse reshape, diagonal_scatter), and V becomes ``view(B)`` again, now of B's new version.
  This is torch's CopySlices: ∂L/∂value flows through V's place in B, and B's old values there
  get none.
- B changed in place after that: every live V is taken again from B's new version (``refresh``),
  so V keeps showing B's values, as a torch view does, and V's next change reaches B again.

The relation is a ``ViewLink`` on V: B and the steps that take B to V. V enters B's ``_views``
(weakly) when a recorded op makes it (``hang``); the op that made it counts as one of B's
consumers (``Tensor._used``) until B changes in place, which moves that op onto B's old version
and takes V along (``adopt_fresh``, ``refresh``). Ops that already took V move onto V's old
version (``check_views_free``), as B's own consumers do (``move_consumers``).

A step is a tuple: ("index", index), ("permute", axes), ("reshape", view shape, base shape),
("diagonal", offset, dim1, dim2), ("as_strided", size, stride, storage offset), ("expand",
shape), a read-only view that repeats elements, ("unfold", dim, size, step), written through
by the places of b's elements it shows (refused where windows share an element), or ("split",
index, output number), one of the pieces of split/chunk/unbind: expand and split are
refreshed, never written through (torch refuses to
write through split's outputs too; it also refuses to differentiate through one after its base
changed, where ember records the refreshed piece as an index of the new base).
``Tensor`` and ``apply`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

import itertools
import weakref
from typing import TYPE_CHECKING

from .backend import xp
from .ops import as_strided as AS
from .ops import index_put as P
from .ops import shape as S
from .tensor_inplace_forms import OVERLAP_MESSAGE, remember_weakly

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply  # noqa: F401


#: The class name of the stand-ins for earlier versions (tensor_inplace.py): only the graph holds
#: them, so a view of one is nobody's view
STAND_IN_NAME = "TensorVersion"


class ViewLink:
    """V = steps(base): the tensor V views and how to take V from it again."""

    __slots__ = ("base", "steps")

    def __init__(self, base, steps: tuple):
        self.base, self.steps = base, steps


def _diagonal_op():
    from .ops.diagonal import Diagonal

    return Diagonal


def step_of(fn, view_array, idx: int = 0):
    """The step by which the recorded op ``fn`` made a view of its input, or None where fn is no
    op ember can carry a write back through (an index with arrays copies); ``idx``: which of
    fn's outputs the view is (split's pieces, like expand's repeats, are refreshed and never
    written through)."""
    kind = type(fn)
    if kind not in _VIEW_OPS and kind.__name__ != "Diagonal":  # the usual case, decided first
        return None
    parent = fn.parents[0] if getattr(fn, "parents", None) else None
    if parent is None:
        return None
    if kind is AS.AsStrided:  # it may reach past its input, anywhere in the same storage (an
        # overlapping one is read-only: refreshed, not written)
        if AS.storage_root(parent.array) is not AS.storage_root(view_array):
            return None
        return ("as_strided", fn.size, fn.stride, fn.offset)
    if not _same_memory(parent.array, view_array):
        return None
    if kind is S.GetItem:
        return ("index", fn.index)
    if kind is S.Permute:
        return ("permute", tuple(fn.axes))
    if kind is S.Reshape or (kind is S.Expand and view_array.size == parent.array.size):
        # (an expand that repeats nothing, x.expand(*x.shape), is x's memory reshaped)
        return ("reshape", tuple(view_array.shape), tuple(fn.shape))
    if kind is S.Expand:  # repeats elements: read-only, but it shows its base's changes
        return ("expand", tuple(view_array.shape))
    if kind is _diagonal_op():
        return ("diagonal", fn.offset, fn.dim1, fn.dim2)
    if kind is S.Split:  # one of several outputs: refreshed, never written through (as torch)
        return _split_step(fn, idx)
    if kind is S.Windows:  # unfold: refreshed, not written through
        return ("unfold", fn.dim, fn.size, fn.step)
    return None


def _split_step(fn, idx: int):
    """("split", index, idx): output idx of Split ``fn`` is base[index] (no search: unbind of a
    long dimension makes thousands of pieces)."""
    starts = fn.__dict__.get("starts")
    if starts is None:  # where each piece begins, once per split
        starts = fn.__dict__["starts"] = list(itertools.accumulate(fn.sizes, initial=0))
    index = (slice(None),) * fn.axis + (slice(starts[idx], starts[idx + 1]),)
    return ("split", index, idx)


def _same_memory(base, view) -> bool:
    """Whether ``view`` lies in ``base``'s memory; an empty view (``x[1:1]``) covers no
    element, so it is asked of the memory both view (torch refuses writes through either)."""
    if xp.may_share_memory(base, view):
        return True
    empty_view = not view.size and view.base is not None
    return empty_view and AS.storage_root(view) is AS.storage_root(base)


_VIEW_OPS = (S.GetItem, S.Permute, S.Reshape, S.Expand, AS.AsStrided, S.Split, S.Windows)

#: the op classes whose recorded outputs may be views of their input (apply asks, per op)
VIEW_CLASSES = frozenset((*_VIEW_OPS, _diagonal_op()))


def hang(t) -> None:
    """A view t just made by a recorded op joins its base's views (weakly), so an in-place
    change of the base later takes t along (``adopt_fresh``, ``refresh``), as in torch. Not
    for a leaf base (a parameter): with grad it cannot change in place at all, and it lives
    long, so its list would only grow."""
    base = t._ctx.parents[0]
    if base is None or base._ctx is None or type(base).__name__ == STAND_IN_NAME:
        return
    step = step_of(t._ctx, t.array, t._idx)
    if step is not None:
        attach(t, ViewLink(_owner_for(base, step), (step,)))


def top_of(t):
    """The tensor at the top of t's chain of views (t itself where t is no view)."""
    while (link := link_of(t)) is not None:
        t = link.base
    return t


def _owner_for(base, step):
    """The tensor a view made by ``step`` from ``base`` hangs from: ``base``, except for
    as_strided, whose geometry counts in the storage, not in ``base``: it hangs from the tensor
    at the top of base's views, where it is written back by as_strided_scatter, when that
    tensor's array is its whole storage laid out row-major (h.as_strided(...).as_strided(...),
    h[:, 1:].as_strided(..., offset)). As in torch, its gradient still goes to ``base``'s
    places only until it or what it views changes in place; then it is taken again from the
    top tensor, with the storage's places."""
    if step[0] != "as_strided":
        return base
    top = top_of(base)
    a = top.array
    return top if top is not base and a.base is None and a.flags.c_contiguous else base


def adopt_fresh(t, old) -> None:
    """t changes in place, and some of its consumers are the ops that made its live views:
    those ops take ``old`` (the stand-in for t's present version) as their input instead,
    so they no longer count as t's consumers; the views themselves become views of t's new
    version afterwards (``refresh``). The ops that already took a view move onto the view's
    old version (check_views_free)."""
    for v in live_views(t):
        fn = v._ctx
        parents = getattr(fn, "parents", None)
        if parents and parents[0] is t and step_of(fn, v.array, v._idx) is not None:
            parents[0] = old
            t._used -= 1
            old._used += 1


def view(b, steps):
    """steps(b): the view of ``b`` the steps describe, recorded (b is a Tensor)."""
    for step in steps:
        kind = step[0]
        if kind in ("index", "split"):
            b = apply(S.GetItem, b, index=step[1])
        elif kind == "permute":
            b = apply(S.Permute, b, axes=step[1])
        elif kind == "reshape":
            b = apply(S.Reshape, b, shape=step[1])
        elif kind == "expand":
            b = apply(S.Expand, b, shape=step[1])
        elif kind == "unfold":
            b = apply(S.Windows, b, dim=step[1], size=step[2], step=step[3])
        elif kind == "as_strided":  # sizes, strides and offset in b's storage
            b = apply(AS.AsStrided, b, size=step[1], stride=step[2], storage_offset=step[3])
        else:
            b = apply(_diagonal_op(), b, offset=step[1], dim1=step[2], dim2=step[3])
    return b


def write(b, steps, value):
    """b with its view ``steps(b)`` replaced by ``value``: a new tensor with its own memory,
    recorded, so ∂L/∂value is ∂L/∂b at the view's places and b's old values there get none."""
    if not steps:
        return value
    if any(step[0] == "unfold" for step in steps):
        return _write_by_position(b, steps, value)
    step, rest = steps[0], steps[1:]
    inner = write(view(b, (step,)), rest, value) if rest else value
    kind = step[0]
    if kind == "index":
        return apply(P.SetItem, b, inner, index=step[1])
    if kind == "permute":  # the view is all of b: b is the view turned back
        inverse = tuple(sorted(range(len(step[1])), key=step[1].__getitem__))
        return apply(S.Copy, apply(S.Permute, inner, axes=inverse))
    if kind == "reshape":
        return apply(S.Copy, apply(S.Reshape, inner, shape=step[2]))
    if kind == "as_strided" and not AS.may_overlap(step[1], step[2]):
        return b.as_strided_scatter(inner, step[1], step[2], step[3])
    if kind == "split":
        raise RuntimeError(
            f"Output {step[2]} of Split is a view and is being modified inplace. This"
            " view is the output of a function that returns multiple views. Such functions do"
            " not allow the output views to be modified inplace. You should replace the"
            " inplace operation by an out-of-place one."
        )
    if kind in ("expand", "as_strided"):
        raise RuntimeError(OVERLAP_MESSAGE)
    return b.diagonal_scatter(inner, step[1], step[2], step[3])


def _write_by_position(b, steps, value):
    """write() for a chain with unfold's windows, whose geometry is no slice, transpose or
    reshape of b: the steps taken of b's row-major element numbers say which element of b each
    of the view's shows, and b's copy gets value's there. Windows that share elements may be
    written where the part written does not (one window of them), as torch allows; a write
    that would put two values in one place is refused with torch's message."""
    numbers = Tensor(xp.arange(b.numel()).reshape(b.shape))
    places = view(numbers, steps).array.reshape(-1)
    if xp.unique(places).size != places.size:
        raise RuntimeError(OVERLAP_MESSAGE)
    flat = apply(P.SetItem, b.reshape(-1), value.reshape(-1), index=(places,))
    return apply(S.Reshape, flat, shape=tuple(b.shape))


def inverse_step(step):
    """The step that undoes a permute or reshape step (a shape-only change of a base)."""
    if step[0] == "permute":
        return ("permute", tuple(sorted(range(len(step[1])), key=step[1].__getitem__)))
    return ("reshape", step[2], step[1])


def link_of(t):
    """t's live ViewLink, or a new one from the op that made t where that op is a view op of a
    tensor someone may hold (not a stand-in for an earlier version); None where t is no view."""
    link = getattr(t, "_link", None)
    if link is not None:
        if _same_memory(link.base.array, t.array):
            return link
        t._link = None  # t or its base took other memory (``.data = ...``): t stands alone now
    fn = t._ctx
    if fn is None or getattr(fn, "freed", False):  # backward has run it: its geometry is gone
        return None
    step = step_of(fn, t.array, t._idx)
    if step is None or type(fn.parents[0]).__name__ == STAND_IN_NAME:
        return None
    return ViewLink(_owner_for(fn.parents[0], step), (step,))


def attach(t, link) -> None:
    """Record ``link`` on t and enter t among its base's views (weakly: a dropped view costs
    nothing), once."""
    if getattr(t, "_link", None) is link:
        return
    t._link = link
    remember_weakly(link.base, "_views", t)  # views die with their step: kept weakly


def live_views(t):
    """The views written through to t that still view t's present memory."""
    refs = getattr(t, "_views", None)
    if not refs:
        return []
    out = []
    for r in refs:
        v = r()
        link = getattr(v, "_link", None) if v is not None else None
        if link is not None and link.base is t and xp.may_share_memory(v.array, t.array):
            out.append(v)
    t._views = [weakref.ref(v) for v in out]
    return out


def _live_owners(t):
    """(op, parents list) for every live recorded op, not yet freed by backward, that takes
    ``t`` as an input, found by asking the garbage collector what refers to t: a pass over
    the process's objects (measured: 2 ms in a process with ember alone, 29 ms with torch
    imported), so it runs only where an in-place change of t finds t's count of uses above
    zero. Counting consumers as they are made instead costs every op (a weak reference, or
    a __del__: 4-6 %, measured 2026-12-06)."""
    import gc

    from .function import Function

    lists = [r for r in gc.get_referrers(t) if type(r) is list]
    if not lists:
        return []
    ids = {id(r) for r in lists}
    return [
        (owner, owner.parents)
        for owner in gc.get_referrers(*lists)
        if isinstance(owner, Function)
        and id(getattr(owner, "parents", None)) in ids
        and getattr(owner, "freed", True) is False
    ]


def live_consumers(t) -> int:
    """How many inputs of live recorded ops that backward has not freed are ``t`` (the true
    value of ``t._used``, which counts an op until backward frees it, even one whose result
    was dropped at once: ``h.exp(); h.relu_()``)."""
    return sum(sum(p is t for p in parents) for _, parents in _live_owners(t))


#: the fields move_consumers rewrites itself: an op's inputs and a custom Function's saved tensors
_MOVED_FIELDS = frozenset({"parents", "_saved"})


def _holds_elsewhere(obj, t, depth: int) -> bool:
    """Whether ``obj`` refers to the Tensor ``t`` through its attributes and containers
    (``depth`` levels down), other than through the fields move_consumers rewrites."""
    if obj is t:
        return True
    if depth == 0 or obj is None or isinstance(obj, (Tensor, str, bytes, int, float)):
        return False
    if isinstance(obj, dict):
        items = obj.values()
    elif isinstance(obj, (list, tuple, set, frozenset)):
        items = obj
    else:
        fields = getattr(obj, "__dict__", None)
        if fields is None:  # a class with __slots__ (the packed values of saved_tensors_hooks)
            fields = {k: getattr(obj, k, None) for k in getattr(type(obj), "__slots__", ())}
        items = (v for k, v in fields.items() if k not in _MOVED_FIELDS)
    return any(_holds_elsewhere(v, t, depth - 1) for v in items)


def move_consumers(t, old) -> bool:
    """t changes in place while live recorded ops still take it as input: each takes ``old``
    (the stand-in for t's present version: its array, which the change leaves untouched, and
    its grad_fn) instead, so their gradients reach t's old version, as torch's graph does
    (an op records its input's grad_fn, not the tensor). A custom Function's saved tensors
    move along: torch would find the change at backward, ember gives the gradient of what
    was computed. False, with nothing moved, where an op holds t some other way (packed by
    saved_tensors_hooks, say): the change is then refused as before. Ops whose results were
    dropped count no more."""
    owners = _live_owners(t)
    if any(_holds_elsewhere(owner, t, 5) for owner, _ in owners):
        t._used = sum(sum(p is t for p in parents) for _, parents in owners)
        return False
    for owner, parents in owners:
        for i, p in enumerate(parents):
            if p is t:
                parents[i] = old
                old._used = getattr(old, "_used", 0) + 1
        ctx = owner.__dict__.get("ctx")
        if ctx is not None and getattr(ctx, "_saved", None):
            ctx._saved = tuple(old if s is t else s for s in ctx._saved)
    t._used = 0
    return True


def check_views_free(t, name: str, result, views=None) -> None:
    """t changes in place, and a view of it (or of a view of it) takes t's new values: the
    recorded ops that already took the view read it as it was, so they move onto a stand-in
    for its present version (those inside the new value ``result``, ``x.add_(v.sum())``, and
    those outside it, as t's own consumers move, ``move_consumers``). Refused only where an
    op holds the view in a way that cannot move."""
    for v in live_views(t) if views is None else views:
        if not getattr(v, "_used", 0) > 0:
            check_views_free(v, name, result)
            continue
        old = v._version_stand_in()
        v._redirect_consumers(old, result)
        if getattr(v, "_used", 0) > 0 and getattr(v, "_views", None):
            adopt_fresh(v, old)  # v's own views follow v (refresh)
        if getattr(v, "_used", 0) > 0 and not move_consumers(v, old):
            raise RuntimeError(
                f"{name}(): a view of this tensor (taken by {describe(v._link.steps)}) is already"
                " the input of a recorded operation, which may need the view's present value to"
                " compute gradients. Changing this tensor in place changes the view too (as in"
                " torch); take the view after the change, or use the out-of-place form."
            )
        check_views_free(v, name, result)


def refresh(t, views) -> None:
    """t has a new version: each of ``views`` (live views of t's previous version) becomes its
    view of t again, and so on down the views of views."""
    for v in views:
        below = live_views(v)
        v._take_place_of(v._version_stand_in(), view(t._version_stand_in(), v._link.steps))
        refresh(v, below)


def reshape_base(t, step) -> None:
    """t's own shape changed in place by ``step`` (t.t_(), t.squeeze_()): its views are taken
    from the new shape through the inverse step first; a view t itself is gets the step.
    No step: the op left the shape as it was (t_() of a 1-D tensor is the tensor itself)."""
    if step is None:
        return
    for v in live_views(t):
        v._link.steps = (inverse_step(step), *v._link.steps)
    link = getattr(t, "_link", None)
    if link is not None:
        link.steps = (*link.steps, step)


def describe(steps) -> str:
    names = {"index": "indexing", "permute": "a transpose", "reshape": "a reshape",
             "as_strided": "as_strided", "expand": "expand",
             "split": "split/chunk/unbind", "unfold": "unfold"}  # fmt: skip
    return " then ".join(names.get(s[0], "diagonal()") for s in steps)
