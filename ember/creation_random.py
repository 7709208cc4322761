"""The random makers: rand, randn, randint, randperm and the ``*_like`` draws, with torch's
argument parsing and refusals (re-exported by creation.py, where the other makers live).

torch refuses a dtype its kernel has none for before it draws (``rand`` of an integer dtype:
"check_uniform_bounds" not implemented; ``randn`` of one: "normal_kernel_cpu", unless there is
nothing to draw; ``randperm`` of bool or complex), and ``randint``/``randperm`` a range the
dtype cannot hold. float16 draws come from the Generator, which makes them in float32 or as
k·2⁻¹¹ (NumPy has no float16 generator).
"""

from __future__ import annotations

import operator
import warnings

from . import backend
from .backend import xp
from .creation import _dtype, _like, _shape
from .errors import InputError
from .memory_formats import preserve_format
from .ops.elementwise import not_implemented_for
from .promotion import C_TYPE_NAMES
from .tensor import Tensor


def _floating(dtype, kernel: str, empty: bool = False):
    """dtype (the default float one when None) checked as torch's random kernels check it:
    floating or complex, else its NotImplementedError (``empty``: nothing to draw, and
    torch's kernel is not reached)."""
    dt = xp.dtype(_dtype(dtype))
    if dt.kind not in "fc" and not empty:
        raise not_implemented_for(kernel, dt)
    return dt


def randn(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **kw) -> Tensor:  # fmt: skip
    """Standard normal samples from ``generator`` (default: ember's seeded generator)."""
    backend.check_device(device)
    shape = _shape(size, "randn", **kw)
    dt = _floating(dtype, "normal_kernel_cpu", empty=0 in shape)
    if dt.kind not in "fc":
        return Tensor(xp.empty(shape, dtype=dt), requires_grad=requires_grad)
    a = backend.generator_or_default(generator).standard_normal(shape, dt)
    return Tensor(a, requires_grad=requires_grad)


def rand(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kw) -> Tensor:  # fmt: skip
    """Uniform samples in [0, 1) from ``generator`` (default: ember's seeded generator)."""
    backend.check_device(device)
    shape = _shape(size, "rand", **kw)
    dt = _floating(dtype, "check_uniform_bounds")
    a = backend.generator_or_default(generator).random(shape, dt)
    return Tensor(a, requires_grad=requires_grad)


def int_argument(value, fn: str, name: str, position: int | None = None) -> int:
    """An int argument as torch's parser reads it: an int, or an integer tensor of one element
    whatever its dims (not a bool, not a float)."""
    one = (isinstance(value, Tensor) and value.numel() == 1) or getattr(value, "ndim", 1) == 0
    if one and getattr(getattr(value, "dtype", None), "kind", "?") in "iu":
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)):
        where = f" (position {position})" if position else ""
        raise TypeError(f"{fn}(): argument '{name}'{where} must be int, not {type(value).__name__}")
    value = operator.index(value)
    if not -(2**63) <= value < 2**63:
        raise ValueError("Overflow when unpacking long long")
    return value


def int_tuple(values, fn: str, name: str, position: int) -> tuple:
    """A tuple of ints as torch's parser reads one: ints or 0-d integer tensors, not floats
    (empty_strided's size and stride)."""
    out = []
    for i, v in enumerate(values):
        if hasattr(v, "ndim") and v.ndim == 0 and v.array.dtype.kind in "iu":
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, (int, xp.integer)):
            raise TypeError(
                f"{fn}(): argument '{name}' (position {position}) must be tuple of ints, but"
                f" found element of type {type(v).__name__} at pos {i}"
            )
        out.append(int(v))
    return tuple(out)


