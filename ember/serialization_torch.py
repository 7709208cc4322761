"""Reading files written by ``torch.save`` (its zip format, torch ≥ 1.6) without running code.

A torch checkpoint is a zip archive: ``<name>/data.pkl``, a pickle of the saved object whose
tensors refer to raw storage records ``<name>/data/<key>``, plus ``byteorder`` and version
records. A pickle can name any importable function and call it, so ember never hands one to
``pickle.load``. ``_WeightsUnpickler`` is Python's unpickler with its two doors closed:
``find_class`` answers only from ``_ALLOWED`` (containers, numbers, torch's tensor, storage,
dtype, Size and device names, each mapped to ember's own safe stand-in), and any other name
(``os.system``, a model class) stops the load with an error naming it; ``persistent_load``
reads only storage records of the archive. This is what torch itself does for
``weights_only=True``, its default since 2.6. Every tensor is then rebuilt from its storage by
size, stride and offset, checked to lie inside the storage, and copied into memory of its own.

Widened on the way, as ``safetensors_read`` does: bfloat16 and float8 become float32 (exact).
Legacy (pre-1.6, non-zip) files, sparse and quantized tensors, and whole pickled modules
(``torch.save(model)``) are refused with a message that says what to save instead.
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import zipfile

import numpy

from . import backend
from .safetensors_read import _widen
from .size import Size
from .tensor import Tensor

#: set by nn/module.py: the class of ``torch.nn.Parameter``'s stand-in (nn sits above this file)
parameter_class: type | None = None

_STORAGES = {
    "FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "LongStorage": "<i8",
    "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1",
    "BoolStorage": "?", "ComplexFloatStorage": "<c8", "ComplexDoubleStorage": "<c16",
    "BFloat16Storage": "BF16",
}  # fmt: skip
_DTYPES = {
    "float32": "<f4", "float": "<f4", "float64": "<f8", "double": "<f8", "float16": "<f2",
    "half": "<f2", "int64": "<i8", "long": "<i8", "int32": "<i4", "int": "<i4", "int16": "<i2",
    "short": "<i2", "int8": "i1", "uint8": "u1", "uint16": "<u2", "uint32": "<u4",
    "uint64": "<u8", "bool": "?", "complex64": "<c8", "cfloat": "<c8", "complex128": "<c16",
    "cdouble": "<c16", "bfloat16": "BF16", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
}  # fmt: skip
_WIDTH = {"BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1}


class _Kind:
    """A torch storage class or dtype as the pickle names it: the element type it stands for
    (a NumPy dtype string, or BF16/F8_* for the widened ones)."""

    def __init__(self, code: str, name: str) -> None:
        self.code, self.name = code, name

    @property
    def itemsize(self) -> int:
        return _WIDTH.get(self.code) or numpy.dtype(self.code).itemsize

    def numpy_dtype(self):
        return numpy.dtype(numpy.float32 if self.code in _WIDTH else self.code)


class _Storage:
    """One storage record's bytes, with the element type the pickle gave it."""

    def __init__(self, raw: bytes, kind: _Kind, key: str) -> None:
        self.raw, self.kind, self.key = raw, kind, key


