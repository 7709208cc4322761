"""Making tensors: from data, filled, ranges, random; and the seed that makes runs repeat.

Every maker takes torch's ``device=`` keyword: None or "cpu" (where this version keeps every
tensor); "cuda" is a clear error naming why (``backend.check_device``), so code written
``device = "cuda" if ember.cuda.is_available() else "cpu"`` runs unchanged.
"""

from __future__ import annotations

import math
import warnings

from . import backend
from . import memory_formats as MF
from .backend import xp
from .errors import InputError
from .memory_formats import contiguous_format, preserve_format
from .scalar_fits import CHECKED_SCALARS, check_scalar_fits, number_argument
from .tensor import Tensor
from .tensor_aliases import require_tensor
from .tensor_data import data_array, default_complex


def manual_seed(seed: int) -> backend.Generator:
    """Seed every random draw ember makes (init, dropout, shuffling) so runs repeat bit for bit;
    returns the default generator, as torch.manual_seed does. The seed is read through
    Python's int, as torch's (a float truncated, a string or one-element tensor parsed)."""
    return backend.default_generator.manual_seed(int(seed))


def initial_seed() -> int:
    """torch.initial_seed: the seed of the default generator."""
    return backend.default_generator.initial_seed()


def seed() -> int:
    """torch.seed: reseed the default generator from the OS; returns the seed."""
    return backend.default_generator.seed()


def _dtype(dtype):
    return backend.DEFAULT_DTYPE if dtype is None else dtype


def _shape(dims, name: str = "", *, position: int = 1, as_tuple: bool = False, **kw) -> tuple:
    """A maker's size as torch parses it: ints as varargs, one tuple/list/Size, or ``size=``
    (``kw``: any other keyword is refused as Python refuses it); 0-d integer tensors count as
    ints, a tensor of more elements is a TypeError (NumPy would take its one element or fail
    with another class); a negative size is torch's RuntimeError. ``as_tuple``: a lone int is
    refused (randint's size)."""
    for key in kw:
        if key != "size":
            raise TypeError(f"{name}() got an unexpected keyword argument '{key}'")
        if dims:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        dims = (kw["size"],)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        shape = tuple(dims[0])
    elif as_tuple:
        raise TypeError(
            f"{name}(): argument 'size' (position {position}) must be tuple of ints, not"
            f" {type(dims[0]).__name__}"
        )
    else:
        shape = tuple(dims)
    if any(hasattr(n, "ndim") and n.ndim != 0 for n in shape):
        raise TypeError(f"{name}(): argument 'size' (position {position}) must be tuple of ints,"
                        " not Tensor")  # fmt: skip
    if any(type(n) is int and n < 0 for n in shape):  # torch's RuntimeError (NumPy: ValueError)
        raise InputError(f"Trying to create tensor with negative dimension: {list(shape)}")
    return shape


def tensor(data, dtype=None, requires_grad: bool = False, *, device=None,
           pin_memory=False) -> Tensor:  # fmt: skip
    """A new tensor holding a copy of ``data`` (floats become float32 unless ``dtype`` says;
    the dtype inferred as torch infers it, tensor_data.py). A tensor as ``data`` gets torch's
    warning: ``t.detach().clone()`` says what is meant."""
    backend.check_device(device)
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use"
            " sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True),"
            " rather than torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
    elif type(data) is list and data and backend.is_host_or_device_array(data[0]):
        warnings.warn(  # torch's (once per process there; Python's filter here)
            "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider"
            " converting the list to a single numpy.ndarray with numpy.array() before"
            " converting to a tensor.",
            UserWarning,
            stacklevel=2,
        )
    elif isinstance(data, str):  # NumPy would make a 0-d string array of it
        raise TypeError("new(): invalid data type 'str'")
    elif backend.is_host_or_device_array(data):
        check_array_dtype(data)
    try:
        array = data_array(data, dtype)
    except ValueError:  # NumPy's "inhomogeneous shape": torch's TypeError where a list mixes
        if _mixes_numbers_and_lists(data):  # numbers and lists, its ValueError for lengths
            raise TypeError("tensor(): not a sequence: a list holds both numbers and lists"
                            " at one depth") from None  # fmt: skip
        raise
    return Tensor(array, requires_grad=requires_grad)


