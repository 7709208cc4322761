"""The in-place forms made from out-of-place methods (``x.relu_()`` is ``x.relu()`` written
into x, ``x.t_()`` makes x the view ``x.t()``), and the checks and messages every in-place write
shares: whether memory may be written, whether the new value fits, what to do instead.

Split from tensor_inplace.py, which attaches the forms to ``InplaceTensorMethods`` once at import
(``add_in_place_forms``) and imports the checks by name: no extra step per in-place call.
"""

from __future__ import annotations

import weakref

from .errors import InPlaceCastError, InputError
from .function import dual_levels
from .promotion import torch_dtype_name


def _writeable(a) -> bool:
    """NumPy's writeable flag; CuPy has none: there a broadcast view (a 0 stride) is the case
    to avoid."""
    flag = getattr(a.flags, "writeable", None)
    if flag is not None:
        return flag
    return all(st != 0 or n <= 1 for n, st in zip(a.shape, a.strides))


#: torch's refusal of an elementwise write into memory that several elements share
OVERLAP_MESSAGE = (
    "unsupported operation: more than one element of the written-to tensor refers to a single"
    " memory location. Please clone() the tensor before performing the operation."
)


def remember_weakly(owner, attr: str, obj) -> None:
    """Append a weak reference to ``obj`` to the list ``owner.<attr>`` (made when missing).
    Dead entries are dropped at power-of-two lengths, so thousands of live ones (the pieces
    of unbind over a long dim) cost O(n) in all."""
    refs = getattr(owner, attr, None)
    if refs is None:
        refs = []
        setattr(owner, attr, refs)
    elif len(refs) >= 16 and not len(refs) & (len(refs) - 1):
        refs[:] = [r for r in refs if r() is not None]
    refs.append(weakref.ref(obj))


def needs_grad(value) -> bool:
    """Whether ``value`` is a tensor that requires grad (a number never does)."""
    return getattr(value, "requires_grad", False) is True


def not_carried(name: str, op: str) -> RuntimeError:
    """The refusal of an in-place write through a view that ember cannot carry into the
    tensor it views (made by ``op``)."""
    return RuntimeError(
        f"{name}(): this tensor is a view of another tensor that requires grad (made by {op});"
        " ember carries an in-place change into the other tensor only for views made by"
        " indexing, transposes and permutes, reshapes (view, squeeze, flatten ...),"
        " diagonal() and unfold() with windows apart. Use the out-of-place form, or change the"
        " other tensor."
    )


def writable_array(a, name: str, overlap_ok: bool = False):
    """The array to write ``a``'s values through: ``a`` itself, or, where only its flag forbids
    it (a view made by expand, broadcasting or unfold over writeable memory), a writeable view
    of the same memory. Where elements share memory, a write of a constant or by index goes
    through (``overlap_ok``), as in torch; an elementwise result, which would need a location
    per element, is refused with torch's message."""
    if _writeable(a):
        return a
    from .backend import strided_view
    from .ops.as_strided import storage_of

    flat, offset = storage_of(a, writeable=True)
    if not _writeable(flat):
        raise RuntimeError(
            f"{name}(): this tensor's memory cannot be written: the array it views is"
            " read-only. clone() it first."
        )
    if not overlap_ok:
        refuse_overlap(a)
    return strided_view(flat[offset:], a.shape, a.strides, writeable=True)


