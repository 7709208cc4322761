"""Tensor-level functions that join, choose or pad: cat, stack, where, maximum, pad."""

from __future__ import annotations

import functools

from ..backend import python_scalar, xp
from ..creation import tensor
from ..errors import InputError
from ..ops import elementwise as E
from ..ops import shape as S
from ..promotion import promote_types
from ..scalar_fits import check_scalar_fits
from ..tensor import Tensor, _t, apply, as_array
from ..tensor_methods import _promoted
from .index import nonzero


def broadcasts_to(shape, target) -> bool:
    """Whether ``shape`` broadcasts to ``target`` without enlarging it: torch refuses a mask
    added to attention scores, or a weight multiplied into a loss, that would widen them."""
    shape, target = tuple(shape), tuple(target)
    if shape == target:  # the usual case, without NumPy's broadcast_shapes (a few µs)
        return True
    try:
        return xp.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def new_memory(y: Tensor, x: Tensor) -> Tensor:
    """y, a rearrangement of x by reshapes and permutes, as new memory: where the steps left a
    view of x (pixel_shuffle by 1, channel_shuffle of one group), a copy, so that an in-place
    change of the result does not reach x, as torch's results of these ops never share it."""
    return y.clone() if xp.may_share_memory(y.array, x.array) else y


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate along ``dim``; every other dimension must agree."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat() needs at least one tensor")
    legacy = any(t.ndim != 1 for t in tensors)  # torch skips legacy empty (0,) tensors
    shaped = [t for t in tensors if not (legacy and t.array.shape == (0,))] or tensors
    ref = shaped[0].shape
    nd = len(ref)
    for k, t in enumerate(shaped):
        if len(t.shape) != nd or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, ref)) if i != dim % max(nd, 1)
        ):
            raise InputError(
                f"cat along dim {dim}: tensor {k} has shape {t.shape}, expected {ref} in every"
                f" dimension but {dim}"
            )
    if len(shaped) < len(tensors):  # the skipped ones still count in the result dtype, and
        empty = tuple(0 if i == dim % nd else n for i, n in enumerate(ref))  # get a gradient
        tensors = [t.reshape(empty) if t.array.shape == (0,) else t for t in tensors]
    return apply(S.Cat, *_common_dtype(tensors), axis=dim)


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:  # torch's RuntimeError (functools.reduce's TypeError said nothing useful)
        raise InputError("stack expects a non-empty list of tensors")
    for k, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise InputError(f"stack: tensor {k} has shape {t.shape}, expected {tensors[0].shape}")
    return apply(S.Stack, *_common_dtype(tensors), axis=dim)


def _common_dtype(tensors: list) -> list:
    """The tensors in torch's result dtype for cat and stack, promote_types over them all
    (float32 with int64 is float32, where NumPy's concatenate gives float64)."""
    dtypes = {t.array.dtype for t in tensors}
    if len(dtypes) == 1:
        return tensors
    target = functools.reduce(promote_types, dtypes)
    return [t if t.array.dtype == target else t.astype(target) for t in tensors]


def where(condition, x=None, y=None) -> Tensor:
    """x where ``condition`` else y; the condition carries no gradient. Without x and y,
    torch's ``nonzero(condition, as_tuple=True)``: the indices where condition holds."""
    if x is None and y is None:
        return nonzero(condition, as_tuple=True)
    if x is None or y is None:
        raise TypeError("where(condition, x, y) takes both x and y, or neither")
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):  # two numbers: torch's dtypes
        x, y = _number_tensor(x), _number_tensor(y)  # (a float the default float, not float64)
    ref = x if isinstance(x, Tensor) else y
    a, b = _promoted(_t(x, ref), _t(y, ref))  # an int tensor with 0.5: float32, as torch
    return apply(E.Where, a, b, cond=as_array(condition))


def _number_tensor(v) -> Tensor:
    """A Python (or NumPy) number as torch.tensor makes it (bool, int64, the default float or
    its complex); anything else as the array it is."""
    v = python_scalar(v)
    return tensor(v) if isinstance(v, (int, float, complex)) else Tensor(as_array(v))


def maximum(a, b) -> Tensor:
    """Elementwise maximum, with torch's dtype promotion (Tensor.maximum)."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    return a.maximum(b)


def minimum(a, b) -> Tensor:
    """Elementwise minimum, with torch's dtype promotion (Tensor.minimum)."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    return a.minimum(b)


def pad(x: Tensor, pad: tuple, mode: str = "constant", value: float = 0.0) -> Tensor:
    """torch.nn.functional.pad: ``pad`` lists (before, after) pairs from the last dim backwards;
    a negative pad crops that many elements instead, as torch's."""
    if mode != "constant":
        raise NotImplementedError(f"pad mode {mode!r}: only 'constant' is implemented")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise InputError(f"pad must hold pairs for at most {x.ndim} dims, got {pad}")
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if any(b < 0 or a < 0 for b, a in widths):  # negative pads crop, as torch's
        crop = []
        for (b, a), n in zip(widths, x.shape):
            lo, hi = max(-b, 0), n - max(-a, 0)
            if hi < lo:
                raise RuntimeError("narrow(): length must be non-negative.")
            crop.append(slice(lo, hi))
        x = x[tuple(crop)]
        widths = [(max(b, 0), max(a, 0)) for b, a in widths]
        if not any(b or a for b, a in widths):
            return x
    if type(value) in (int, float) and any(b or a for b, a in widths):  # torch's value is a
        # float, filled in with fill_'s check when something is padded
        value = check_scalar_fits(float(value), x.dtype)
    return apply(S.Pad, x, pad_width=tuple(widths), value=value)
