"""Result dtypes of mixed-dtype arithmetic, as PyTorch computes them.

NumPy and torch agree while both operands are floats or both are integers, and disagree
where an integer (or bool) meets a float. NumPy widens to float64 (an int64 array times a
float32 array, an int64 array times 0.5, exp of an int64 array); torch keeps the float
operand's dtype, and where no float operand brings one it uses the default dtype (float32):

    int64 tensor + float32 tensor  → float32        (NumPy: float64)
    int64 tensor * 0.5             → float32        (NumPy: float64)
    int64 tensor / int64 tensor    → float32        (NumPy: float64)
    exp(int64 tensor)              → float32        (NumPy: float64)

and a 0-dim tensor does not widen a dimensioned one of its own category
(float32 tensor + 0-dim float64 tensor → float32). Without these rules a model written for
torch (``torch.arange(T) / 10000 ** (...)``, ``x * mask.long()``) would silently run in
float64 here. Bool < integer < float is torch's order of categories.
"""

from __future__ import annotations

import functools

from . import backend

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


#: torch's C++ names of the dtypes, as its error messages print them (float32 → "Float")
_TORCH_NAMES = dict(
    zip(
        "float32 float64 float16 int64 int32 int16 int8 uint8 bool complex64 complex128 uint16"
        " uint32 uint64".split(),
        "Float Double Half Long Int Short Char Byte Bool ComplexFloat ComplexDouble UInt16"
        " UInt32 UInt64".split(),
    )
)


#: the C++ type names torch prints in some messages (randint's ranges, masked_fill's mask)
C_TYPE_NAMES = {"int8": "signed char", "uint8": "unsigned char", "int16": "short int",
                "int32": "int", "int64": "long int", "bool": "bool", "float16": "c10::Half",
                "float32": "float", "float64": "double"}  # fmt: skip


def torch_dtype_name(dtype) -> str:
    """torch's C++ name of a dtype as its error messages print it (float32 → "Float")."""
    return _TORCH_NAMES.get(str(dtype), str(dtype))


def category(dtype) -> int:
    """0 bool, 1 integer, 2 float, 3 complex."""
    return _CATEGORY.get(dtype.kind, 2)


def is_floating(dtype) -> bool:
    return dtype.kind in "fc"


def default_float():
    """The dtype torch gives integer operands of a floating operation (float32 at start)."""
    return backend.DEFAULT_DTYPE


def promote_types(da, db):
    """torch.promote_types for two dtypes: the higher category's dtype, else NumPy's widening
    within the category (int32 with int64 is int64, float32 with float64 float64)."""
    ca, cb = category(da), category(db)
    if ca == 3 and cb == 2 or ca == 2 and cb == 3:  # complex64 with float64 is complex128
        return backend.xp.promote_types(da, db)
    if ca != cb:
        return da if ca > cb else db
    return backend.xp.promote_types(da, db)


def complex_dtype_of(dtype):
    """The complex dtype of a float dtype's width (float64 → complex128, else complex64)."""
    xp = backend.xp
    return xp.dtype(xp.complex128 if dtype == xp.float64 else xp.complex64)


def pair_target(a, b):
    """The dtype one of two arrays must be cast to for torch's result dtype, or None where
    NumPy's own promotion already gives it (same dtypes, or same category and rank class)."""
    da, db = a.dtype, b.dtype
    if da == db:
        return None
    ca, cb = category(da), category(db)
    a0, b0 = a.ndim == 0, b.ndim == 0
    if ca != cb:  # the higher category's operand decides, whichever has dimensions
        if ca + cb == 5:  # complex with float: torch's combine_categories
            if a0 == b0:  # complex64 with float64 is complex128
                return promote_types(da, db)
            if a0 if ca == 3 else b0:  # a 0-dim complex takes the dimensioned float's width
                return complex_dtype_of(db if ca == 3 else da)
        return da if ca > cb else db
    if a0 != b0:  # a 0-dim operand does not widen a dimensioned one of its category
        return db if a0 else da
    return None


def wrap_int_scalar(dtype, c):
    """A Python int meeting a tensor of 8, 16 or 32-bit integers, cast to its dtype as torch
    casts it: wrapped around (uint8 + 300 adds 44), where NumPy would raise OverflowError."""
    if type(c) is int and dtype.kind in "iu" and dtype.itemsize < 8:
        info = backend.xp.iinfo(dtype)
        if not info.min <= c <= info.max:
            return (c - info.min) % (info.max - info.min + 1) + info.min
    return c


