"""Reading safetensors files that hold dtypes NumPy has no type for.

Checkpoints published for PyTorch are often bfloat16 (BF16) and sometimes float8 (F8_E4M3,
F8_E5M2); ``safetensors.numpy`` cannot read them (NumPy has none of these dtypes). ember reads
them widened to float32, which is exact: a bfloat16 is the top half of a float32's bits, and
every float8 value is a float32 value (decoded through a 256-entry table, NaN and ±inf kept
as the format defines them). Files without such tensors go through ``safetensors.numpy``
unchanged, with its own checks; the hand parser below checks the same things (header, dtype
names, offsets inside the file, byte counts that match the shapes) and says what is wrong.
"""

from __future__ import annotations

import json
import math

import numpy
import safetensors.numpy

#: safetensors' dtype names that NumPy holds as they are
_NUMPY = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
    "I8": "i1", "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?",
    "C64": "<c8",
}  # fmt: skip

#: those read widened to float32, with their width in bytes
WIDENED = {"BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1}


def _float8_table(exponent_bits: int, mantissa_bits: int, finite_only: bool) -> numpy.ndarray:
    """The float32 value of each of the 256 bytes of a float8 format (OCP FP8: E4M3 has no
    infinities and one NaN pattern per sign, S.1111.111; E5M2 follows IEEE 754)."""
    b = numpy.arange(256)
    sign = numpy.where(b >> 7, -1.0, 1.0)
    e = (b >> mantissa_bits) & ((1 << exponent_bits) - 1)
    f = (b & ((1 << mantissa_bits) - 1)) / (1 << mantissa_bits)
    bias = (1 << (exponent_bits - 1)) - 1
    value = numpy.where(e == 0, f * 2.0 ** (1 - bias), (1 + f) * 2.0 ** (e - bias))
    top = e == (1 << exponent_bits) - 1
    if finite_only:
        value = numpy.where(top & (f == 1 - 1 / (1 << mantissa_bits)), math.nan, value)
    else:
        value = numpy.where(top, numpy.where(f == 0, math.inf, math.nan), value)
    return (sign * value).astype(numpy.float32)


_F8 = {"F8_E4M3": (4, 3, True), "F8_E5M2": (5, 2, False)}
_TABLES: dict[str, numpy.ndarray] = {}


def _widen(kind: str, raw: bytes, offset: int, count: int) -> numpy.ndarray:
    if kind == "BF16":
        bits = numpy.frombuffer(raw, "<u2", count, offset).astype(numpy.uint32) << 16
        return bits.view(numpy.float32)
    if kind not in _TABLES:
        _TABLES[kind] = _float8_table(*_F8[kind])
    return _TABLES[kind][numpy.frombuffer(raw, numpy.uint8, count, offset)]


def load_bytes(raw: bytes) -> tuple[dict[str, numpy.ndarray], dict]:
    """The arrays and the ``__metadata__`` of a safetensors file's bytes; BF16 and float8
    tensors come back as float32. Raises ValueError (or safetensors' error) for a file that
    is not a well-formed safetensors file."""
    if len(raw) < 8:
        raise ValueError(
            f"a safetensors file starts with an 8-byte header size, got {len(raw)} bytes"
        )
    n = int.from_bytes(raw[:8], "little")
    if 8 + n > len(raw):
        raise ValueError(
            f"the header claims {n} bytes, but the file has {len(raw) - 8} after its size"
        )
    header = json.loads(raw[8 : 8 + n])
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not any(isinstance(v, dict) and v.get("dtype") in WIDENED for v in header.values()):
        return safetensors.numpy.load(raw), metadata
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise ValueError("__metadata__ must map names to strings, as safetensors requires")
    start, size, out = 8 + n, len(raw) - 8 - n, {}
    for name, info in header.items():
        if not isinstance(info, dict):
            raise ValueError(f"tensor {name!r}: its header entry is not a JSON object")
        kind, shape = info.get("dtype"), info.get("shape", ())
        if not (
            isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)
        ):  # (a bool is no size either)
            raise ValueError(f"tensor {name!r}: shape {shape!r} is not a list of sizes")
        shape = tuple(shape)
        begin, end = info.get("data_offsets", (None, None))
        count = math.prod(shape)
        width = WIDENED.get(kind) or (
            numpy.dtype(_NUMPY[kind]).itemsize if kind in _NUMPY else None
        )
        if width is None:
            raise ValueError(f"tensor {name!r}: dtype {kind!r} is not one ember can read")
        if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= size):
            raise ValueError(
                f"tensor {name!r}: data_offsets {[begin, end]} lie outside the {size} data bytes"
            )
        if end - begin != count * width:
            raise ValueError(
                f"tensor {name!r}: {end - begin} bytes for shape {list(shape)} of {kind}"
                f" (expected {count * width})"
            )
        if kind in WIDENED:
            out[name] = _widen(kind, raw, start + begin, count).reshape(shape)
        else:
            out[name] = numpy.frombuffer(raw, _NUMPY[kind], count, start + begin).reshape(shape)
    _check_tiling(header, size)
    return out, metadata


def _check_tiling(header: dict, size: int) -> None:
    """As safetensors checks: the tensors' byte ranges, in order, cover the data exactly
    (no gap, no overlap, nothing after), so no byte is read twice or left unexplained."""
    end = 0
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
        begin, stop = info["data_offsets"]
        if begin != end:
            raise ValueError(
                f"tensor {name!r}: data_offsets {[begin, stop]} do not start where the"
                f" previous tensor ends (byte {end})"
            )
        end = stop
    if end != size:
        raise ValueError(f"the tensors cover {end} of the {size} data bytes")


def load_file(path) -> dict[str, numpy.ndarray]:
    """The arrays of the safetensors file at ``path``, as ``safetensors.numpy.load_file``
    gives them, with BF16 and float8 tensors widened to float32."""
    with open(path, "rb") as f:
        arrays = load_bytes(f.read())[0]
    return {k: a if a.flags.writeable else a.copy() for k, a in arrays.items()}
