"""The encoding of the object collectives' objects: a safe subset of Python, without pickle.

torch.distributed's ``all_gather_object`` and friends pickle, so a rank that receives runs
whatever code the sender's bytes name. ember's object collectives carry only data, and the
receiver builds it back from a whitelist of types, nested to any depth up to ``MAX_DEPTH``:

    None, bool, int (any size), float, complex, str, bytes,
    list, tuple, dict and OrderedDict (keys str or int),
    NumPy arrays and scalars of bool, integer, float and complex dtypes,
    ember Tensors and Parameters (their values and requires_grad; they come back as leaves)

Types are kept exactly: a tuple comes back a tuple, an int an int, a float with its bits
(NaN payloads and -0.0 too), an array with its dtype (byte order included), shape and
values. Anything else (a subclass too: an IntEnum, a namedtuple) is refused when encoding
with a TypeError that names its type and where it sits in the object (``obj['opt'][2]``).

The bytes: ``MAGIC``, then one value. A value is a one-byte tag and its payload, lengths and
counts as little-endian unsigned 64-bit integers:

    N  None          T / F  True / False        f  float: 8 bytes     c  complex: 16 bytes
    i  int: length, then the bytes of the two's complement, little-endian
    s  str: length, UTF-8 (lone surrogates kept)            b  bytes: length, the bytes
    l / t  list / tuple: count, the items                    d / o  dict / OrderedDict:
    a / g  array / NumPy scalar: dtype, ndim, dims, data          count, key, value, …
    E / P  Tensor / Parameter: a byte requires_grad, then the array (dtype, ndim, dims, data)

A dtype is one byte of length and its type code (``"<f4"``), which must be in ``DTYPES``.
Decoding checks every length and count against the bytes that are left before it reads or
allocates, the nesting against ``MAX_DEPTH``, the dict keys' tags, and that nothing follows
the value; a violation raises ``ObjectDecodeError`` saying where. Nothing is evaluated or
imported, and no class is looked up by a name the bytes give.
"""

from __future__ import annotations

import struct
from collections import OrderedDict

import numpy

from .. import backend
from ..tensor import Tensor

MAGIC = b"EMO1"
MAX_DEPTH = 100  # nesting, in containers; deeper input (or a cycle) is refused both ways
_MAX_NDIM = 64
_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_C128 = struct.Struct("<dd")
_ORDERS = "<>|"
#: the array type codes that travel: bool, integers, floats and complex of every width
DTYPES = frozenset(
    order + code
    for order in _ORDERS
    for code in (
        "b1",
        "i1",
        "i2",
        "i4",
        "i8",
        "u1",
        "u2",
        "u4",
        "u8",
        "f2",
        "f4",
        "f8",
        "c8",
        "c16",
    )  # fmt: skip
)
_CARRIES = (
    "ember.distributed's object collectives carry None, bool, int, float, complex, str, bytes,"
    " list, tuple, dict, NumPy arrays and Tensors (no pickle: receiving must never run code)"
)


class ObjectDecodeError(ValueError):
    """Bytes that are not a valid encoding: truncated, corrupt, or beyond the limits."""


# ------------------------------------------------------------ encoding
def encode(obj, path: str = "obj") -> bytes:
    """The bytes of ``obj``, or a TypeError naming the first value that cannot be sent and
    where it sits (``path``: what the object is called there, then ``[key]`` per level)."""
    parts = [MAGIC]
    _encode(obj, parts, path, 0)
    return b"".join(parts)


def _parameter_type():
    from ..nn.module import Parameter  # the layer above: imported when first needed

    return Parameter


