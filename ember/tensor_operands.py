"""The operands of Tensor's methods, made and cast as torch makes them (promotion.py's rules).

``_t`` turns a number into a tensor of a weak scalar's dtype; ``_promoted`` casts two
operands where torch's result dtype differs from NumPy's; ``_in_result_dtype`` casts several
to their common dtype; ``_float_operands`` prepares a floating op's operands (integers become
the default float straight from their own dtype); ``_for_scalar`` and ``_floating`` give the
default float to integers meeting a Python float or a floating op.

``Tensor`` and ``as_array`` are bound as this module's globals by tensor.py, as for the
method mixins (tensor.py imports them; importing it back would be a cycle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import python_scalar as _py
from .backend import xp
from .ops.complex import complex_dtype
from .promotion import default_float, pair_target, result_dtype

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, as_array


def _t(other, like: Tensor) -> Tensor:
    """Turn an operand into a Tensor of ``like``'s floating dtype where it is a plain value."""
    if isinstance(other, Tensor):
        return other
    if other is None or isinstance(other, (str, bytes, dict, set)):  # no value to compute on
        raise TypeError(
            f"unsupported operand type(s): 'Tensor' and '{type(other).__name__}' (torch refuses"
            " it too; a tensor operand takes a number, a tensor or an array)"
        )
    other = _py(other)  # a NumPy scalar is a weak scalar too, as torch takes it
    a = as_array(other)
    if a.dtype.kind == "f" and a.dtype != like.array.dtype:
        if like.array.dtype.kind == "f":
            a = a.astype(like.array.dtype)
        elif isinstance(other, float):  # a Python float meeting integers: the default float
            a = a.astype(default_float())
    elif isinstance(other, complex):  # torch: float32 tensor · 1j is complex64
        d = like.array.dtype
        a = a.astype(complex_dtype(d if d.kind in "fc" else default_float()))
    return Tensor(a)


def _promoted(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Two operands cast where torch's result dtype differs from NumPy's (promotion.py)."""
    target = pair_target(a.array, b.array)
    if target is None:
        return a, b
    if a.array.dtype == target:
        return a, b.astype(target)
    if b.array.dtype == target:
        return a.astype(target), b
    # neither has it (a float tensor with a 0-dim complex one of another width): cast both
    return a.astype(target), b.astype(target)


def _in_result_dtype(*ts) -> list:
    """Tensors (or None, passed through) cast to torch's result dtype of them all."""
    arrays = [t.array for t in ts if t is not None]
    if all(a.dtype == arrays[0].dtype for a in arrays):  # the usual case: nothing to cast
        return list(ts)
    dtype = result_dtype(*arrays)
    return [t if t is None or t.array.dtype == dtype else t.astype(dtype) for t in ts]


def _float_operands(a: Tensor, b: Tensor) -> tuple:
    """The operands of a floating op (true division, atan2, xlogy …) in torch's result dtype,
    or the default float where that is an integer one, each cast straight from its own dtype:
    an int64 -3 beside uint8 is -3.0 (through uint8 first it was 253.0)."""
    da = a.array.dtype
    if da == b.array.dtype and da.kind in "fc":
        return a, b
    target = result_dtype(a.array, b.array)
    target = target if target.kind in "fc" else xp.dtype(default_float())
    return tuple(t if t.array.dtype == target else t.astype(target) for t in (a, b))


def _for_scalar(t: Tensor, c) -> Tensor:
    """A bool or integer tensor meeting a Python float computes in the default float dtype."""
    if isinstance(c, float) and t.array.dtype.kind in "biu":
        return t.astype(default_float())
    return t


def _floating(t: Tensor) -> Tensor:
    """A floating operation (exp, true division, …) on integers runs in the default float."""
    return t if t.array.dtype.kind in "fc" else t.astype(default_float())
