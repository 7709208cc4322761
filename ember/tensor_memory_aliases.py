"""Plain tensors over one memory keep seeing it when one of them takes a value that needs grad.

A tensor outside the graph that is changed in place by a value that needs grad (``buf[0] = h``
with a plain ``buf``) becomes a new version with new memory (tensor_inplace.py: the old array
stays as the graph saved it). In torch the change lands in the tensor's storage, so every
other tensor over that storage sees it: ``buf.detach()``, ``buf.data``, a view ``buf[:, 0]``
taken before. ``follow`` gives ember the same values: each other plain tensor over the old
memory is pointed at the same places of the new memory (same offset and strides, in ember's
storage model, ops/as_strided.py). They stay outside the graph: ember cannot tell a view taken
before the change (torch makes it a differentiable view) from a detached alias (which torch
keeps without grad), so none gets a gradient it might not have in torch.

Aliases made from a tensor in the graph (``h.detach()``, ``h.data``) are noted when made
(``note_alias``), so a later in-place change of ``h`` re-points them without a search
(``carry``); so are those ``follow`` found, the plain views of h taken under no_grad, and the
views and aliases made of a noted alias (``h.detach()[0]``, ``h.detach().t()``,
``h.data.data``: ``note_plain_view``), which torch's shared storage keeps
showing h's values. A NumPy array from ``.numpy()`` cannot be re-pointed.

``owner_of`` finds the plain tensor whose memory a plain view views, so that a write that needs
grad into such a view (``buf.t()[0] = h``) goes into that tensor, as torch's ``CopySlices``.

Both ask the garbage collector (a pass over the process's objects: 2-30 ms), so they run only
where they are needed: ``follow`` when the old memory has holders besides its tensor and the
graph (its reference count says so), ``owner_of`` only where ember used to refuse.
"""

from __future__ import annotations

import gc
import sys
import weakref

from .backend import strided_view, xp
from .ops.as_strided import storage_of, storage_offset, storage_root
from .tensor_inplace_forms import _writeable, remember_weakly
from .tensor_views import link_of

#: references an old array has inside the in-place machinery when nothing else holds it: the
#: caller's local name, the stand-in for the old version, and getrefcount's own argument
_OWN_REFERENCES = 3


def _plain_tensors():
    from .tensor import Tensor
    from .tensor_views import STAND_IN_NAME

    for o in gc.get_objects():
        kind = type(o)  # not isinstance: that asks some objects' __class__, which may warn
        if issubclass(kind, Tensor) and o._ctx is None and kind.__name__ != STAND_IN_NAME:
            yield o


def _repoint(o, old_root, new, flat) -> None:
    """o's array, over ``old_root``'s memory, becomes the same places of ``new`` (laid out as
    old_root; ``flat`` its storage)."""
    a = o.array
    if a is old_root:
        o.array = new
        return
    elements = flat if a.dtype == flat.dtype else flat.view(a.dtype)
    writeable = _writeable(a)
    o.array = strided_view(elements[storage_offset(a) :], a.shape, a.strides, writeable)


def _same_layout(a, b) -> bool:
    return (a.shape, a.strides, a.dtype) == (b.shape, b.strides, b.dtype)


def note_alias(t, alias) -> None:
    """``alias`` (t.detach(), t.data) is a plain tensor over t's memory: t's later in-place
    changes re-point it (``carry``). Where t is a view (``h[0].detach()``), the alias is noted
    on the tensor at the top of t's views, whose changes reach the memory t views even after t
    itself is gone. Kept weakly; dead entries are dropped now and then (at power-of-two
    lengths, so many live aliases cost O(n) in all)."""
    while (link := link_of(t)) is not None and xp.may_share_memory(link.base.array, t.array):
        t = link.base
    remember_weakly(t, "_aliases", alias)
    key = id(alias)
    # the entry goes when the alias does (its id cannot be reused before the callback runs)
    NOTED[key] = (weakref.ref(alias, lambda _, key=key: NOTED.pop(key, None)), weakref.ref(t))


#: id(alias) → (alias, the tensor whose ``_aliases`` hold it), both weakly: how a view or an
#: alias made later of a noted alias finds where to be noted. A dict, not a slot of every
#: tensor: indexing a plain tensor asks it, and an empty dict answers in a truth test.
NOTED: dict = {}


def noted_on(t):
    """The tensor in the graph whose ``_aliases`` hold t, or None."""
    entry = NOTED.get(id(t))
    if entry is None or entry[0]() is not t:
        return None
    return entry[1]()


def note_plain_view(source, t) -> None:
    """t, a plain view or alias just made of ``source`` (``h.detach()``, ``h[0]`` under
    no_grad, ``a[0]``, ``a.t()``, ``a.detach()`` for ``a = h.detach()``): where source is a
    tensor in the graph, or a noted alias of one, t is noted on that tensor, so its later
    in-place changes re-point t (torch's views and aliases share its storage). Only where t
    shows source's memory (an advanced index copies)."""
    top = source if source._ctx is not None else noted_on(source) if NOTED else None
    if top is not None and storage_root(t.array) is storage_root(source.array):
        note_alias(top, t)


def follow(t, old_root, extra_references: int = 0) -> None:
    """t (plain before its in-place change) now holds new memory laid out as ``old_root``:
    every other plain tensor over ``old_root``'s memory is pointed at the same places of t's
    new memory (this module's docstring), and noted as t's alias for t's later changes.
    ``extra_references``: the caller's other names for ``old_root``."""
    new = t.array
    if sys.getrefcount(old_root) <= _OWN_REFERENCES + extra_references:
        return  # nothing else holds the old memory (views hold their base)
    if not _same_layout(new, old_root):
        return
    flat, _ = storage_of(new)
    for o in _plain_tensors():
        if o is not t and (o.array is old_root or storage_root(o.array) is old_root):
            _repoint(o, old_root, new, flat)
            note_alias(t, o)


def carry(t, old_array) -> None:
    """t (in the graph) changed in place from ``old_array`` to new memory: its noted plain
    aliases that still show ``old_array``'s memory follow to the same places of the new: an
    alias of old_array itself becomes t's array, one over other places of old_array's storage
    the same places of the new storage (where the two storages are laid out alike). Where t
    is now a view (a write through its diagonal made it one), they are noted on the tensor it
    views, whose later changes reach the memory they show."""
    new, flat = t.array, None
    old_root, new_root = storage_root(old_array), storage_root(new)
    live = []
    for ref in t._aliases:
        o = ref()
        if o is None:
            continue
        live.append(ref)
        a = o.array
        if a is old_array:
            o.array = new
        elif storage_root(a) is old_root and _same_layout(new_root, old_root):
            if flat is None:
                flat, _ = storage_of(new_root)
            _repoint(o, old_root, new_root, flat)
    t._aliases = live
    if new.base is not None and link_of(t) is not None:
        t._aliases = []
        for ref in live:
            if (o := ref()) is not None:
                note_alias(t, o)  # at the top of t's views


def owner_of(view):
    """The plain tensor whose array is the memory ``view`` (a plain tensor's array) views, or
    None where no tensor holds it (a NumPy array the user made)."""
    from .tensor import Tensor
    from .tensor_views import STAND_IN_NAME

    root = storage_root(view.array)
    for o in gc.get_referrers(root):
        if (
            issubclass(type(o), Tensor) and o.array is root and o is not view and o._ctx is None
            and type(o).__name__ != STAND_IN_NAME and not o.requires_grad
        ):  # fmt: skip
            return o
    return None