def _encode(x, out: list, path: str, depth: int) -> None:
    kind = type(x)
    if x is None:
        out.append(b"N")
    elif kind is bool:
        out.append(b"T" if x else b"F")
    elif kind is int:
        data = x.to_bytes((x.bit_length() + 8) // 8, "little", signed=True)
        out += [b"i", _U64.pack(len(data)), data]
    elif kind is float:
        out += [b"f", _F64.pack(x)]
    elif kind is complex:
        out += [b"c", _C128.pack(x.real, x.imag)]
    elif kind is str:
        data = x.encode("utf-8", "surrogatepass")
        out += [b"s", _U64.pack(len(data)), data]
    elif kind is bytes:
        out += [b"b", _U64.pack(len(x)), x]
    elif kind in (list, tuple, dict, OrderedDict):
        if depth >= MAX_DEPTH:
            raise TypeError(
                f"{path}: nested deeper than {MAX_DEPTH} containers (a list that contains"
                " itself?); ember.distributed's object collectives refuse it"
            )
        if kind in (list, tuple):
            out += [b"l" if kind is list else b"t", _U64.pack(len(x))]
            for i, item in enumerate(x):
                _encode(item, out, f"{path}[{i}]", depth + 1)
            return
        out += [b"d" if kind is dict else b"o", _U64.pack(len(x))]
        for key, value in x.items():
            if type(key) not in (str, int):
                raise TypeError(
                    f"{path}: a dict key {key!r} of type {type(key).__name__} cannot be sent:"
                    " keys must be str or int (no pickle: receiving must never run code)"
                )
            _encode(key, out, path, depth + 1)
            _encode(value, out, f"{path}[{key!r}]", depth + 1)
    elif kind is numpy.ndarray or isinstance(x, numpy.generic):
        out.append(b"a" if kind is numpy.ndarray else b"g")
        _encode_array(numpy.asarray(x), out, path)
    elif kind is Tensor or kind is _parameter_type():
        out += [b"E" if kind is Tensor else b"P", b"\x01" if x.requires_grad else b"\x00"]
        _encode_array(backend.to_numpy(x.array), out, path)
    elif backend.is_host_or_device_array(x) and not isinstance(x, numpy.ndarray):
        out.append(b"a")  # a CuPy array: its values, received as a NumPy array
        _encode_array(backend.to_numpy(x), out, path)
    else:
        raise TypeError(f"{path}: a {kind.__name__} cannot be sent: {_CARRIES}")


def _encode_array(a: numpy.ndarray, out: list, path: str) -> None:
    code = a.dtype.str
    if code not in DTYPES:
        raise TypeError(
            f"{path}: an array of dtype {a.dtype} cannot be sent: arrays must hold bool,"
            " integers, floats or complex numbers (no pickle: receiving must never run code)"
        )
    out += [bytes([len(code)]), code.encode("ascii"), bytes([a.ndim])]
    out += [_U64.pack(n) for n in a.shape]
    out.append(numpy.ascontiguousarray(a).tobytes())


# ------------------------------------------------------------ decoding
def decode(data) -> object:
    """The object ``data`` (bytes, or a uint8 array) encodes; ObjectDecodeError otherwise."""
    view = memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)
    reader = _Reader(view)
    if bytes(reader.take(len(MAGIC), "the header")) != MAGIC:
        raise ObjectDecodeError(
            "not an ember.distributed object encoding (the header is not "
            f"{MAGIC!r}): the ranks run different versions, or the bytes are corrupt"
        )
    obj = reader.value(0)
    if reader.pos != len(view):
        raise ObjectDecodeError(
            f"{len(view) - reader.pos} unexpected bytes after the object (at byte {reader.pos})"
        )
    return obj


