"""The scalar arguments of the activations as torch's bindings take them: a number or a 0-d
tensor's value (torch's TypeError for anything else), and threshold's threshold and value
converted to the input's dtype with c10's overflow check (integers truncated, a negative int
wrapped for unsigned types, NaN and ±inf refused for integers; RuntimeError where they do not
fit)."""

from __future__ import annotations

import math
import numbers

from ..backend import xp
from ..errors import InputError, InputTypeError
from ..tensor import Tensor


def number(fn: str, arg: str, v):
    """A Scalar argument as torch's binding takes it: a number, or a 0-d tensor's value
    (anything else, a 1-element 1-d tensor too, is torch's TypeError); a complex number
    with an imaginary part cannot be a real one (torch's RuntimeError)."""
    if isinstance(v, Tensor):
        if v.ndim:
            raise InputTypeError(
                f"{fn}(): argument '{arg}' must be Number, not a {v.ndim}-d Tensor"
            )
        v = v.item()
    if not isinstance(v, numbers.Number):
        raise InputTypeError(f"{fn}(): argument '{arg}' must be Number, not {type(v).__name__}")
    if isinstance(v, complex):
        if v.imag:
            raise InputError(f"{fn}(): {arg} = {v} cannot be converted to a real type")
        v = v.real
    return v


def _fits(dtype, v) -> bool:
    """Whether torch converts the number v to ``dtype`` without overflow (c10's checked
    conversion: an integer type takes no NaN or ±inf; an unsigned one takes a Python int down
    to −max, wrapping it as two's complement; a floating type takes NaN and ±inf)."""
    if dtype.kind in "iu":
        info = xp.iinfo(dtype)
        if isinstance(v, int):
            return (-info.max if dtype.kind == "u" else info.min) <= v <= info.max
        return not math.isnan(v) and info.min <= v <= info.max
    v = float(v)
    return math.isnan(v) or math.isinf(v) or abs(v) <= float(xp.finfo(dtype).max)


def _as_integer(dtype, v) -> int:
    """v in an integer dtype as torch converts it: truncated, a negative int wrapped."""
    v = int(v)
    return v % (int(xp.iinfo(dtype).max) + 1) if dtype.kind == "u" else v


def threshold_scalars(dtype, threshold, value):
    """threshold and value as torch's kernel takes them: for integer input both converted to
    its type (truncated: −0.5 becomes 0, so x ≤ 0 is replaced), each refused where it
    overflows (RuntimeError); for floating input value in its type, threshold as it is."""
    names = "uint8_t" if dtype.kind == "u" else dtype.name
    checked = (threshold, value) if dtype.kind in "iu" else (value,)
    for v in checked:
        if not _fits(dtype, v):
            raise InputError(
                f"threshold: {v} cannot be converted to type {names} without overflow"
                f" (the input is {dtype})"
            )
    if dtype.kind in "iu":
        return _as_integer(dtype, threshold), _as_integer(dtype, value)
    return threshold, value
