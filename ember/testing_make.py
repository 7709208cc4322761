"""torch.testing.make_tensor and the deprecated assert_allclose, for tests written against
torch's testing helpers.

make_tensor draws uniformly from [low, high): defaults [-9, 9) for floating and complex dtypes
(both parts of a complex number), [-9, 10) for signed integers, [0, 10) for unsigned ones and
{0, 1} for bool; bounds outside the dtype's range are clamped to it, integer bounds rounded up.
``noncontiguous`` gives every other element of a tensor twice as wide in its last dimension
(so the values differ from a contiguous copy's neighbours), ``exclude_zero`` replaces zeros by
1 (integers) or the dtype's smallest normal number.
"""

from __future__ import annotations

import math
import warnings

from . import backend
from .backend import xp
from .creation import empty, randint
from .tensor import Tensor
from .testing import assert_close
from .torch_misc import finfo, iinfo


def _low_high(low, high, dtype, lowest: float, highest: float, default_low, default_high):
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype.kind in "fc":
        warnings.warn(
            "Passing `low==high` to `torch.testing.make_tensor` for floating or complex types"
            " is deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)`"
            " instead.",
            FutureWarning,
            stacklevel=3,
        )
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(
            f"The value interval specified by `low` and `high` is [{low}, {high}), but"
            f" ember.{dtype} only supports [{lowest}, {highest})"
        )
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if dtype.kind in "biu":
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format=None) -> Tensor:  # fmt: skip
    """A tensor of ``shape`` and ``dtype`` with values drawn uniformly from [low, high)."""
    backend.check_device(device)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = tuple(shape)
    dt = xp.dtype(dtype)
    if noncontiguous and memory_format is not None:
        raise ValueError(
            "The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got"
            f" noncontiguous={noncontiguous} and memory_format={memory_format}"
        )
    if requires_grad and dt.kind in "biu":
        raise ValueError(
            "`requires_grad=True` is not supported for boolean and integral dtypes, but got"
            f" dtype=ember.{dt}"
        )
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:  # twice as wide: every other element is taken below
        shape = (*shape[:-1], 2 * shape[-1])
    if dt.kind == "b":
        low, high = _low_high(low, high, dt, 0, 2, 0, 2)
        result = randint(low, high, shape).astype(dt)
    elif dt.kind in "iu":
        info = iinfo(dt)
        top = info.max + (1 if dt != xp.int64 else 0)
        low, high = _low_high(low, high, dt, info.min, top, -9, 10)
        result = randint(low, high, shape).astype(dt)
    elif dt.kind in "fc":
        info = finfo(dt)
        low, high = _low_high(low, high, dt, info.min, info.max, -9, 9)
        result = empty(*shape, dtype=dt)
        if high - low >= info.max:  # uniform_ needs high − low finite: draw half, double
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    else:
        raise TypeError(
            f"The requested dtype '{dt}' is not supported by ember.testing.make_tensor()."
        )
    if noncontiguous:
        result = result[..., 1::2]  # offset by 1, to also catch offset mistakes
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        zero = result.array == 0
        result.array[zero] = 1 if dt.kind in "biu" else finfo(dt).tiny
    if dt.kind in "fc":
        result.requires_grad_(requires_grad)
    return result


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan: bool = True,
                    msg: str = "") -> None:  # fmt: skip
    """torch.testing.assert_allclose (deprecated in torch for assert_close): dtypes need not
    match, NaNs are equal by default, and the default tolerances are its own (float32: rtol
    1e-4, atol 1e-5; float64: 1e-5, 1e-8; float16: 1e-3, 1e-3)."""
    a = actual if isinstance(actual, Tensor) else Tensor(xp.asarray(actual))
    e = expected if isinstance(expected, Tensor) else Tensor(xp.asarray(expected, a.dtype))
    if rtol is None and atol is None:
        table = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}
        pairs = [table.get(d.name, (0.0, 0.0)) for d in (a.dtype, e.dtype)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False,
                 msg=msg or None)  # fmt: skip