def check_random_bounds(low: int, high: int, dt) -> None:
    """torch's checks of randint's [low, high) for ``dt``: low < high, then both ends within
    what the dtype holds (refused past its range; a float one warns past 2^digits, the
    integers it holds exactly)."""
    if low >= high:
        raise InputError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    if dt.kind == "c":
        raise InputError(
            "check_random_bounds handles only integral, floating-point and boolean types"
        )
    name = C_TYPE_NAMES.get(dt.name, dt.name)
    if dt.kind == "f":
        top = float(xp.finfo(dt).max)  # past the dtype's range: refused, as integers are
        if not -top <= low <= top:
            raise InputError(f"from is out of bounds for {name}")
        if not -top <= high - 1 <= top:
            raise InputError(f"to - 1 is out of bounds for {name}")
        digits = xp.finfo(dt).nmant + 1  # the dtype holds every integer up to 2^digits
        for value, which in ((low, "from"), (high - 1, "to - 1")):
            if not -(2**digits) <= value <= 2**digits:
                warnings.warn(
                    f"{which} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision"
                    f" limitations {name} can support discrete uniform distribution only"
                    " within this range. This warning will become an error in version 1.7"
                    " release, please fix the code in advance",
                    UserWarning,
                    stacklevel=3,
                )
        return
    lo, hi = (0, 1) if dt.kind == "b" else (int(xp.iinfo(dt).min), int(xp.iinfo(dt).max))
    if not lo <= low <= hi:
        raise InputError(f"from is out of bounds for {name}")
    if not lo <= high - 1 <= hi:
        raise InputError(f"to - 1 is out of bounds for {name}")


def randint(*args, size=None, low=None, high=None, generator=None, dtype=None, layout=None,
            device=None, requires_grad=False, pin_memory=False) -> Tensor:  # fmt: skip
    """torch.randint: integers drawn uniformly from [low, high) (int64 unless ``dtype``),
    called as ``randint(high, size)`` or ``randint(low, high, size)``, each also by keyword."""
    backend.check_device(device)
    bounds = list(args)
    if size is None and bounds:
        size = bounds.pop()
    if high is not None:
        bounds.append(high)
    if low is not None:
        bounds.insert(0, low)
    if size is None or len(bounds) not in (1, 2) or (low is not None and high is None):
        raise TypeError(
            "randint() received an invalid combination of arguments: expected (int high,"
            " tuple of ints size) or (int low, int high, tuple of ints size)"
        )
    at = 1 if len(bounds) == 1 else None  # torch names the position of a lone high only
    if len(bounds) == 1:
        bounds.insert(0, 0)
    lo = int_argument(bounds[0], "randint", "low")
    hi = int_argument(bounds[1], "randint", "high", at)
    shape = _shape((size,), "randint", position=len(args), as_tuple=True)
    dt = xp.dtype(xp.int64 if dtype is None else dtype)
    check_random_bounds(lo, hi, dt)
    a = backend.generator_or_default(generator).integers(lo, hi, shape)
    return Tensor(a.astype(dt, copy=False), requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False) -> Tensor:  # fmt: skip
    """torch.randperm: a random permutation of 0 … n − 1 (int64 unless ``dtype``)."""
    backend.check_device(device)
    n = int_argument(n, "randperm", "n", 1)
    if n < 0:
        raise InputError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dt = xp.dtype(xp.int64 if dtype is None else dtype)
    if dt.kind in "bc":
        raise not_implemented_for("randperm", dt)
    if dt.kind in "iu" and n - 1 > xp.iinfo(dt).max:
        name = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int"}
        raise InputError(
            f"value cannot be converted to type {name.get(dt.name, dt.name)} without overflow"
        )
    a = backend.generator_or_default(generator).permutation(n)
    return Tensor(a.astype(dt, copy=False), requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False, *, generator=None, layout=None,  # noqa: A002
               device=None, pin_memory=False, memory_format=preserve_format) -> Tensor:  # fmt: skip
    """torch.randn_like: standard normal samples in t's shape and dtype, laid out as t."""
    backend.check_device(device)
    return _like(randn, input, dtype, requires_grad, memory_format, "randn_like",
                 generator=generator)  # fmt: skip


def rand_like(input, dtype=None, requires_grad=False, *, generator=None, layout=None,  # noqa: A002
              device=None, pin_memory=False, memory_format=preserve_format) -> Tensor:  # fmt: skip
    """torch.rand_like: uniform samples in [0, 1) in t's shape and dtype, laid out as t."""
    backend.check_device(device)
    return _like(rand, input, dtype, requires_grad, memory_format, "rand_like",
                 generator=generator)  # fmt: skip


__all__ = ["rand", "rand_like", "randint", "randn", "randn_like", "randperm"]
