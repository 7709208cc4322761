"""Index writes take a source of self's dtype, as torch requires: index_add, scatter (with a
src tensor), scatter_add, scatter_reduce, index_copy, put, masked_scatter and index_put, out of
place and in place, refuse another dtype with torch's RuntimeError (ember used to cast the
source silently: 1.5 written into an int64 tensor became 1). In-place arithmetic whose result
cannot be cast back (int64 += 0.5) raises an error that is torch's RuntimeError and, as
before, a TypeError."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

WRITES = {
    "index_add": lambda L, x, s: x.index_add(0, L.tensor([0]), s),
    "index_add_": lambda L, x, s: x.index_add_(0, L.tensor([0]), s),
    "scatter": lambda L, x, s: x.scatter(0, L.tensor([0]), s),
    "scatter_add": lambda L, x, s: x.scatter_add(0, L.tensor([0]), s),
    "scatter_add_": lambda L, x, s: x.scatter_add_(0, L.tensor([0]), s),
    "scatter_reduce": lambda L, x, s: x.scatter_reduce(0, L.tensor([0]), s, "sum"),
    "index_copy": lambda L, x, s: x.index_copy(0, L.tensor([0]), s),
    "index_copy_": lambda L, x, s: x.index_copy_(0, L.tensor([0]), s),
    "put": lambda L, x, s: x.put(L.tensor([0]), s),
    "put_": lambda L, x, s: x.put_(L.tensor([0]), s, accumulate=True),
    "masked_scatter": lambda L, x, s: x.masked_scatter(x > 1, L.cat([s, s, s])),
    "index_put": lambda L, x, s: x.index_put((L.tensor([0]),), s),
    "index_put_": lambda L, x, s: x.index_put_((L.tensor([0]),), s, accumulate=True),
}
PAIRS = [("int64", "float32"), ("float32", "int64"), ("float32", "float64"), ("int32", "int64")]


def _message(lib, name, self_dtype, source_dtype):
    x = lib.tensor(np.array([1, 2, 3]).astype(self_dtype))
    s = lib.tensor(np.array([1.5]).astype(source_dtype))
    with pytest.raises(RuntimeError) as info:
        WRITES[name](lib, x, s)
    return str(info.value)


@pytest.mark.parametrize("name", list(WRITES))
@pytest.mark.parametrize("pair", PAIRS)
def test_index_writes_refuse_another_dtype_as_torch(name, pair):
    assert _message(ember, name, *pair) == _message(torch, name, *pair)


@pytest.mark.parametrize("name", list(WRITES))
def test_index_writes_of_the_same_dtype_still_equal_torch(name):
    results = []
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0, 3.0])
        results.append(WRITES[name](lib, x, lib.tensor([1.5])).tolist())
    assert results[0] == results[1]


def test_in_place_cast_refusal_is_torchs_runtime_error_and_a_type_error():
    x = ember.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired"):
        x.add_(0.5)
    with pytest.raises(TypeError, match="cannot be written into this int64 tensor"):
        x.exp_()
    assert x.tolist() == [1, 2, 3]
