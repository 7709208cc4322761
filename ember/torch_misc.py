"""torch's remaining top-level conveniences on ember.*: creation (empty_like, asarray …), dtype
and device queries, windows, RNG state, switches that ember accepts for torch code's sake,
and the in-place top-level forms; ``__all__`` lists them. Windows, Poisson and binomial draws,
constant_pad_nd and the functional RNN cells live in torch_misc_more.py, whose names this
module re-exports.

The switches (deterministic algorithms, float32 matmul precision, inter-op threads, the default
device) are stored and reported back: ember's CPU ops are deterministic and run float32 matmuls
in float32 already, and it has no inter-op thread pool.
"""

from __future__ import annotations

import builtins
import math
import warnings

from . import backend
from . import memory_formats as MF
from .backend import xp
from .creation import check_array_dtype, check_range, tensor
from .creation_random import int_tuple
from .errors import InputError
from .memory_formats import preserve_format
from .promotion import default_float
from .tensor import Tensor
from .tensor_aliases import require_tensor
from .torch_misc_more import *  # noqa: F403 - windows, poisson … rnn cells, in its __all__
from .torch_misc_more import __all__ as _more

__all__ = [
    "layout",
    "strided",
    "empty_like",
    "asarray",
    "scalar_tensor",
    "empty_strided",
    "range",
    "finfo",
    "iinfo",
    "is_complex",
    "is_nonzero",
    "is_same_size",
    "is_signed",
    "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled",
    "get_default_device",
    "set_default_device",
    "set_float32_matmul_precision",
    "get_float32_matmul_precision",
    "get_num_interop_threads",
    "set_num_interop_threads",
    "compile",
    "masked_fill",
    "fill",
    "isreal",
    "conj",
    "resolve_conj",
    "resolve_neg",
    "is_conj",
    "is_neg",
    *_more,
]


# ---------------------------------------------------------------- creation
def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,  # noqa: A002
               memory_format=preserve_format) -> Tensor:  # fmt: skip
    """torch.empty_like: an uninitialised tensor of input's shape (and dtype, unless given),
    laid out as a copy of input in ``memory_format`` is: by default as input is."""
    backend.check_device(device)
    require_tensor("empty_like", input, "input")
    a = input.array
    dt = a.dtype if dtype is None else dtype
    memory_format = preserve_format if memory_format is None else memory_format
    if memory_format is preserve_format and a.flags.c_contiguous and 1 not in a.shape:
        return Tensor(xp.empty(a.shape, dtype=dt), requires_grad=requires_grad)
    fmt = MF.check(memory_format, "empty_like")
    strides = MF.target_strides(a.shape, MF.element_strides(a), fmt)
    return Tensor(MF.empty_strided(a.shape, strides, dt), requires_grad=requires_grad)


_ASARRAY_GRAD = (
    "asarray: unspecified requires_grad now defaults to obj.requires_grad instead of"
    " False. Pass requires_grad=False explicitly to get the old behavior and silence this"
    " warning."
)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None) -> Tensor:
    """torch.asarray: a tensor from obj, sharing memory with a Tensor or NumPy array where the
    dtype allows unless ``copy=True``; ``copy=False`` refuses a conversion that must copy.
    requires_grad left out keeps a tensor's own (with torch's warning where it is True)."""
    backend.check_device(device)
    if isinstance(obj, Tensor) or backend.is_array(obj):
        a = obj.array if isinstance(obj, Tensor) else xp.asarray(obj)
        check_array_dtype(a)
        if dtype is not None and a.dtype != xp.dtype(dtype):
            if copy is False:
                from .promotion import torch_dtype_name

                raise ValueError(
                    f"can't alias tensor with dtype '{torch_dtype_name(a.dtype)}' into dtype"
                    f" '{torch_dtype_name(xp.dtype(dtype))}'."
                )
            a = a.astype(dtype)
        elif copy:
            a = a.copy()
        if isinstance(obj, Tensor) and a is obj.array:
            if requires_grad is None and obj.requires_grad:
                warnings.warn(_ASARRAY_GRAD, UserWarning, stacklevel=2)
            if requires_grad is None or bool(requires_grad) == obj.requires_grad:
                return obj
            if not requires_grad:  # the same memory, outside the graph, as torch's
                return obj.detach()
        out = Tensor(a)
    elif copy is False:  # a list or number has no memory a tensor could share
        raise InputError("can't alias arbitrary sequence (or scalar) into a tensor.")
    else:
        out = tensor(obj, dtype=dtype)
    return out.requires_grad_() if requires_grad else out


