"""Python numbers written into tensors (``t[i] = v``, ``fill_``, ``full``, ``masked_fill``,
the bounds of ``arange`` and ``linspace``, an ``alpha``), checked as torch checks them before it
converts them to the tensor's dtype."""

from __future__ import annotations

import math

from .backend import xp

_C_NAMES = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float",
            "float64": "double", "int8": "signed char", "uint8": "unsigned char",
            "int16": "short", "int32": "int", "int64": "int64_t"}  # fmt: skip


#: The Python numbers whose writes into a tensor check_scalar_fits checks; callers test
#: ``type(value) in CHECKED_SCALARS`` first (bools, NumPy scalars and tensors pay nothing).
CHECKED_SCALARS = (int, float, complex)

_OVERFLOW_NAMES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int",
                   "int64": "int64_t", "uint16": "uint16_t", "uint32": "uint32_t",
                   "uint64": "uint64_t"}  # fmt: skip


def check_scalar_fits(value, dtype, *, half_overflows: bool = True):
    """``value`` (a Python int, float or complex) as a number to write into ``dtype``, or
    torch's refusal where it does not fit: ``t[0] = v``, ``t.fill_(v)``, ``full``,
    ``masked_fill``. Refused, as torch: an imaginary part into a real tensor, NaN, ±inf or a
    number out of range into an integer one (checked before truncation), a finite number past
    a float dtype's largest (not for ``t[i] = v`` into half, where torch writes inf). A bool
    tensor takes any value (its truth); an unsigned one takes negative ints down to −max,
    wrapped (uint8: −1 is 255), but no negative float; floats are truncated, as torch
    converts them."""
    dtype = xp.dtype(dtype)
    kind = dtype.kind
    if kind == "b":
        return value != 0
    name = _OVERFLOW_NAMES.get(dtype.name) or _C_NAMES.get(dtype.name, dtype.name)
    refusal = RuntimeError(f"value cannot be converted to type {name} without overflow")
    if kind in "fc":
        largest = float(xp.finfo(dtype).max)  # a Python float: no float16 cast to warn
        parts = (value.real, value.imag) if type(value) is complex else (value,)
        big = any(math.isfinite(p) and abs(p) > largest for p in parts)
        if big and (half_overflows or dtype != xp.float16):
            raise refusal
        if kind == "c":
            return value
    if type(value) is complex:
        if value.imag != 0:
            raise refusal
        value = value.real
    if kind == "f":
        return value
    if type(value) is float and not math.isfinite(value):
        raise refusal
    info = xp.iinfo(dtype)
    # an unsigned dtype takes negative ints (wrapped), not negative floats, as torch
    lowest = info.min if kind == "i" else (-info.max if type(value) is int else 0)
    if value > info.max or value < lowest:  # the number as given, before truncation
        raise refusal
    whole = int(value)  # the conversion truncates toward 0
    if kind == "u" and whole < 0:
        return whole + info.max + 1  # two's complement, as torch wraps it
    return value


def number_argument(value, fn: str, name: str, position: int):
    """``value`` for an argument torch parses as a Number (``full``'s fill_value): a 0-d
    tensor without gradient as the number it holds; any other tensor refused with torch's
    TypeError (NumPy would broadcast a one-element tensor into the fill)."""
    if not hasattr(value, "requires_grad"):  # not a Tensor (this module sits below tensor.py)
        return value
    if value.ndim != 0 or value.requires_grad:
        raise TypeError(
            f"{fn}(): argument '{name}' (position {position}) must be Number, not Tensor"
        )
    return value.item()