def refuse_overlap(a) -> None:
    """torch's refusal where several of ``a``'s elements share one memory location."""
    from .ops.as_strided import may_overlap

    if may_overlap(a.shape, tuple(st // a.itemsize for st in a.strides)):
        raise RuntimeError(OVERLAP_MESSAGE)


def is_basic_index(idx) -> bool:
    """Whether ``x[idx]`` is a view (ints, slices, None, ...), as torch copies into it; an index
    with arrays writes element by element (torch's index_put_)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


def _can_cast(src, dst) -> bool:
    """torch's canCast for in-place results: no complex into a real tensor, no float into an
    integer or bool one, no number into a bool one; any integer into any other (int64 into
    uint8 wraps, as torch's ``u8 += i64``; NumPy's 'same_kind' forbids signed to unsigned)."""
    s, d = src.kind, dst.kind
    return not ((s == "c" and d != "c") or (s == "f" and d in "biu") or (s != "b" and d == "b"))


def _check_fits(name: str, value, target) -> None:
    if not _can_cast(value.dtype, target.dtype):
        raise InPlaceCastError(
            f"{name}(): result type {torch_dtype_name(value.dtype)} can't be cast to the desired"
            f" output type {torch_dtype_name(target.dtype)}: the result's dtype {value.dtype}"
            f" cannot be written into this {target.dtype} tensor in place (torch refuses the"
            " same); use the out-of-place form or convert the tensor first"
        )
    if value.shape != target.shape:  # torch's RuntimeError (and ember's ValueError, as before)
        raise InputError(
            f"{name}(): the result has shape {tuple(value.shape)}, which does not fit in place"
            f" into this tensor of shape {tuple(target.shape)}"
        )


def _leaf_message(name: str) -> str:
    return (
        f"{name}(): in-place operation on a leaf tensor that requires grad (a parameter, or a"
        " tensor made with requires_grad=True) while grad mode is on; torch refuses it too."
        " Wrap the update in `with ember.no_grad():`, as optimizers do, or use the out-of-place"
        " form."
    )


def _base_name(name: str) -> str:
    return {"__setitem__": "index_put", "__iadd__": "add"}.get(name, name.rstrip("_"))


#: In-place forms made from the out-of-place method of the same name without the "_".
_SAME_SHAPE = (
    "abs neg relu sigmoid tanh exp exp2 expm1 log log10 log1p log2 sqrt rsqrt square sign sgn"
    " sin cos tan asin acos atan sinh cosh asinh acosh atanh arcsin arccos arctan arcsinh"
    " arccosh arctanh atan2 arctan2 ceil floor round trunc frac reciprocal pow float_power fmod"
    " remainder floor_divide true_divide divide multiply subtract lerp hypot xlogy logit erf erfc"
    " erfinv digamma lgamma sinc deg2rad rad2deg heaviside clamp_min clamp_max addcmul"
    " addcdiv addmm scatter scatter_add eq ne lt le gt ge logical_and logical_or"
    " logical_xor logical_not bitwise_and bitwise_or bitwise_xor bitwise_not tril triu"
    " conj_physical"
).split()
_SHAPE_ONLY = ("t", "transpose", "squeeze", "unsqueeze")


def _in_place_method(base: str, machinery: str, doc: str):
    """The method ``base_``: self = self.base(...) through ``_arith_`` or ``_view_``."""

    def method(self, *args, **kwargs):
        return getattr(self, machinery)(f"{base}_", lambda s: getattr(s, base)(*args, **kwargs))

    method.__name__ = method.__qualname__ = f"{base}_"
    method.__doc__ = f"torch.Tensor.{base}_: {doc.format(base=base)}"
    return method


_SAME_SHAPE_DOC = "``{base}`` in place; returns self."
_SHAPE_ONLY_DOC = "self becomes ``self.{base}(...)`` (a view)."


def add_in_place_forms(cls) -> None:
    """Attach ``base_`` for every name in _SAME_SHAPE (through ``_arith_``) and _SHAPE_ONLY
    (through ``_view_``) to the mixin class ``cls``, as methods of cls's module."""
    for names, machinery, doc in ((_SAME_SHAPE, "_arith_", _SAME_SHAPE_DOC),
                                  (_SHAPE_ONLY, "_view_", _SHAPE_ONLY_DOC)):  # fmt: skip
        for base in names:
            method = _in_place_method(base, machinery, doc)
            method.__module__ = cls.__module__
            setattr(cls, f"{base}_", method)


class AugmentedAssignmentMethods:
    """Python's augmented operators (``x += y`` …) as the in-place methods they stand for."""

    __slots__ = ()

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def __imod__(self, other):
        return self.remainder_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def __iand__(self, other):
        return self.bitwise_and_(other)

    def __ior__(self, other):
        return self.bitwise_or_(other)

    def __ixor__(self, other):
        return self.bitwise_xor_(other)

    def __ilshift__(self, other):
        return self.bitwise_left_shift_(other)

    def __irshift__(self, other):
        return self.bitwise_right_shift_(other)


# ------------------------------------------------------------ forward AD's tangents in place
def _dual(*ts) -> bool:
    """Whether a forward-AD level is live and one of ``ts`` (tensors, numbers) carries a
    tangent."""
    return bool(dual_levels) and any(getattr(t, "_fw", None) is not None for t in ts)


def _with_tangent(self, name: str, compute, change):
    """``change(name, compute)`` (an in-place change of self), then self's tangent is the
    tangent of the value compute gave (autograd_forward_ad.py)."""
    made: list = []

    def keep(t):
        made.append(compute(t))
        return made[-1]

    change(name, keep)
    if made:
        _carry_tangent(self, made[0])
    return self


def _carry_tangent(self, value) -> None:
    """self's tangent becomes value's. Where self's array kept its memory and self already had
    a tangent of its shape, the new tangent is written into that tangent's memory, so the
    tangents of self's views (views of it) see the change, as in torch."""
    new, old = getattr(value, "_fw", None), getattr(self, "_fw", None)
    if new is None and old is None:
        return
    if old is not None and old.array.shape == self.array.shape and _writeable(old.array):
        old.array[...] = 0 if new is None else new.array
        return
    dual_levels[-1].set_tangent(self, None if new is None else new.detach().clone())
