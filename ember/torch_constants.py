"""torch's top-level constants, dtype names and legacy tensor types that scripts written for
torch reach for: ``ember.pi``/``e``/``inf``/``nan``/``newaxis``, ``ember.int`` and
``ember.short``, ``ember.dtype`` (``isinstance(x, ember.dtype)``), the legacy constructors
``ember.FloatTensor(2, 3)``/``ember.LongTensor([1, 2])`` with their ``isinstance`` checks,
``set_default_tensor_type``, the deterministic debug mode, and the small top-level forms
``nonzero_static``, ``adjoint``, ``narrow_copy``, ``unsafe_chunk``/``unsafe_split``/
``unsafe_split_with_sizes``, ``as_strided_`` and ``as_strided_scatter``."""

from __future__ import annotations

import builtins
import math

from . import backend
from .backend import xp
from .creation import tensor as _tensor
from .tensor import Tensor
from .torch_creation import set_default_dtype
from .torch_misc import (
    are_deterministic_algorithms_enabled,
    is_deterministic_algorithms_warn_only_enabled,
    use_deterministic_algorithms,
)

__all__ = [
    "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor",
    "IntTensor", "LongTensor", "ShortTensor", "adjoint", "as_strided_", "as_strided_scatter",
    "dtype", "e", "get_deterministic_debug_mode", "inf", "int", "nan", "narrow_copy", "newaxis",
    "nonzero_static", "pi", "set_default_tensor_type", "set_deterministic_debug_mode", "short",
    "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes",
]  # fmt: skip

_pyint = builtins.int  # this module binds ``int`` to torch's meaning below
pi, e, inf, nan = math.pi, math.e, math.inf, math.nan
newaxis = None
int = xp.int32  # noqa: A001 - torch.int is int32
short = xp.int16


def _is_dtype(obj) -> bool:
    """ember's dtypes are NumPy's: a dtype object or a scalar type (ember.float32)."""
    return isinstance(obj, xp.dtype) or (isinstance(obj, type) and issubclass(obj, xp.generic))


class _DTypeMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return _is_dtype(obj)


class dtype(metaclass=_DTypeMeta):  # noqa: N801 - torch's name
    """torch.dtype for ``isinstance(x, ember.dtype)`` and annotations: ember's dtypes are
    NumPy's (``ember.float32 is numpy.float32``), so this class only answers that test."""

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create 'ember.dtype' instances")


# ------------------------------------------------------------ legacy tensor types
class _LegacyTypeMeta(type):
    """``isinstance(t, ember.FloatTensor)``: a Tensor of that dtype, as torch's check."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'ember.{cls.__name__}'>"


class _LegacyTensorType(metaclass=_LegacyTypeMeta):
    dtype = None

    def __new__(cls, *args, device=None):
        """``FloatTensor()`` empty, ``FloatTensor(2, 3)`` or ``FloatTensor(size)``
        uninitialised, ``FloatTensor(data)`` from a sequence, ``FloatTensor(t)`` t itself
        when its dtype is the type's (torch refuses another dtype)."""
        if device is not None:
            backend.check_device(device)
        want = xp.dtype(cls.dtype)
        if not args:
            return Tensor(xp.empty((0,), dtype=want))
        first = args[0]
        if len(args) == 1 and isinstance(first, Tensor):
            if first.dtype != want:
                raise TypeError(
                    f"ember.{cls.__name__}(t): expected a tensor of dtype {want}, got"
                    f" {first.dtype} (convert it with t.to(ember.{want}))"
                )
            return first
        if all(isinstance(a, _pyint) for a in args) or (
            len(args) == 1
            and isinstance(first, tuple)
            and all(isinstance(a, _pyint) for a in first)
        ):
            shape = tuple(first) if isinstance(first, tuple) else args
            return Tensor(xp.empty(shape, dtype=want))
        if len(args) > 1:
            raise TypeError(
                f"ember.{cls.__name__}(...): expected sizes (ints) or one sequence of data,"
                f" got {tuple(type(a).__name__ for a in args)}"
            )
        if isinstance(first, (float, complex, bool)) or not hasattr(first, "__len__"):
            raise TypeError(f"new(): data must be a sequence (got {type(first).__name__})")
        return _tensor(first, dtype=want)


def _legacy(name: str, dt) -> type:
    doc = f"torch.{name}: the legacy constructor and isinstance check for {xp.dtype(dt)} tensors."
    attrs = {"dtype": dt, "_ember_legacy_dtype": dt, "__doc__": doc}  # the 2nd for Tensor.type
    return _LegacyTypeMeta(name, (_LegacyTensorType,), attrs)