def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """torch.scalar_tensor: a 0-d tensor holding s (the default float dtype unless given)."""
    backend.check_device(device)
    return Tensor(xp.asarray(s, dtype=default_float() if dtype is None else dtype),
                  requires_grad=requires_grad)  # fmt: skip


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:  # fmt: skip
    """torch.empty_strided: an uninitialised tensor of ``size`` whose elements lie ``stride``
    elements apart along each dim."""
    backend.check_device(device)
    size = int_tuple(size, "empty_strided", "size", 1)
    stride = int_tuple(stride, "empty_strided", "stride", 2)
    if any(n < 0 for n in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(
            f"Storage size calculation overflowed with sizes={list(size)} and"
            f" strides={list(stride)}"
        )
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape: stride has {len(stride)} dims, size"
            f" has {len(size)}"
        )
    dt = xp.dtype(default_float() if dtype is None else dtype)
    n = 0 if 0 in size else 1 + sum((m - 1) * s for m, s in zip(size, stride))
    flat = xp.empty(n, dtype=dt)
    strides = tuple(s * dt.itemsize for s in stride)
    return Tensor(backend.strided_view(flat, size, strides, writeable=True),
                  requires_grad=requires_grad)  # fmt: skip


def range(start=0, end=None, step=1, *, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad=False) -> Tensor:  # fmt: skip
    """torch.range (deprecated in torch): start, start + step, … up to and including end,
    in the default float dtype unless given."""
    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior"
        " is inconsistent with Python's range builtin. Instead, use torch.arange, which produces"
        " values in [start, end).",
        UserWarning,
        stacklevel=2,
    )
    if end is None:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    backend.check_device(device)
    start, end, step = builtins.float(start), builtins.float(end), builtins.float(step)
    check_range("range", start, end, step, dtype)
    n = int(math.floor((end - start) / step)) + 1
    values = start + step * xp.arange(n, dtype=xp.float64)
    return Tensor(values.astype(default_float() if dtype is None else dtype),
                  requires_grad=requires_grad)  # fmt: skip


# ---------------------------------------------------------------- dtype information
class finfo:  # noqa: N801 - torch's name
    """torch.finfo: a floating dtype's bits, eps, max, min, tiny (= smallest_normal) and
    resolution, as Python numbers, and its name as ``dtype`` (the default float dtype when
    called with none; a complex dtype gives its parts' float dtype's)."""

    def __init__(self, type=None) -> None:  # noqa: A002 - torch's argument name
        dt = xp.dtype(default_float() if type is None else type)
        if dt.kind not in "fc":
            raise TypeError(
                "torch.finfo() requires a floating point input type. Use torch.iinfo to handle"
                " 'torch.finfo'"
            )
        info = xp.finfo(dt)  # a complex dtype's is its parts': complex64 → float32's, as torch
        self.bits, self.dtype = int(info.bits), str(info.dtype)
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g},"
            f" eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g},"
            f" dtype={self.dtype})"
        )


class iinfo:  # noqa: N801 - torch's name
    """torch.iinfo: an integer dtype's bits, max and min, and its name as ``dtype``."""

    def __init__(self, type) -> None:  # noqa: A002 - torch's argument name
        dt = xp.dtype(type)
        if dt.kind == "b":
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if dt.kind not in "iu":
            raise TypeError(
                "torch.iinfo() requires an integer input type. Use torch.finfo to handle"
                " 'torch.iinfo'"
            )
        info = xp.iinfo(dt)
        self.bits, self.max, self.min, self.dtype = (
            int(info.bits),
            int(info.max),
            int(info.min),
            str(dt),
        )

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


# ---------------------------------------------------------------- predicates
def is_complex(input) -> bool:  # noqa: A002
    """torch.is_complex: whether input's dtype is complex (never, in ember)."""
    require_tensor("is_complex", input, "input", 1)
    return input.is_complex()


def is_nonzero(input) -> bool:  # noqa: A002
    """torch.is_nonzero: whether the single element of input is nonzero."""
    require_tensor("is_nonzero", input, "input", 1)
    return input.is_nonzero()


