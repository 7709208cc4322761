"""torch's storages: ``UntypedStorage`` (the bytes a tensor views) and the deprecated
``TypedStorage`` with its legacy classes (``FloatStorage`` …).

ember's storage model is torch's (ops/as_strided.py): a tensor's storage is the memory of the
root array it views, from its lowest address to its highest, and ``storage_offset()`` counts
from there. ``Tensor.untyped_storage()`` is that memory as bytes, with no copy, so two tensors
share memory exactly when their storages have the same ``data_ptr()`` (torch's idiom), and a
write through the storage shows in every tensor over it. ``Tensor.set_(storage, offset, size,
stride)`` views a storage again. A storage made here (``UntypedStorage(n)``,
``FloatStorage(n)``) is n zero bytes (elements); torch leaves them uninitialised.

Not there: resizing a storage (``resize_`` to another size: the memory belongs to NumPy),
files (``from_file``), pinning, and the per-dtype conversions (``storage.float()``).
"""

from __future__ import annotations

import warnings

from . import backend
from .backend import xp
from .ops import as_strided as AS


class _Values:
    """What both storages do with their values, ``_values()``: bytes, or elements of a dtype."""

    def __setitem__(self, index, value) -> None:
        if not isinstance(index, slice):
            index = _check_index(index, len(self))
        self._values()[index] = value

    def __iter__(self):
        return iter(self.tolist())

    def tolist(self) -> list:
        return backend.to_numpy(self._values()).tolist()

    def fill_(self, value):
        self._values()[...] = value
        return self


class UntypedStorage(_Values):
    """torch.UntypedStorage: a run of bytes (``UntypedStorage(n)``: n zero bytes;
    ``UntypedStorage(seq)``: the bytes of a sequence of ints), or a tensor's memory."""

    def __init__(self, *args, device=None):
        if device is not None:
            backend.check_device(device)
        if len(args) > 1:
            raise TypeError(f"UntypedStorage(): expected at most 1 argument, got {len(args)}")
        arg = args[0] if args else 0
        if isinstance(arg, int):
            self._bytes = xp.zeros(arg, dtype=xp.uint8)
        else:
            self._bytes = xp.asarray(list(arg), dtype=xp.uint8)

    @classmethod
    def _over(cls, array) -> UntypedStorage:
        """The storage of ``array``: its root's memory as bytes (no copy)."""
        flat, _ = AS.storage_of(array)
        s = cls.__new__(cls)
        s._bytes = flat.view(xp.uint8) if flat.size else xp.zeros(0, dtype=xp.uint8)
        return s

    @classmethod
    def from_buffer(cls, buffer, byte_order: str = "native", dtype=None) -> UntypedStorage:
        """torch's: a copy of the bytes of a bytes-like object."""
        s = cls.__new__(cls)
        s._bytes = xp.asarray(bytearray(memoryview(buffer).cast("B")), dtype=xp.uint8)
        return s

    # ------------------------------------------------------------ what it is
    def data_ptr(self) -> int:
        return int(AS.address(self._bytes))

    def nbytes(self) -> int:
        return int(self._bytes.size)

    size = nbytes

    def __len__(self) -> int:
        return self.nbytes()

    def element_size(self) -> int:
        return 1

    @property
    def device(self):
        return backend.DEVICE

    @property
    def is_cuda(self) -> bool:
        return backend.ON_GPU

    def get_device(self) -> int:
        return backend.DEVICE.index if backend.ON_GPU else -1

    def is_shared(self) -> bool:
        return backend.is_shared(self._bytes)

    def is_pinned(self, device=None) -> bool:
        return False

    is_sparse = is_sparse_csr = False

    def type(self, dtype=None):
        return "ember.storage.UntypedStorage" if dtype is None else _refuse("type(dtype)")

    def untyped(self) -> UntypedStorage:
        return self

    # ------------------------------------------------------------ values
    def __getitem__(self, index):
        if isinstance(index, slice):
            if index.step not in (None, 1):
                raise RuntimeError("slices with steps are not supported by storages")
            s = UntypedStorage.__new__(UntypedStorage)
            s._bytes = self._bytes[index]  # a view: writes show in this storage
            return s
        return int(self._bytes[_check_index(index, len(self))])

    def _values(self):
        return self._bytes

    def copy_(self, src, non_blocking: bool = False):
        src_bytes = src.untyped()._bytes
        if src_bytes.size != self._bytes.size:
            raise RuntimeError(
                f"copy_(): the storages hold {self.nbytes()} and {src_bytes.size} bytes"
            )
        self._bytes[...] = src_bytes
        return self

    def clone(self):
        s = type(self).__new__(type(self))
        s.__dict__.update(self.__dict__)
        s._bytes = self._bytes.copy()
        return s

    __copy__ = clone

    def __deepcopy__(self, memo):
        return self.clone()

    def cpu(self):
        return self if not backend.ON_GPU else _refuse("cpu() of a GPU storage")

    def share_memory_(self):
        if not self.is_shared():
            _refuse("share_memory_() of a storage (share the tensor: Tensor.share_memory_())")
        return self

    def resize_(self, size: int):
        if int(size) != self.nbytes():
            _refuse("resize_() of a storage to another size")
        return self

    def __repr__(self) -> str:
        where = f"ember.storage.UntypedStorage(device={self.device})"
        return f"{_body(self)}\n[{where} of size {len(self)}]"