def _elements(storage: _Storage, kind: _Kind, what: str) -> numpy.ndarray:
    """The storage's bytes as a flat array of ``kind`` (widened where NumPy has no type)."""
    raw, width = storage.raw, kind.itemsize
    if len(raw) % width:
        raise pickle.UnpicklingError(
            f"{what}: storage record {storage.key} has {len(raw)} bytes, not a whole number"
            f" of {kind.name} elements ({width} bytes each)"
        )
    if kind.code in _WIDTH:
        return _widen(kind.code, raw, 0, len(raw) // width)
    return numpy.frombuffer(raw, kind.code)


def _strided(flat: numpy.ndarray, offset, size, stride, what: str) -> numpy.ndarray:
    """The tensor ``size``/``stride``/``offset`` (in elements) takes from ``flat``, checked to
    lie inside it, as an array with its own memory."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise pickle.UnpicklingError(f"{what}: size {list(size)} and stride {list(stride)}")
    if math.prod(size) == 0:
        return numpy.empty(size, flat.dtype)
    last = int(offset) + sum((n - 1) * s for n, s in zip(size, stride))
    if int(offset) < 0 or last >= flat.size:
        raise pickle.UnpicklingError(
            f"{what}: size {list(size)}, stride {list(stride)} and offset {offset} reach element"
            f" {last} of a storage of {flat.size}"
        )
    item = flat.itemsize
    view = numpy.lib.stride_tricks.as_strided(
        flat[int(offset) :], size, tuple(s * item for s in stride), writeable=False
    )
    return numpy.array(view)  # own memory, C order


def _tensor(array: numpy.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor(backend.xp.asarray(array))
    t.requires_grad = bool(requires_grad) and array.dtype.kind in "fc"
    return t


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None):
    flat = _elements(storage, storage.kind, "a tensor")
    return _tensor(_strided(flat, offset, size, stride, "a tensor"), requires_grad)


def _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype, meta=None):
    """Newer dtypes (uint16, float8 …) come as untyped (byte) storage plus their dtype."""
    if not isinstance(dtype, _Kind):
        raise pickle.UnpicklingError(f"a tensor: {dtype!r} is not a dtype ember reads")
    flat = _elements(storage, dtype, f"a {dtype.name} tensor")
    return _tensor(_strided(flat, offset, size, stride, "a tensor"), requires_grad)


def _rebuild_parameter(data, requires_grad, hooks, state=None):
    if parameter_class is None:
        data.requires_grad = bool(requires_grad)
        return data
    return parameter_class(data, requires_grad=bool(requires_grad))


class _TensorType:
    """``torch.Tensor`` or ``torch.nn.Parameter`` as a pickle names it: the type a tensor
    with Python attributes is rebuilt as (``_rebuild_from_type_v2``)."""

    def __init__(self, parameter: bool) -> None:
        self.parameter = parameter


def _rebuild_from_type_v2(func, new_type, args, state):
    """A tensor saved with attributes of its own (``t.note = ...``): rebuilt by ``func``,
    as a Parameter where ``new_type`` says so. Its attributes (``state``) are left out, as
    ``_rebuild_parameter`` leaves a Parameter's: an ember Tensor has no attribute dict."""
    if not (callable(func) and isinstance(new_type, _TensorType) and isinstance(args, tuple)):
        raise pickle.UnpicklingError(f"a tensor: cannot rebuild {new_type!r} by {func!r}")
    t = func(*args)
    if not isinstance(t, Tensor):
        raise pickle.UnpicklingError(f"a tensor: {func!r} gave a {type(t).__name__}")
    if new_type.parameter and not isinstance(t, parameter_class or Tensor):
        t = _rebuild_parameter(t, t.requires_grad, None)
    return t


def _allowed() -> dict:
    table = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("collections", "Counter"): collections.Counter,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
        ("builtins", "bytearray"): bytearray,
        ("builtins", "slice"): slice,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch", "Tensor"): _TensorType(parameter=False),
        ("torch.nn.parameter", "Parameter"): _TensorType(parameter=True),
        ("torch", "Size"): Size,
        ("torch", "device"): backend.device,
        ("torch.storage", "UntypedStorage"): _Kind("u1", "untyped storage"),
        ("_codecs", "encode"): lambda s, encoding="latin1": s.encode(encoding),
    }
    table.update({("torch", k): _Kind(v, k) for k, v in _STORAGES.items()})
    table.update({("torch", k): _Kind(v, f"torch.{k}") for k, v in _DTYPES.items()})
    return table


_ALLOWED = _allowed()


