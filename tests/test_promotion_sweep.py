"""Result dtypes of the binary operators, every pair of dtypes and Python scalars, as torch's.

For each operator of ``OPS``, a tensor of each dtype of ``DTYPES`` meets a tensor of each dtype
and each scalar of ``SCALARS``; where torch computes a result, ember must too, of the same
dtype (ember computing where torch refuses is allowed). The one accepted difference: a
float16 tensor and a complex scalar give complex64, as NumPy has no complex32.
"""

from __future__ import annotations

import operator

import numpy as np

import ember

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]  # fmt: skip
SCALARS = [2, 2.5, True, 1 + 1j, -3]
OPS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "==": operator.eq,
    "<": operator.lt, "&": operator.and_, "|": operator.or_, "^": operator.xor,
}  # fmt: skip


def _dtype(lib, f, a, b):
    x = lib.tensor(np.array([1, 2]).astype(a))
    y = b if not isinstance(b, str) else lib.tensor(np.array([1, 3]).astype(b))
    try:
        with np.errstate(all="ignore"):
            return str(f(x, y).dtype).rsplit(".", 1)[-1]
    except Exception:  # noqa: BLE001 - refused
        return None


def test_binary_operators_promote_as_torch(torch):
    differ, compared = [], 0
    for name, f in OPS.items():
        for a in DTYPES:
            for b in DTYPES + SCALARS:
                want = _dtype(torch, f, a, b)
                if want is None:
                    continue
                compared += 1
                got = _dtype(ember, f, a, b)
                if got != want and not (a == "float16" and isinstance(b, complex)):
                    differ.append(f"{a} {name} {b!r}: ember {got}, torch {want}")
    assert compared > 1000, compared
    assert not differ, "\n".join(differ)