def _mixes_numbers_and_lists(data) -> bool:
    """Whether some list (or tuple) in nested data holds both lists and non-lists."""
    stack = [data] if isinstance(data, (list, tuple)) else []
    while stack:
        seq = stack.pop()
        inner = [v for v in seq if isinstance(v, (list, tuple))]
        if inner and len(inner) != len(seq):
            return True
        stack.extend(inner)
    return False


def check_array_dtype(array) -> None:
    """torch's TypeError for a NumPy array of a dtype no tensor has (strings, objects, long
    double, complex256): torch.tensor, as_tensor, asarray and from_numpy refuse it."""
    dt = array.dtype
    if dt.kind not in "biufc" or (dt.kind == "f" and dt.itemsize > 8) or dt.itemsize > 16:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{dt.type.__name__}. The only supported"
            " types are: float64, float32, float16, complex64, complex128, int64, int32,"
            " int16, int8, uint64, uint32, uint16, uint8, and bool."
        )


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with a NumPy array, keeping its dtype. As torch: only an array
    (not a list, scalar or tensor), of a numeric dtype torch has, in native byte order, with
    no negative stride (a tensor cannot share such memory)."""
    if not backend.is_host_or_device_array(array):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    check_array_dtype(array)
    if not array.dtype.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order."
            " Conversion between byte orders is currently not supported."
        )
    if any(st < 0 for st in array.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with"
            " negative strides are not currently supported. (You can probably work around"
            " this by making a copy of your array  with array.copy().) "
        )
    return Tensor(xp.asarray(array))


def zeros(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          **kw) -> Tensor:  # fmt: skip
    backend.check_device(device)
    shape = _shape(size, "zeros", **kw)
    return Tensor(xp.zeros(shape, dtype=_dtype(dtype)), requires_grad=requires_grad)


def ones(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          **kw) -> Tensor:  # fmt: skip
    backend.check_device(device)
    shape = _shape(size, "ones", **kw)
    return Tensor(xp.ones(shape, dtype=_dtype(dtype)), requires_grad=requires_grad)


def empty(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=contiguous_format, **kw) -> Tensor:  # fmt: skip
    """torch.empty: an uninitialised tensor of ``size``, laid out in ``memory_format``
    (channels_last: a 4-D tensor whose memory is NHWC)."""
    backend.check_device(device)
    shape = _shape(size, "empty", **kw)
    if memory_format is contiguous_format or memory_format is None:  # None: torch's default
        a = xp.empty(shape, dtype=_dtype(dtype))
    else:
        strides = MF.format_strides(shape, MF.check(memory_format, "empty"))
        a = MF.empty_strided(shape, strides, _dtype(dtype))
    return Tensor(a, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, *, layout=None, device=None,
         pin_memory=False) -> Tensor:  # fmt: skip
    """``fill_value`` everywhere; without a dtype, torch's inference: bool for a bool, int64 for
    an int, complex for a complex, the default float dtype otherwise."""
    backend.check_device(device)
    fill_value = fill_number(fill_value, "full")
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = xp.bool_
        elif isinstance(fill_value, int):
            dtype = xp.int64
        elif isinstance(fill_value, complex):
            dtype = default_complex()
    if type(fill_value) in CHECKED_SCALARS:
        fill_value = check_scalar_fits(fill_value, _dtype(dtype))
    shape = _shape((size,), "full", as_tuple=True)
    return Tensor(xp.full(shape, fill_value, dtype=_dtype(dtype)), requires_grad=requires_grad)


def fill_number(value, fn: str):
    """full's fill_value as torch's parser reads it: a Python number (a 0-d tensor as the
    number it holds), anything else a TypeError; an int past 64 bits torch's OverflowError.
    A NumPy scalar is read through Python's float or int, as torch reads it (so a NumPy bool
    or complex scalar fills the default float dtype; a complex one warns and drops its
    imaginary part, NumPy's ComplexWarning)."""
    value = number_argument(value, fn, "fill_value", 2)
    if isinstance(value, complex):  # Python's, or NumPy's complex128 (a subclass of it)
        return complex(value)
    if isinstance(value, (xp.bool_, xp.floating, xp.complexfloating)):
        return float(value)
    if isinstance(value, xp.integer):
        return int(value)
    if not isinstance(value, (int, float)):
        raise TypeError(
            f"{fn}(): argument 'fill_value' (position 2) must be Number, not {type(value).__name__}"
        )
    if type(value) is int and value >= 2**64:
        raise OverflowError("int too big to convert")
    if type(value) is int and value < -(2**63):
        raise OverflowError("can't convert negative int to unsigned")
    return value


