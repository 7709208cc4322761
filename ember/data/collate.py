"""default_collate and default_convert: samples into a batch, by torch's rules.

torch looks at the *first* sample's type to choose how to collate, then holds every other
sample to that choice:

    Tensor first          stack: every sample a Tensor of the first's shape, dtypes promoted
                          (int64 with float32 → float32, float32 with float64 → float64)
    NumPy array first     each sample made a tensor (torch.as_tensor), then stacked as above
    NumPy scalar, int     torch.tensor(batch): torch's promotion of every sample's type (a
    or bool first         Python float counts as the default float: [1, 2.5] is float32)
    Python float first    float64, whatever follows ([2.5, 1] is float64)
    str or bytes first    the batch as it came (a list)
    Mapping first         key by key, of the first's type where it can be rebuilt
    namedtuple first      field by field, of its type
    other Sequence first  position by position: a list for a tuple, else the first's type
                          where it can be rebuilt (a list for a range)

Anything else (None, objects, arrays of strings) is torch's TypeError. A sample that does not
fit the first's choice is refused as torch refuses it: TypeError for a type, RuntimeError for
a shape (``InputError``, also ember's ValueError); where torch's RuntimeError is about a type
(``Could not infer dtype of NoneType``), ``InputTypeError`` is both.
"""

from __future__ import annotations

import collections.abc
import copy
import functools
from typing import Any

import numpy

from .. import backend, promotion
from ..errors import InputError, InputTypeError
from ..function import is_grad_enabled
from ..functional.shape import stack
from ..tensor import Tensor
from ..tensor_data import data_array, default_complex
from .errors import ElementConversionError

_REFUSED = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)
_SUPPORTED = (
    "The only supported types are: float64, float32, float16, complex64, complex128, int64,"
    " int32, int16, int8, uint64, uint32, uint16, uint8, and bool."
)
_NUMERIC = "biufc"  # the NumPy kinds a tensor can hold
_STRINGS = "OSU"  # torch's [SaUO]: arrays of objects or strings are refused, not converted


def _unconvertible(dtype) -> TypeError:
    return TypeError(f"can't convert np.ndarray of type numpy.{dtype.type.__name__}. {_SUPPORTED}")


