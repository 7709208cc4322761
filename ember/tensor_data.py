"""The array ``ember.tensor(data)`` holds: NumPy's conversion of the data, refused and retyped
where torch infers otherwise. torch infers a type for every leaf (a Python float: the default
dtype, an int: int64, a bool, a complex: the default complex; a NumPy scalar or array, or a
Tensor: its own dtype) and promotes them by its rules, where NumPy widens Python floats to
float64 and promotes by its own."""

from __future__ import annotations

from . import backend, promotion
from .backend import xp
from .scalar_fits import CHECKED_SCALARS, check_scalar_fits
from .tensor import Tensor


def default_complex():
    """torch's default complex dtype: complex64, complex128 when the default float is float64."""
    return xp.complex128 if backend.DEFAULT_DTYPE == xp.float64 else xp.complex64


def data_array(data, dtype=None):
    """``data`` (nested lists and tuples of numbers, NumPy arrays or scalars, Tensors) as a new
    array of torch's inferred dtype, or of ``dtype``."""
    if isinstance(data, Tensor):
        data = data.array
    elif isinstance(data, (list, tuple)) and _holds_tensors(data):
        data = _one_element_tensors_as_scalars(data)
    try:
        with backend.errstate(over="ignore"):  # past a float dtype's range: ±inf, as torch
            a = xp.array(data, dtype=dtype)
    except (OverflowError, ValueError):
        if dtype is None or xp.dtype(dtype).kind not in "iu" or hasattr(data, "dtype"):
            raise
        a = xp.array(_fitted(data, xp.dtype(dtype)), dtype=dtype)  # torch's conversion
    if a.dtype.kind not in "biufc" or (a.dtype == xp.uint64 and not hasattr(data, "dtype")):
        a = _numbers_only(data, a)
    # Python floats become float32 (torch's default); NumPy arrays and scalars keep their dtype,
    # also inside lists ([np.float64(1.5), 2.0] and a list of float64 arrays are float64)
    if dtype is None and not hasattr(data, "dtype"):
        leaves = _leaf_dtypes(data) if isinstance(data, (list, tuple)) else set()
        if leaves:  # NumPy leaves: torch's promotion of every leaf's type (not NumPy's)
            a = backend.cast(a, _promoted_leaves(leaves))
        elif a.dtype in (xp.float64, xp.complex128):  # Python floats: the default dtype
            a = backend.cast(
                a, backend.DEFAULT_DTYPE if a.dtype == xp.float64 else default_complex()
            )
    return a


def _holds_tensors(data) -> bool:
    """Whether nested lists hold a Tensor anywhere (one ``set(map(type, …))`` per list)."""
    stack = [data]
    while stack:
        seq = stack.pop()
        for t in set(map(type, seq)):
            if t is list or t is tuple:
                stack.extend(v for v in seq if type(v) is t)
            elif issubclass(t, Tensor):
                return True
    return False


def _one_element_tensors_as_scalars(data):
    """Nested lists with each one-element Tensor (of any shape) as the number it holds, in its
    dtype, as torch reads them: ``tensor([t.sum() for …])`` and ``tensor([ones(1), ones(1)])``
    are 1-D. A Tensor of several elements stays an array (ember stacks it; torch refuses)."""
    if isinstance(data, (list, tuple)):
        return [_one_element_tensors_as_scalars(v) for v in data]
    if isinstance(data, Tensor) and data.array.size == 1:
        return data.array.reshape(())[()]
    return data


def _fitted(data, dtype):
    """Nested lists with each Python number converted into the integer ``dtype`` as torch
    converts it (NumPy refused one): a negative int wraps into an unsigned dtype (uint8: -3
    is 253); a number past the range, a negative float into unsigned, NaN and ±inf are
    refused with torch's RuntimeError."""
    if isinstance(data, (list, tuple)):
        return [_fitted(v, dtype) for v in data]
    if type(data) in CHECKED_SCALARS:
        try:
            return check_scalar_fits(data, dtype)
        except RuntimeError:
            raise RuntimeError(
                f"value cannot be converted to type {dtype.name} without overflow (got {data!r})"
            ) from None
    return data


#: the type torch infers for a Python leaf of tensor data (None: the default float/complex)
_PYTHON_LEAF = {bool: "bool", int: "int64", float: None, complex: None}


def _promoted_leaves(leaves: set):
    """torch.promote_types over the leaves' types (a Python float: the default dtype; a
    complex: the default complex; an np.int64 with an np.float16 is float16, not NumPy's
    float64)."""
    out = None
    for d in leaves:
        d = xp.dtype(d)
        out = d if out is None else promotion.promote_types(out, d)
    return out


def _leaf_dtypes(data) -> set:
    """The types torch infers for nested lists' leaves, when any leaf is a NumPy array or
    scalar or a Tensor (else the empty set: NumPy's own inference then holds). One
    ``set(map(type, …))`` per list keeps the walk at C speed."""
    found, python, stack = set(), set(), [data]
    while stack:
        seq = stack.pop()
        for t in set(map(type, seq)):
            if t is list or t is tuple:
                stack.extend(v for v in seq if type(v) is t)
            elif issubclass(t, xp.generic) or backend.is_host_or_device_array(
                next(v for v in seq if type(v) is t)
            ):  # NumPy scalars; arrays on the device, or on the host beside a GPU
                found.update(v.dtype for v in seq if type(v) is t)
            elif issubclass(t, Tensor):
                found.update(v.array.dtype for v in seq if type(v) is t)
            elif t in _PYTHON_LEAF:
                python.add(t)
    if not found:
        return found
    for t in python:
        name = _PYTHON_LEAF[t]
        found.add(xp.dtype(name) if name else (default_complex() if t is complex
                                                else xp.dtype(backend.DEFAULT_DTYPE)))  # fmt: skip
    return found


def _numbers_only(data, a):
    """What NumPy made of Python data that is not all numbers of torch's kinds, refused with
    torch's errors (None, strings, objects), or, for integers past int64 beside floats, the
    floats torch makes of them ([2**70, 1.0] is float64 here, the default float after)."""
    leaves = a.reshape(-1).tolist() if a.dtype.kind in "OUS" else []
    for v in leaves:
        if isinstance(v, str):
            raise ValueError(f"too many dimensions 'str' (tensor data must be numbers): {v!r}")
        if not isinstance(v, (bool, int, float, complex)):
            raise RuntimeError(f"Could not infer dtype of {type(v).__name__}")
    if any(isinstance(v, (float, complex)) for v in leaves):
        return xp.array(leaves, dtype=complex if any(isinstance(v, complex) for v in leaves)
                        else float).reshape(a.shape)  # fmt: skip
    raise ValueError(
        "Overflow when unpacking long: a Python int beyond int64 in tensor data (torch infers"
        " no unsigned 64-bit dtype; give dtype= or a NumPy array)"
    )