def eye(n: int, m: int | None = None, dtype=None, requires_grad=False, *, layout=None,
        device=None, pin_memory=False) -> Tensor:  # fmt: skip
    """torch.eye: ones on the diagonal of an n × m (default n × n) matrix."""
    backend.check_device(device)
    for value, name in ((n, "n"), (m, "m")):
        if value is not None and value < 0:
            raise InputError(f"{name} must be greater or equal to 0, got {value}")
    return Tensor(xp.eye(n, m, dtype=_dtype(dtype)), requires_grad=requires_grad)


def check_range(name: str, start, end, step, dtype=None) -> None:
    """torch's refusals of arange/range: a zero step, an infinite or NaN bound, a step that
    points away from end, a bool dtype."""
    start, end, step = float(start), float(end), float(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start:g} -> {end:g}")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is not None and xp.dtype(dtype) == xp.bool_:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")


def arange(start, end=None, step=1, dtype=None, requires_grad=False, *, device=None) -> Tensor:
    """Like torch.arange: int64 for integer arguments, float32 otherwise."""
    backend.check_device(device)
    if end is None:
        start, end = 0, start
    # 0-d tensors and NumPy scalars as the Python numbers they hold (an integer one counts as
    # an integer argument, as torch's)
    start, end, step = (v.item() if hasattr(v, "item") else v for v in (start, end, step))
    check_range("arange", start, end, step, dtype)
    if dtype is None:
        ints = all(isinstance(v, int) for v in (start, end, step))
        dtype = xp.int64 if ints else backend.DEFAULT_DTYPE
    return Tensor(arange_values(start, end, step, xp.dtype(dtype)), requires_grad=requires_grad)


def arange_values(start, end, step, dtype):
    """arange's values as torch's CPU kernel computes them: value k = start + step·k in the
    dtype's accumulation type (double for float32 and float64, float for float16), then cast,
    so no error piles up along the range (NumPy's float arange adds a rounded step, an ulp or
    more off torch's). Integer dtypes take start and step truncated to integers; the count is
    ⌈(end − start)/step⌉ from the bounds as given, except for int64, which counts on the
    truncated integers too (torch's int64 branch; a step that truncates to 0 is its ValueError
    there, and gives a range of start for the narrower integer dtypes, as in torch)."""
    if dtype.kind in "iu":
        # truncated, as C++'s conversion to torch's int64 accumulator (refused past its range)
        xs, xe, xst = (int(check_scalar_fits(v, xp.int64)) for v in (start, end, step))
        if dtype == xp.int64:
            if xst == 0:
                raise ValueError("step must be nonzero")
            sgn = (xst > 0) - (xst < 0)
            n = abs(xe - xs + xst - sgn) // abs(xst)  # the signs agree: C++'s / truncates
        else:
            n = math.ceil((float(end) - float(start)) / float(step))
        k = xp.arange(max(n, 0), dtype=xp.int64)
        return (xs + xst * k).astype(dtype)  # a narrower type wraps, as torch's cast
    n = max(math.ceil((float(end) - float(start)) / float(step)), 0)
    acc = xp.float32 if dtype == xp.float16 else xp.float64
    k = xp.arange(n, dtype=acc)
    k *= acc(step)
    k += acc(start)
    return k.astype(dtype, copy=False)