def compared(a, b):
    """The two operands of a comparison (==, <, …) as torch compares them: both in the
    result dtype of their arithmetic, where NumPy compares in the wider one. An int64 tensor
    meets a float32 one, or a Python float, in float32 (so 2²⁴ + 1 == 2.0**24 is True, as the
    float32 sum would be), an int32 one meets float16 in float16, a float32 tensor meets a
    0-dim float64 one in float32; a Python int meeting 8 to 32-bit integers wraps around
    (uint8 == -1 is uint8 == 255). ``a`` is an array, ``b`` an array or a Python number."""
    if type(b) is float:
        if a.dtype.kind in "biu":
            return a.astype(default_float()), b
        return a, b
    if type(b) is int:
        return a, wrap_int_scalar(a.dtype, b)
    if getattr(b, "dtype", None) is None or a.dtype == b.dtype:
        return a, b
    target = pair_target(a, b)
    if target is None:
        return a, b
    with backend.errstate(over="ignore"):  # int32 past float16's range is ±inf, silently
        return a.astype(target, copy=False), b.astype(target, copy=False)


def result_dtype(*arrays):
    """torch.result_type of several arrays: the highest category decides; within it the
    dimensioned arrays' promoted dtype, or the 0-dim ones' where no dimensioned array is of
    that category (a 0-dim complex meeting dimensioned floats takes their width)."""
    dims = [a.dtype for a in arrays if a.ndim]
    zero = [a.dtype for a in arrays if not a.ndim]
    d = functools.reduce(promote_types, dims) if dims else None
    z = functools.reduce(promote_types, zero) if zero else None
    if d is None:
        return z
    if z is None or category(z) <= category(d):
        return d
    return complex_dtype_of(d) if category(z) == 3 and category(d) == 2 else z


def scalar_result_dtype(dtype, c):
    """torch's result dtype of a tensor of ``dtype`` meeting the Python number c (a weak
    scalar: it changes the dtype only by raising its category)."""
    if type(c) is float and dtype.kind in "biu":
        return backend.xp.dtype(default_float())
    if type(c) is int and dtype.kind == "b":
        return backend.xp.dtype(backend.xp.int64)
    if type(c) is complex and dtype.kind != "c":
        return complex_dtype_of(dtype if dtype.kind == "f" else default_float())
    return dtype


def common_arrays(a, b):
    """Two operands, arrays or Python numbers (one an array at least), as arrays of torch's
    result dtype: what torch compares where it searches or matches values of two tensors
    (searchsorted, isin)."""
    xp = backend.xp
    if not hasattr(a, "dtype"):
        b, a = common_arrays(b, a)
        return a, b
    if hasattr(b, "dtype"):  # (left uncast where NumPy's promotion already gives torch's)
        return compared(a, b)
    target = scalar_result_dtype(a.dtype, b)
    return a.astype(target, copy=False), xp.asarray(wrap_int_scalar(target, b), target)


#: torch's refusals where a write into a tensor takes a source tensor of another dtype
#: (torch casts nothing there; ember used to, silently truncating 1.5 into an int64 tensor)
_SAME_DTYPE = {
    "index_add": "index_add_(): self ({a}) and source ({b}) must have the same scalar type",
    "scatter": "scatter(): Expected self.dtype to be equal to src.dtype",
    "index_copy": "index_copy_(): self and source expected to have the same dtype, but got"
    " (self) {a} and (source) {b}",
    "put": "put_(): self and source expected to have the same dtype, but got self.dtype = {a}"
    " and source.dtype = {b}",
    "masked_scatter": "masked_scatter: expected self and source to have same dtypes but got{a}"
    " and {b}",
    "index_put": "Index put requires the source and destination dtypes match, got {a} for the"
    " destination and {b} for the source.",
}


def require_same_dtype(op: str, dtype, source_dtype) -> None:
    """torch's RuntimeError where ``op`` (index_add, scatter, scatter_add, scatter_reduce,
    index_copy, put, masked_scatter, index_put) writes a source of another dtype."""
    if dtype != source_dtype:
        message = _SAME_DTYPE[op].format(
            a=torch_dtype_name(dtype), b=torch_dtype_name(source_dtype)
        )
        raise RuntimeError(message)