FloatTensor = _legacy("FloatTensor", xp.float32)
DoubleTensor = _legacy("DoubleTensor", xp.float64)
HalfTensor = _legacy("HalfTensor", xp.float16)
LongTensor = _legacy("LongTensor", xp.int64)
IntTensor = _legacy("IntTensor", xp.int32)
ShortTensor = _legacy("ShortTensor", xp.int16)
CharTensor = _legacy("CharTensor", xp.int8)
ByteTensor = _legacy("ByteTensor", xp.uint8)
BoolTensor = _legacy("BoolTensor", xp.bool_)
_LEGACY = {t.__name__: t for t in (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,
                                   ShortTensor, CharTensor, ByteTensor, BoolTensor)}  # fmt: skip


def set_default_tensor_type(t) -> None:
    """torch.set_default_tensor_type (deprecated in torch for set_default_dtype): a float
    legacy type or its name ("torch.DoubleTensor" or "ember.DoubleTensor") sets the default
    dtype; integer types and CUDA types are refused as torch refuses them without CUDA."""
    if isinstance(t, str):
        if ".cuda." in t and not backend.ON_GPU:
            raise TypeError(f"type {t} not available. ember runs on the CPU in this process")
        name = t.rpartition(".")[2]
        if name not in _LEGACY:
            raise TypeError(f"invalid type: '{t}'")
        t = _LEGACY[name]
    if not (isinstance(t, _LegacyTypeMeta) and xp.dtype(t.dtype).kind == "f"):
        raise TypeError("only floating-point types are supported as the default type")
    set_default_dtype(t.dtype)


# ------------------------------------------------------------ deterministic debug mode
_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode) -> None:
    """torch.set_deterministic_debug_mode: 0/"default" off, 1/"warn" deterministic with
    warnings, 2/"error" deterministic; the same switch as use_deterministic_algorithms."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                "invalid value of debug_mode, expected one of `default`, `warn`, `error`, but"
                f" got {debug_mode}"
            )
        debug_mode = _DEBUG_MODES[debug_mode]
    if not isinstance(debug_mode, _pyint):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode).__name__}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(
            f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}"
        )
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> builtins.int:
    """torch.get_deterministic_debug_mode: 0, 1 (warn only) or 2."""
    if not are_deterministic_algorithms_enabled():
        return 0
    return 1 if is_deterministic_algorithms_warn_only_enabled() else 2


# ------------------------------------------------------------ small top-level forms
def _t(x, fn: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x


def nonzero_static(input, *, size: builtins.int, fill_value: builtins.int = -1) -> Tensor:  # noqa: A002
    """torch.nonzero_static: the indices of the nonzero elements as nonzero() gives them,
    cut or padded with ``fill_value`` to exactly ``size`` rows (a fixed shape)."""
    x = _t(input, "nonzero_static")
    if not isinstance(size, _pyint) or size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    idx = xp.argwhere(x.array)[:size]
    out = xp.full((size, max(x.ndim, 1) if x.ndim else 0), fill_value, dtype=xp.int64)
    out[: len(idx)] = idx
    return Tensor(out)


def adjoint(input) -> Tensor:  # noqa: A002
    """torch.adjoint: the conjugate transpose of the last two dims (a view)."""
    return _t(input, "adjoint").adjoint()


def narrow_copy(input, dim: builtins.int, start: builtins.int, length: builtins.int) -> Tensor:  # noqa: A002
    """torch.narrow_copy: narrow, copied."""
    return _t(input, "narrow_copy").narrow_copy(dim, start, length)  # row-major, as torch


def unsafe_chunk(input, chunks: builtins.int, dim: builtins.int = 0) -> tuple:  # noqa: A002
    """torch.unsafe_chunk: chunk (ember's pieces are safe to write into, so it is chunk)."""
    return tuple(_t(input, "unsafe_chunk").chunk(chunks, dim))


def unsafe_split(tensor, split_size: builtins.int, dim: builtins.int = 0) -> tuple:
    """torch.unsafe_split: split by one size."""
    return tuple(_t(tensor, "unsafe_split").split(split_size, dim))


def unsafe_split_with_sizes(input, split_sizes, dim: builtins.int = 0) -> tuple:  # noqa: A002
    """torch.unsafe_split_with_sizes: split by a list of sizes."""
    return tuple(_t(input, "unsafe_split_with_sizes").split(list(split_sizes), dim))


def as_strided_(input, size, stride, storage_offset=None) -> Tensor:  # noqa: A002
    """torch.as_strided_: Tensor.as_strided_ (self restrided in place)."""
    return _t(input, "as_strided_").as_strided_(size, stride, storage_offset)


def as_strided_scatter(input, src, size, stride, storage_offset=None) -> Tensor:  # noqa: A002
    """torch.as_strided_scatter: Tensor.as_strided_scatter."""
    return _t(input, "as_strided_scatter").as_strided_scatter(src, size, stride, storage_offset)
