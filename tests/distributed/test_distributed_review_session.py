"""Review of this session's distributed changes: the object decoder's NumPy scalar."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from ember.distributed.objects import MAGIC, ObjectDecodeError, decode, encode


def _scalar_bytes(code: str, shape: tuple, data: bytes) -> bytes:
    dims = b"".join(struct.pack("<Q", n) for n in shape)
    return MAGIC + b"g" + bytes([len(code)]) + code.encode() + bytes([len(shape)]) + dims + data


def test_numpy_scalar_tag_with_dimensions_is_refused():
    # the "g" tag is a NumPy scalar: bytes that give it a shape are corrupt, not an array
    with pytest.raises(ObjectDecodeError, match="NumPy scalar"):
        decode(_scalar_bytes("<f4", (2,), b"\0" * 8))
    with pytest.raises(ObjectDecodeError, match="NumPy scalar"):
        decode(_scalar_bytes("<i8", (0,), b""))


def test_numpy_scalar_round_trips_as_a_scalar():
    got = decode(encode(np.float32(1.5)))
    assert type(got) is np.float32 and got == np.float32(1.5)
    assert decode(_scalar_bytes("<i4", (), struct.pack("<i", 7))) == np.int32(7)