class TypedStorage(_Values):
    """torch.TypedStorage (deprecated in torch, as here): a storage read as elements of one
    dtype. ``Tensor.storage()`` gives one; ``TypedStorage(n, dtype=)`` or a legacy class
    (``FloatStorage(n)``) makes n zero elements."""

    _fixed_dtype = None

    def __init__(self, *args, dtype=None, device=None):
        dtype = self._fixed_dtype or dtype or backend.DEFAULT_DTYPE
        self.dtype = xp.dtype(dtype).type
        arg = args[0] if args else 0
        values = xp.zeros(arg, self.dtype) if isinstance(arg, int) else xp.asarray(arg, self.dtype)
        self._untyped_storage = UntypedStorage._over(values)

    @classmethod
    def _over(cls, untyped: UntypedStorage, dtype) -> TypedStorage:
        s = cls.__new__(cls)
        s.dtype, s._untyped_storage = xp.dtype(dtype).type, untyped
        return s

    def _values(self):
        return elements_of(self, self.dtype)

    def untyped(self) -> UntypedStorage:
        return self._untyped_storage

    def size(self) -> int:
        return int(self._values().size)

    def __len__(self) -> int:
        return self.size()

    def element_size(self) -> int:
        return xp.dtype(self.dtype).itemsize

    def nbytes(self) -> int:
        return self._untyped_storage.nbytes()

    def data_ptr(self) -> int:
        return self._untyped_storage.data_ptr()

    @property
    def device(self):
        return backend.DEVICE

    def is_shared(self) -> bool:
        return self._untyped_storage.is_shared()

    def type(self, dtype=None):
        return f"ember.{_legacy_name(self.dtype)}" if dtype is None else _refuse("type(dtype)")

    def __getitem__(self, index):
        if isinstance(index, slice):
            raise RuntimeError("slices of a TypedStorage are not supported; slice a tensor")
        return self._values()[_check_index(index, len(self))].item()

    def copy_(self, src, non_blocking: bool = False):
        self._untyped_storage.copy_(src.untyped())
        return self

    def clone(self):
        return type(self)._over(self._untyped_storage.clone(), self.dtype)

    def cpu(self):
        return self

    def __repr__(self) -> str:
        return (
            f"{_body(self)}\n[ember.storage.TypedStorage(dtype=ember.{xp.dtype(self.dtype).name},"
            f" device={self.device}) of size {len(self)}]"
        )


_LEGACY = {
    "float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
    "int64": "LongStorage", "int32": "IntStorage", "int16": "ShortStorage",
    "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
    "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage",
}  # fmt: skip


def _legacy_name(dtype) -> str:
    return _LEGACY.get(xp.dtype(dtype).name, "TypedStorage")


#: torch's legacy storage classes (``x.storage_type()``), each a TypedStorage of one dtype
LEGACY_CLASSES = {
    name: type(name, (TypedStorage,), {"_fixed_dtype": xp.dtype(dt).type, "__module__": "ember"})
    for dt, name in _LEGACY.items()
}

_warned = [False]


def typed_storage_of(array) -> TypedStorage:
    """Tensor.storage(): warns once, as torch, that TypedStorage is deprecated."""
    if not _warned[0]:
        _warned[0] = True
        warnings.warn(
            "TypedStorage is deprecated. It will be removed in the future and UntypedStorage"
            " will be the only storage class. This should only matter to you if you are using"
            " storages directly.  To access UntypedStorage directly, use"
            " tensor.untyped_storage() instead of tensor.storage()",
            UserWarning,
            stacklevel=3,
        )
    return TypedStorage._over(UntypedStorage._over(array), array.dtype)


def elements_of(storage, dtype):
    """A storage's bytes as a 1-D array of ``dtype`` (no copy), for ``Tensor.set_``; a typed
    storage of another dtype is refused, as torch refuses it."""
    if getattr(storage, "dtype", dtype) != dtype:
        raise RuntimeError(
            f"Expected a Storage of type {dtype} but got type {storage.dtype} for argument 1"
            " 'storage'"
        )
    b = storage.untyped()._bytes
    itemsize = xp.dtype(dtype).itemsize
    return b[: b.size - b.size % itemsize].view(dtype)


def _body(storage) -> str:
    """torch's listing of a storage's values: one per line, each after a space."""
    return " " + "\n ".join(str(v) for v in storage.tolist())


def _check_index(index: int, n: int) -> int:
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"index {i} out of range for storage of size {n}")
    return i % n if n else i


def _refuse(what: str):
    raise NotImplementedError(f"{what} is not supported by ember's storages")