class _Reader:
    """Reads values from ``view``, checking every length against what is left."""

    def __init__(self, view: memoryview) -> None:
        self.view, self.pos = view, 0

    def take(self, n: int, what: str) -> memoryview:
        left = len(self.view) - self.pos
        if n > left:
            raise ObjectDecodeError(
                f"truncated: {what} at byte {self.pos} needs {n} bytes, {left} are left"
            )
        piece = self.view[self.pos : self.pos + n]
        self.pos += n
        return piece

    def u64(self, what: str) -> int:
        return _U64.unpack(self.take(8, what))[0]

    def count(self, what: str) -> int:
        """A length or item count, which cannot exceed the bytes left (each item takes one)."""
        n = self.u64(what)
        if n > len(self.view) - self.pos:
            raise ObjectDecodeError(
                f"corrupt: {what} at byte {self.pos - 8} says {n}, but only"
                f" {len(self.view) - self.pos} bytes are left"
            )
        return n

    def value(self, depth: int):
        at = self.pos
        tag = bytes(self.take(1, "a type tag"))
        if tag == b"N":
            return None
        if tag in (b"T", b"F"):
            return tag == b"T"
        if tag == b"i":
            return int.from_bytes(self.take(self.count("an int's length"), "an int"), "little",
                                  signed=True)  # fmt: skip
        if tag == b"f":
            return _F64.unpack(self.take(8, "a float"))[0]
        if tag == b"c":
            return complex(*_C128.unpack(self.take(16, "a complex")))
        if tag == b"s":
            data = self.take(self.count("a str's length"), "a str")
            try:
                return str(data, "utf-8", "surrogatepass")
            except UnicodeDecodeError as e:
                raise ObjectDecodeError(f"corrupt: the str at byte {at} is not UTF-8: {e}") from e
        if tag == b"b":
            return bytes(self.take(self.count("a bytes' length"), "bytes"))
        if tag in (b"l", b"t", b"d", b"o"):
            if depth >= MAX_DEPTH:
                raise ObjectDecodeError(f"nested deeper than {MAX_DEPTH} containers at byte {at}")
            n = self.count("an item count")
            if tag in (b"l", b"t"):
                items = [self.value(depth + 1) for _ in range(n)]
                return items if tag == b"l" else tuple(items)
            out = {} if tag == b"d" else OrderedDict()
            for _ in range(n):
                if bytes(self.view[self.pos : self.pos + 1]) not in (b"s", b"i"):
                    raise ObjectDecodeError(f"corrupt: dict key at byte {self.pos}: not str or int")
                key = self.value(depth + 1)
                out[key] = self.value(depth + 1)
            return out
        if tag in (b"a", b"g"):
            a = self.array()
            if tag == b"g" and a.ndim:
                raise ObjectDecodeError(f"corrupt: a NumPy scalar of shape {a.shape} at byte {at}")
            return a if tag == b"a" else a[()]
        if tag in (b"E", b"P"):
            flag = bytes(self.take(1, "requires_grad"))
            if flag not in (b"\x00", b"\x01"):
                raise ObjectDecodeError(f"corrupt: requires_grad at byte {self.pos - 1}")
            a = self.array()
            if flag == b"\x01" and a.dtype.kind not in "fc":
                raise ObjectDecodeError(f"corrupt: a tensor of dtype {a.dtype} cannot require grad")
            kind = Tensor if tag == b"E" else _parameter_type()
            return kind(a, requires_grad=flag == b"\x01")
        raise ObjectDecodeError(f"corrupt: unknown type tag {tag!r} at byte {at}")

    def array(self) -> numpy.ndarray:
        at = self.pos
        code = str(self.take(self.take(1, "a dtype's length")[0], "a dtype"), "ascii", "replace")
        if code not in DTYPES:
            raise ObjectDecodeError(f"refusing array dtype {code!r} at byte {at}: not a number")
        dtype = numpy.dtype(code)
        ndim = self.take(1, "an array's ndim")[0]
        if ndim > _MAX_NDIM:
            raise ObjectDecodeError(f"corrupt: an array of {ndim} dimensions at byte {at}")
        shape = tuple(self.u64("an array's dimension") for _ in range(ndim))
        nbytes = dtype.itemsize
        for n in shape:
            nbytes *= n  # Python ints: no overflow, checked before anything is allocated
        data = self.take(nbytes, f"the data of an array of shape {shape} and dtype {dtype}")
        try:
            return numpy.frombuffer(data, dtype).reshape(shape).copy()
        except ValueError as e:  # a zero-size shape NumPy cannot hold, say
            raise ObjectDecodeError(f"corrupt: an array of shape {shape} at byte {at}: {e}") from e
