"""TFRecord framing and CRC32C: how TensorBoard event files hold their records.

Each record is

    length      uint64, little-endian
    crc_len     uint32, masked CRC32C of the 8 length bytes
    data        ``length`` bytes (one serialized Event)
    crc_data    uint32, masked CRC32C of ``data``

CRC32C is the Castagnoli CRC (reflected polynomial 0x82F63B78, initial value and final XOR
0xFFFFFFFF), computed a byte at a time from a 256-entry table:

    c ← T[(c ⊕ b) & 0xFF] ⊕ (c >> 8)        for each byte b

Long inputs (images) run the same recurrence on many lanes at once with NumPy: the register
update is linear over GF(2), so the CRC of A‖B is Z_|B|(crc(A)) ⊕ crc₀(B), where Z_n is the
32×32 bit-matrix of feeding n zero bytes; lanes are joined pairwise with those matrices.

The stored form is masked, so that a CRC of data that itself holds CRCs is not degenerate:

    masked(c) = ((c >> 15) | (c << 17)) + 0xA282EAD8      (mod 2³²)
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

_POLY = 0x82F63B78  # Castagnoli, bit-reversed
_MASK_DELTA = 0xA282EAD8


def _make_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_TABLE = _make_table()
_TABLE_NP = np.array(_TABLE, dtype=np.uint32)
_BITS = np.arange(32, dtype=np.uint32)
_LANES_FROM = 1 << 14  # below this many bytes the plain loop is as fast


def crc32c(data: bytes, crc: int = 0) -> int:
    """The CRC32C of ``data``; pass a previous result as ``crc`` to continue over more bytes."""
    data = bytes(data)
    c = crc ^ 0xFFFFFFFF
    if len(data) >= _LANES_FROM:
        return _zeros_matrix(len(data)).apply(c) ^ _raw_crc_lanes(data) ^ 0xFFFFFFFF
    table = _TABLE  # a local name: this loop is the hot path for scalars
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


class _Gf2Matrix:
    """A linear map on 32-bit CRC registers, held as the images of the 32 unit vectors."""

    def __init__(self, columns: np.ndarray) -> None:
        self.columns = columns  # uint32[32]: column j is the image of 1 << j

    def apply(self, c):
        """M·c for an int or a uint32 array of registers."""
        x = np.asarray(c, dtype=np.uint32)
        bits = (x[..., None] >> _BITS) & 1
        out = np.bitwise_xor.reduce(bits * self.columns, axis=-1)
        return int(out) if out.ndim == 0 else out

    def __matmul__(self, other: _Gf2Matrix) -> _Gf2Matrix:
        return _Gf2Matrix(self.apply(other.columns))


_ONE_ZERO_BYTE = _Gf2Matrix(
    _TABLE_NP[(np.uint32(1) << _BITS) & 0xFF] ^ ((np.uint32(1) << _BITS) >> 8)
)


def _zeros_matrix(n: int) -> _Gf2Matrix:
    """Z_n, the register map of feeding n zero bytes, by repeated squaring."""
    result, power = _Gf2Matrix(np.uint32(1) << _BITS), _ONE_ZERO_BYTE
    while n:
        if n & 1:
            result = power @ result
        n >>= 1
        if n:
            power = power @ power
    return result


def _raw_crc_lanes(data: bytes) -> int:
    """The register after ``data`` from a zero start, computed on ~4√n lanes side by side."""
    lanes = 1 << (int(np.log2(len(data))) // 2 + 2)  # wider than √n: fewer Python-level steps
    m = -(-len(data) // lanes)
    # leading zero bytes leave a zero register at zero, so padding in front changes nothing
    buf = np.zeros(lanes * m, dtype=np.uint8)
    buf[lanes * m - len(data) :] = np.frombuffer(data, dtype=np.uint8)
    columns = buf.reshape(lanes, m).T.astype(np.uint32)  # row j: byte j of every lane
    state = np.zeros(lanes, dtype=np.uint32)
    table = _TABLE_NP
    for b in columns:
        state = table[(state ^ b) & 0xFF] ^ (state >> 8)
    shift = _zeros_matrix(m)  # join lane pairs: (a, b) → Z_len(b)(a) ⊕ b
    while len(state) > 1:
        state = shift.apply(state[0::2]) ^ state[1::2]
        shift = shift @ shift
    return int(state[0])


def masked_crc32c(data: bytes) -> int:
    """The CRC32C of ``data`` in the masked form TFRecord files store."""
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def encode_record(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, the data, the data's masked CRC."""
    header = struct.pack("<Q", len(data))
    return (
        header
        + struct.pack("<I", masked_crc32c(header))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


def read_records(path: str | Path, check_crc: bool = True) -> Iterator[bytes]:
    """The data of each record in a TFRecord file, checking both CRCs unless told not to.

    A truncated last record (a writer still running, or killed mid-write) ends the iteration
    quietly, as TensorBoard's reader treats it; a CRC mismatch raises ``ValueError``.
    """
    with open(path, "rb") as f:
        buf = f.read()
    pos = 0
    while pos + 12 <= len(buf):
        header = buf[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        (crc_len,) = struct.unpack("<I", buf[pos + 8 : pos + 12])
        if check_crc and crc_len != masked_crc32c(header):
            raise ValueError(f"{path}: bad length CRC in the record at byte {pos}")
        end = pos + 12 + length
        if end + 4 > len(buf):
            return
        data = buf[pos + 12 : end]
        (crc_data,) = struct.unpack("<I", buf[end : end + 4])
        if check_crc and crc_data != masked_crc32c(data):
            raise ValueError(f"{path}: bad data CRC in the record at byte {pos}")
        yield data
        pos = end + 4