def default_collate(batch: list | tuple) -> Any:
    """Stack a list of samples into a batch as torch.utils.data.default_collate does (the
    rules are in the module's docstring)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, numpy.ndarray):
        if elem.dtype.kind in _STRINGS:
            raise TypeError(_REFUSED.format(elem.dtype))
        return _stack_arrays(batch)
    if isinstance(elem, (numpy.bool_, numpy.number)):
        return Tensor(_numbers(batch))
    if isinstance(elem, float):
        return Tensor(_numbers(batch, numpy.float64))
    if isinstance(elem, int):  # bool too
        return Tensor(_numbers(batch))
    if isinstance(elem, (str, bytes)):
        return batch  # torch's: the batch as it came
    if isinstance(elem, collections.abc.Mapping):
        parts = {k: default_collate([s[k] for s in batch]) for k in elem}
        return _rebuilt_mapping(elem, parts)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple keeps its type
        return type(elem)(*(default_collate(parts) for parts in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(s) != size for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        parts = [default_collate(p) for p in zip(*batch)]  # tuples, as torch hands them on
        return parts if isinstance(elem, tuple) else _rebuilt_sequence(elem, parts)
    raise TypeError(_REFUSED.format(type(elem)))


def default_convert(data: Any) -> Any:
    """One sample as a loader without batching (``batch_size=None``) hands it out, as torch's:
    NumPy arrays and scalars become Tensors (arrays of strings or objects are left as they
    are), containers are converted element-wise (a plain tuple becomes a list, a Mapping or
    other Sequence keeps its type where it can be rebuilt), anything else is left as it is."""
    if isinstance(data, Tensor):
        return data
    if (
        isinstance(data, (numpy.ndarray, numpy.generic))
        and not isinstance(data, (str, bytes))
        and type(data).__module__ == "numpy"  # torch's test: a masked array is left as it is
    ):
        if isinstance(data, numpy.ndarray) and data.dtype.kind in _STRINGS:
            return data
        if data.dtype.kind not in _NUMERIC:
            raise _unconvertible(data.dtype)
        return Tensor(numpy.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuilt_mapping(data, {k: default_convert(data[k]) for k in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a namedtuple keeps its type
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuilt_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuilt_mapping(elem, parts: dict):
    """``parts`` in a mapping of ``elem``'s type: a copy updated (it may carry more state, as a
    defaultdict's factory), else the type called on a dict, else a dict (torch's order)."""
    if type(elem) is dict:
        return parts
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(parts)
            return clone
        return type(elem)(parts)
    except TypeError:
        return parts


def _rebuilt_sequence(elem, parts: list):
    """``parts`` in a sequence of ``elem``'s type, as torch rebuilds it (a list where it
    cannot be: a range)."""
    if type(elem) is list:
        return parts
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, p in enumerate(parts):
                clone[i] = p
            return clone
        return type(elem)(parts)
    except TypeError:
        return parts


def _check_shapes(arrays: list) -> None:
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):
        j = next(j for j, a in enumerate(arrays) if a.shape != shape)
        raise InputError(
            f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and"
            f" {list(arrays[j].shape)} at entry {j}"
        )


def _stacked(arrays: list, dtype=None):
    """The arrays stacked on a new axis 0, as torch.stack: equal shapes (else torch's
    RuntimeError), in ``dtype`` or torch's promotion of their dtypes. Host arrays stay on
    the host; a device array among them puts the batch on the device."""
    _check_shapes(arrays)
    if dtype is None:
        dtypes = {a.dtype for a in arrays}
        dtype = functools.reduce(promotion.promote_types, dtypes) if len(dtypes) > 1 else None
    if all(isinstance(a, numpy.ndarray) for a in arrays):
        return numpy.stack(arrays, dtype=dtype, casting="unsafe")  # one pass, cast as it copies
    arrays = [backend.asarray(a) for a in arrays]
    return backend.xp.stack([a if dtype is None else a.astype(dtype, copy=False) for a in arrays])


def _stack_tensors(batch) -> Tensor:
    if isinstance(batch, Tensor):  # torch.stack takes a sequence of tensors, not one tensor
        raise TypeError(
            "stack(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"
        )
    for j, s in enumerate(batch):
        if not isinstance(s, Tensor):
            raise TypeError(
                f"expected Tensor as element {j} in argument 0, but got {type(s).__name__}"
            )
    if is_grad_enabled() and any(s.requires_grad for s in batch):
        _check_shapes([s.array for s in batch])
        return stack(batch)  # torch.stack: the batch keeps its samples' graph
    return Tensor(_stacked([s.array for s in batch]))


def _stack_arrays(batch) -> Tensor:
    """Samples led by a NumPy array: each one as torch.as_tensor makes it, then stacked."""
    arrays = []
    for s in batch:
        if isinstance(s, numpy.ndarray):
            if s.dtype.kind not in _NUMERIC:
                raise _unconvertible(s.dtype)
            arrays.append(s)
        elif isinstance(s, Tensor):
            arrays.append(s.array)
        elif isinstance(s, (list, tuple)):
            arrays.append(data_array(s))
        else:
            arrays.append(_numbers([s]).reshape(()))
    return Tensor(_stacked(arrays))


def _numbers(batch, dtype=None) -> numpy.ndarray:
    """torch.tensor(batch) for a flat batch of numbers (Python or NumPy scalars, 0-dim
    Tensors and arrays): ``dtype``, or torch's promotion of each sample's own type (a Python
    float: the default float, an int: int64, a complex: the default complex)."""
    kinds = set(map(type, batch))
    if kinds <= _PYTHON_NUMBERS.keys():  # the common case: NumPy's conversion checks them
        values = batch
        if dtype is None:
            dtype = functools.reduce(promotion.promote_types, map(_python_dtype, kinds))
    else:
        values, dtypes = [], set()
        for s in batch:
            v, d = _number(s)
            values.append(v)
            dtypes.add(d)
        if dtype is None:
            dtype = functools.reduce(promotion.promote_types, dtypes)
        elif any(d.kind == "c" for d in dtypes):  # torch.tensor(…, dtype=float64)
            raise TypeError("must be real number, not complex")
    try:
        return numpy.array(values, dtype=dtype)
    except OverflowError as e:
        if numpy.dtype(dtype).kind not in "iu":
            raise
        raise InputError(f"Overflow when unpacking long long: {e}") from None  # past int64


#: torch's type of a Python number (a float: the default float, read when it is asked for)
_PYTHON_NUMBERS = {bool: numpy.dtype(bool), int: numpy.dtype(numpy.int64), float: None}


def _python_dtype(kind: type) -> numpy.dtype:
    d = _PYTHON_NUMBERS[kind]  # (not `or`: a dtype's truth is its number of fields, 0)
    return numpy.dtype(backend.DEFAULT_DTYPE) if d is None else d


def _number(s) -> tuple[Any, numpy.dtype]:
    """One sample of a batch of numbers, and the dtype torch infers for it."""
    if isinstance(s, Tensor):  # torch.tensor reads a tensor of one element as its scalar
        a = backend.to_numpy(s.array)
        if a.size != 1:
            raise ElementConversionError(
                "only one element tensors can be converted to Python scalars: a batch led by a"
                f" number has a tensor sample of shape {tuple(a.shape)}"
            )
        return a.reshape(()), a.dtype
    if isinstance(s, (numpy.generic, numpy.ndarray)):
        a = s
        if a.ndim:
            raise InputTypeError(
                "only 0-dimensional arrays can be converted to Python scalars: a batch led by"
                f" a number has a sample of shape {tuple(a.shape)}"
            )
        if a.dtype.kind not in _NUMERIC:
            raise _unconvertible(a.dtype)
        return a, a.dtype
    for kind in (bool, int, float):  # bool before int: True is an int too
        if isinstance(s, kind):
            return s, _python_dtype(kind)
    if isinstance(s, complex):
        return s, numpy.dtype(default_complex())
    if isinstance(s, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(s).__name__}'")
    raise InputTypeError(f"Could not infer dtype of {type(s).__name__}")