class _WeightsUnpickler(pickle._Unpickler):
    """Python's unpickler that resolves only ``_ALLOWED`` names and the archive's storages,
    and sets state (BUILD) only on the dicts torch sets it on. (The pure-Python one, as its
    BUILD can be replaced: the C one's would set any attribute of the objects ``_ALLOWED``
    shares, e.g. ``Size.__len__``, for every later load and use.)"""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str, what: str) -> None:
        super().__init__(io.BytesIO(data))
        self.archive, self.prefix, self.what = archive, prefix, what
        self.storages: dict[str, _Storage] = {}

    def load_build(self) -> None:
        """BUILD as torch's weights-only unpickler allows it: an OrderedDict's (or Counter's)
        attributes from a dict (a state_dict's ``_metadata``), nothing else."""
        state, inst = self.stack.pop(), self.stack[-1]
        if type(inst) not in (collections.OrderedDict, collections.Counter) or not (
            isinstance(state, dict) and all(isinstance(k, str) for k in state)
        ):
            raise pickle.UnpicklingError(
                f"{self.what}: refusing to set the state of a {type(inst).__name__} (only an"
                " OrderedDict's attributes are set from a torch file)"
            )
        inst.__dict__.update(state)

    dispatch = {**pickle._Unpickler.dispatch, pickle.BUILD[0]: load_build}

    def find_class(self, module: str, name: str):
        module = "builtins" if module == "__builtin__" else module  # pickle protocol 2's name
        found = _ALLOWED.get((module, name))
        if found is not None:
            return found
        hint = (
            " It pickles a whole object (torch.save(model)): save model.state_dict() in torch"
            " and load that."
            if module.startswith(("torch.nn", "__main__"))
            else ""
        )
        raise pickle.UnpicklingError(
            f"{self.what}: refusing to load {module}.{name}: ember reads only tensors,"
            f" containers and plain values from a torch file, never code.{hint}"
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"{self.what}: unknown persistent record {pid!r}")
        _, kind, key, _location, numel = pid
        if not isinstance(kind, _Kind):
            raise pickle.UnpicklingError(f"{self.what}: storage of unknown type {kind!r}")
        key = str(key)
        if key not in self.storages:
            try:
                raw = self.archive.read(f"{self.prefix}data/{key}")
            except KeyError:
                raise pickle.UnpicklingError(
                    f"{self.what}: the archive has no storage record data/{key}"
                ) from None
            if not isinstance(numel, int) or len(raw) != numel * kind.itemsize:  # as torch
                raise pickle.UnpicklingError(
                    f"{self.what}: storage record data/{key} has {len(raw)} bytes, the pickle"
                    f" says {numel!r} elements of {kind.itemsize} bytes ({kind.name})"
                )
            self.storages[key] = _Storage(raw, kind, key)
        return self.storages[key]


def is_torch_zip(raw: bytes) -> bool:
    return raw[:4] == b"PK\x03\x04"


#: the first bytes of a legacy (pre-1.6) torch file: pickle protocol 2, then its magic number
_LEGACY = b"\x80\x02\x8a\x0al\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"


def is_legacy_torch(raw: bytes) -> bool:
    return raw.startswith(_LEGACY)


def load_torch_zip(raw: bytes, what: str):
    """The object a ``torch.save`` zip archive holds, with tensors as ember Tensors."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        names = archive.namelist()
    except zipfile.BadZipFile as e:
        raise pickle.UnpicklingError(f"{what}: not a readable zip archive: {e}") from None
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
        raise pickle.UnpicklingError(
            f"{what}: a torch.save archive holds one <name>/data.pkl record, found {pkl}"
        )
    prefix = pkl[0][: -len("data.pkl")]
    order = archive.read(prefix + "byteorder") if prefix + "byteorder" in names else b"little"
    if order.strip() != b"little":
        raise pickle.UnpicklingError(f"{what}: byte order {order!r} (ember reads little-endian)")
    try:
        obj = _WeightsUnpickler(archive.read(pkl[0]), archive, prefix, what).load()
    except (pickle.UnpicklingError, EOFError, ValueError):
        raise
    except Exception as e:  # a damaged pickle (a memo or stack entry that is not there …)
        raise pickle.UnpicklingError(f"{what}: a damaged pickle: {type(e).__name__}: {e}") from e
    return _dtypes_as_ember(obj)


def _dtypes_as_ember(obj):
    """A dtype saved as a value (``{"dtype": torch.float16}``) becomes ember's (bfloat16 and
    float8, which ember widens, become float32); dicts and lists are changed in place, so an
    OrderedDict keeps its ``_metadata``."""
    if isinstance(obj, _Kind):
        return obj.numpy_dtype().type
    if isinstance(obj, dict):
        for k, v in obj.items():
            obj[k] = _dtypes_as_ember(v)
    elif isinstance(obj, list):
        obj[:] = [_dtypes_as_ember(v) for v in obj]
    elif type(obj) is tuple:
        return tuple(_dtypes_as_ember(v) for v in obj)
    return obj