def is_same_size(input, other) -> bool:  # noqa: A002
    """torch.is_same_size: whether the two tensors have the same shape."""
    require_tensor("is_same_size", input, "input", 1)
    require_tensor("is_same_size", other, "other", 2)
    return input.is_same_size(other)


def is_signed(input) -> bool:  # noqa: A002
    """torch.is_signed: whether input's dtype holds negative values."""
    require_tensor("is_signed", input, "input", 1)
    return input.is_signed()


def isreal(input) -> Tensor:  # noqa: A002
    """torch.isreal: True where the imaginary part is 0 (everywhere, for real dtypes)."""
    return input.isreal()


def conj(input) -> Tensor:  # noqa: A002
    """torch.conj: input itself, for a real tensor."""
    return input.conj()


def resolve_conj(input) -> Tensor:  # noqa: A002
    """torch.resolve_conj: input itself (ember has no lazy conjugation)."""
    return input.resolve_conj()


def resolve_neg(input) -> Tensor:  # noqa: A002
    """torch.resolve_neg: input itself (ember has no lazy negation)."""
    return input.resolve_neg()


def is_conj(input) -> bool:  # noqa: A002
    """torch.is_conj: False (ember has no lazy conjugation)."""
    return input.is_conj()


def is_neg(input) -> bool:  # noqa: A002
    """torch.is_neg: False (ember has no lazy negation)."""
    return input.is_neg()


# ---------------------------------------------------------------- filling
def masked_fill(input, mask, value) -> Tensor:  # noqa: A002
    """torch.masked_fill: value where mask is True, else input."""
    return input.masked_fill(mask, value)


def fill(input, value) -> Tensor:  # noqa: A002
    """torch.fill: a new tensor of input's shape and dtype holding value everywhere (the
    gradient goes to a tensor value, summed; input gets zeros)."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(
            "fill_ only supports 0-dimension value tensor but got tensor with"
            f" {value.ndim} dimensions."
        )
    return input.clone().fill_(value)


# ---------------------------------------------------------------- layouts
class layout:  # noqa: N801 - torch's class name
    """torch.layout: how a tensor's elements are stored. ember's tensors are dense arrays with
    strides, torch's ``strided`` layout, the only one there is (no sparse or mkldnn)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):  # one object per layout, as torch's: copies are the same object
        return self.name


strided = layout("strided")


# ---------------------------------------------------------------- switches
_switches = {
    "deterministic": False,
    "warn_only": False,
    "matmul_precision": "highest",
    "interop_threads": 1,
}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """torch.use_deterministic_algorithms: stored and reported (ember's ops are deterministic
    on the CPU already)."""
    if not isinstance(mode, bool):
        raise TypeError(
            f"use_deterministic_algorithms expects a bool, but got {type(mode).__name__}"
        )
    _switches["deterministic"], _switches["warn_only"] = mode, bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """torch.are_deterministic_algorithms_enabled: what use_deterministic_algorithms set."""
    return _switches["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """torch.is_deterministic_algorithms_warn_only_enabled: its warn_only."""
    return _switches["warn_only"]


def get_default_device() -> backend.device:
    """torch.get_default_device: where tensors are made (this process's one device)."""
    return backend.DEVICE


def set_default_device(device) -> None:
    """torch.set_default_device: only None, "cpu" or this process's own device (tensors live
    on one device per process); another is the clear error of ember's device check."""
    backend.check_device(device)


def set_float32_matmul_precision(precision: str) -> None:
    """torch.set_float32_matmul_precision: stored ("highest", "high", "medium"); ember's float32
    matmuls always run in float32, which is "highest"."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
            "setFloat32MatmulPrecision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _switches["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """torch.get_float32_matmul_precision: what set_float32_matmul_precision stored."""
    return _switches["matmul_precision"]


def get_num_interop_threads() -> int:
    """torch.get_num_interop_threads: stored (ember runs ops one after another: 1 at start)."""
    return _switches["interop_threads"]


def set_num_interop_threads(num: int) -> None:
    """torch.set_num_interop_threads: stored, a positive integer."""
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _switches["interop_threads"] = num


def compile(model=None, **kwargs):  # noqa: A001 - torch's name
    """torch.compile: the model or function unchanged (ember has no compiler); usable as
    ``@compile`` and as ``@compile(mode=...)``."""
    if model is None:
        return lambda fn: fn
    return model
