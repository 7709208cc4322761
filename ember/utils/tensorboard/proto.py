"""The few protobuf messages TensorBoard event files hold, encoded by hand (no protobuf needed).

Wire format: a message is a run of fields, each ``key = field_number << 3 | wire_type``
(a varint) then the value: varint (0), 8 little-endian bytes (1), length-prefixed bytes (2)
or 4 little-endian bytes (5). Varints are 7 bits a byte, low group first, high bit "more".
Negative int64s are their two's complement, ten bytes long.

The messages (field numbers from tensorboard/compat/proto/{event,summary,tensor}.proto):

    Event           wall_time=1 (double)  step=2 (int64)  file_version=3 (string)
                    summary=5 (Summary)  session_log=7 (SessionLog)
    SessionLog      status=1 (enum: START=1)
    Summary         value=1 (repeated Value)
    Summary.Value   tag=1  simple_value=2 (float)  image=4  histo=5  tensor=8  metadata=9
    Summary.Image   height=1  width=2  colorspace=3  encoded_image_string=4
    HistogramProto  min=1 max=2 num=3 sum=4 sum_squares=5 (double)
                    bucket_limit=6 bucket=7 (packed repeated double)
    SummaryMetadata plugin_data=1 (PluginData: plugin_name=1, content=2)
    TensorProto     dtype=1 (enum)  tensor_shape=2 (TensorShapeProto: dim=2 (Dim: size=1))
                    float_val=5 double_val=6 (packed)  string_val=8 (repeated bytes)

Members of a ``oneof`` (simple_value, image, histo, tensor, summary, file_version) are always
written, even when zero, because their presence is the information.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

VARINT, FIXED64, BYTES, FIXED32 = 0, 1, 2, 5
DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7
SESSION_START = 1


# ------------------------------------------------------------------ wire format
def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # int64 → its two's complement
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def f_varint(field: int, n: int) -> bytes:
    return _key(field, VARINT) + varint(int(n))


def f_double(field: int, x: float) -> bytes:
    return _key(field, FIXED64) + struct.pack("<d", float(x))


def f_float(field: int, x: float) -> bytes:
    return _key(field, FIXED32) + struct.pack("<f", float(x))


def f_bytes(field: int, data: bytes | str) -> bytes:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _key(field, BYTES) + varint(len(data)) + data


def f_packed_doubles(field: int, xs: Iterable[float]) -> bytes:
    xs = [float(x) for x in xs]
    return f_bytes(field, struct.pack(f"<{len(xs)}d", *xs))


def f_packed_floats(field: int, xs: Iterable[float]) -> bytes:
    xs = [float(x) for x in xs]
    return f_bytes(field, struct.pack(f"<{len(xs)}f", *xs))


# ------------------------------------------------------------------ messages
def event(
    wall_time: float,
    step: int | None = None,
    *,
    summary: bytes | None = None,
    file_version: str | None = None,
    session_log: bytes | None = None,
) -> bytes:
    out = f_double(1, wall_time)
    if step:  # proto3: a zero step is the default and left out
        out += f_varint(2, step)
    if file_version is not None:
        out += f_bytes(3, file_version)
    if summary is not None:
        out += f_bytes(5, summary)
    if session_log is not None:
        out += f_bytes(7, session_log)
    return out


def session_log(status: int = SESSION_START) -> bytes:
    return f_varint(1, status)


def summary(*values: bytes) -> bytes:
    return b"".join(f_bytes(1, v) for v in values)


def summary_value(
    tag: str,
    *,
    simple_value: float | None = None,
    image: bytes | None = None,
    histo: bytes | None = None,
    tensor: bytes | None = None,
    metadata: bytes | None = None,
) -> bytes:
    out = f_bytes(1, tag)
    if simple_value is not None:
        out += f_float(2, simple_value)
    if image is not None:
        out += f_bytes(4, image)
    if histo is not None:
        out += f_bytes(5, histo)
    if tensor is not None:
        out += f_bytes(8, tensor)
    if metadata is not None:
        out += f_bytes(9, metadata)
    return out


def image(height: int, width: int, colorspace: int, encoded: bytes) -> bytes:
    return f_varint(1, height) + f_varint(2, width) + f_varint(3, colorspace) + f_bytes(4, encoded)


def histogram(
    min: float,
    max: float,
    num: float,
    sum: float,
    sum_squares: float,
    bucket_limit: Iterable[float],
    bucket: Iterable[float],
) -> bytes:
    return (
        f_double(1, min)
        + f_double(2, max)
        + f_double(3, num)
        + f_double(4, sum)
        + f_double(5, sum_squares)
        + f_packed_doubles(6, bucket_limit)
        + f_packed_doubles(7, bucket)
    )


def summary_metadata(plugin_name: str, content: bytes = b"") -> bytes:
    plugin_data = f_bytes(1, plugin_name) + (f_bytes(2, content) if content else b"")
    return f_bytes(1, plugin_data)


def tensor(
    dtype: int,
    shape: Iterable[int] = (),
    *,
    float_val: Iterable[float] | None = None,
    double_val: Iterable[float] | None = None,
    string_val: Iterable[bytes] | None = None,
) -> bytes:
    dims = b"".join(f_bytes(2, f_varint(1, n)) for n in shape)
    out = f_varint(1, dtype) + f_bytes(2, dims)
    if float_val is not None:
        out += f_packed_floats(5, float_val)
    if double_val is not None:
        out += f_packed_doubles(6, double_val)
    for s in string_val or ():
        out += f_bytes(8, s)
    return out


# ------------------------------------------------------------------ reading back
def decode(data: bytes) -> dict[int, list]:
    """A message's fields as ``{field_number: [values]}``: varints as ints, fixed64/fixed32 as
    raw 8/4 bytes (the schema says whether they are doubles or ints), length-delimited fields
    as bytes (decode them again for a nested message). Enough to check what was written."""
    fields: dict[int, list] = {}
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        field, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, pos = _read_varint(data, pos)
        elif wire_type == FIXED64:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire_type == FIXED32:
            value, pos = data[pos : pos + 4], pos + 4
        elif wire_type == BYTES:
            n, pos = _read_varint(data, pos)
            value, pos = data[pos : pos + n], pos + n
        else:
            raise ValueError(f"unsupported wire type {wire_type} for field {field}")
        fields.setdefault(field, []).append(value)
    if pos != len(data):
        raise ValueError("message ends inside a field")
    return fields


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("message ends inside a varint")
        b = data[pos]
        n |= (b & 0x7F) << shift
        pos += 1
        if not b & 0x80:
            return n, pos
        shift += 7