def linspace(start, end, steps: int, dtype=None, requires_grad=False, *, device=None) -> Tensor:
    backend.check_device(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if dtype is None and _complex_ends(start, end):
        dtype = default_complex()  # as torch: a complex end point makes the steps complex
    dt = xp.dtype(_dtype(dtype))
    if dt.kind in "iu":
        values = integer_linspace(start, end, steps, dt)
    elif dt in (xp.float32, xp.float64) and steps > 1 and not _complex_ends(start, end):
        values = float_linspace(start, end, steps, dt)
    else:
        values = xp.linspace(start, end, steps, dtype=dt)
    return Tensor(values, requires_grad=requires_grad)


def _complex_ends(start, end) -> bool:
    return any(isinstance(v, (complex, xp.complexfloating)) for v in (start, end))


def float_linspace(start, end, steps: int, dtype):
    """float32/float64 linspace as torch's kernel computes it: the ends and the step
    (end − start)/(steps − 1) in the dtype, value k = start + step·k in the first half and
    end − step·(steps − 1 − k) in the second, each with one rounding (torch's fused multiply-
    add; here the exact value in wider precision, then rounded). NumPy's linspace rounds
    differently and was an ulp off torch at some points."""
    start, end = (v.item() if hasattr(v, "item") else v for v in (start, end))
    a, b = dtype.type(start), dtype.type(end)
    step = dtype.type((b - a) / dtype.type(steps - 1))
    wide = xp.float64 if dtype == xp.float32 else _LONG_DOUBLE
    with backend.errstate(invalid="ignore", over="ignore"):  # infinite ends: NaN, as torch
        return _two_sided(a, b, step, steps, wide).astype(dtype)


#: wider than double where NumPy has it (CuPy has no long double: there, double)
_LONG_DOUBLE = getattr(xp, "longdouble", xp.float64)


def _two_sided(lo, hi, step, steps: int, wide):
    """torch's linspace kernel: lo + step·k for the first half of k, hi − step·(steps − 1 − k)
    for the second, each computed in ``wide`` (exact for the products torch's fused multiply-add
    keeps exact) and so rounded once when cast down."""
    k = xp.arange(steps, dtype=wide)
    w_step = wide(step)
    return xp.where(k < steps // 2, wide(lo) + w_step * k, wide(hi) - w_step * (steps - 1 - k))


def integer_linspace(start, end, steps: int, dtype):
    """linspace into an integer dtype as torch's kernel: the ends converted to the dtype first
    (truncated; refused where they do not fit, as torch), the step (end − start)/(steps − 1) in
    double, value k = start + step·k in the first half and end − step·(steps − 1 − k) in the
    second, truncated (NumPy spaced the unconverted ends: other values)."""
    if steps == 0:
        return xp.zeros((0,), dtype=dtype)
    start, end = (v.item() if hasattr(v, "item") else v for v in (start, end))
    lo, hi = (int(check_scalar_fits(v, dtype)) for v in (start, end))
    if steps == 1:
        return xp.full((1,), lo, dtype=dtype)
    step = (float(hi) - float(lo)) / (steps - 1)
    # the step in double as torch's; each value rounded once to double, then truncated
    values = _two_sided(lo, hi, step, steps, _LONG_DOUBLE)
    return values.astype(xp.float64).astype(xp.int64).astype(dtype)


def _like(fn, t: Tensor, dtype, requires_grad, memory_format, name: str, *args, **kw) -> Tensor:
    """fn's tensor of t's shape and (unless given) dtype, on t's device (the CPU), laid out as
    ``memory_format`` lays out a copy of t: by default as t is (torch's preserve_format).
    t must be a tensor, as torch's parser says (NumPy arrays and lists refused)."""
    require_tensor(name, t, "input")
    a = fn(*t.shape, *args, dtype=dtype or t.dtype, **kw).array
    return Tensor(MF.like(t.array, a, memory_format, name), requires_grad=requires_grad)


def zeros_like(input, dtype=None, requires_grad=False, *, layout=None, device=None,  # noqa: A002
               pin_memory=False, memory_format=preserve_format) -> Tensor:  # fmt: skip
    """torch.zeros_like: zeros of input's shape and dtype, laid out as input (see ``_like``)."""
    backend.check_device(device)
    return _like(zeros, input, dtype, requires_grad, memory_format, "zeros_like")


def ones_like(input, dtype=None, requires_grad=False, *, layout=None, device=None,  # noqa: A002
              pin_memory=False, memory_format=preserve_format) -> Tensor:  # fmt: skip
    """torch.ones_like: ones of input's shape and dtype, laid out as input."""
    backend.check_device(device)
    return _like(ones, input, dtype, requires_grad, memory_format, "ones_like")


def full_like(input, fill_value, dtype=None, requires_grad=False, *, layout=None,  # noqa: A002
              device=None, pin_memory=False, memory_format=preserve_format) -> Tensor:  # fmt: skip
    """torch.full_like: ``fill_value`` everywhere in input's shape and dtype, laid out as
    input."""
    backend.check_device(device)

    number = fill_number(fill_value, "full_like")

    def fill(*shape, dtype):
        return full(shape, number, dtype=dtype)

    return _like(fill, input, dtype, requires_grad, memory_format, "full_like")


# the random makers, in their own module (it builds on _shape and _like above)
from .creation_random import rand, rand_like, randint, randn, randn_like, randperm  # noqa: E402, F401
