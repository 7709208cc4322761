"""Tensor-level behaviours held to torch's (found by a tensor-API comparison): cat and stack
promote as torch, the shift operators, unique keeps every NaN apart, item() of several
elements fails as torch's does."""

import numpy as np
import pytest

import ember

JOINS = [
    ("float32", "int64"), ("int8", "int64"), ("float16", "float32"), ("bool", "uint8"),
    ("int8", "uint8"), ("float64", "int32"),
]  # fmt: skip


@pytest.mark.parametrize("a,b", JOINS)
@pytest.mark.parametrize("how", ["cat", "stack", "stack 0-d"])
def test_cat_and_stack_promote_as_torch(torch, a, b, how):
    def run(lib):
        shape = () if how == "stack 0-d" else (2,)
        x, y = lib.ones(shape, dtype=getattr(lib, a)), lib.ones(shape, dtype=getattr(lib, b))
        out = lib.cat([x, y]) if how == "cat" else lib.stack([x, y])
        return str(out.dtype).split(".")[-1], out.tolist()

    assert run(ember) == run(torch)  # (NumPy's concatenate gave float32 + int64 = float64)


def test_cat_promotion_keeps_the_gradient():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ember.cat([x, ember.tensor([3])])
    (y * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert y.dtype == ember.float32 and x.grad.tolist() == [1.0, 2.0]


def test_shift_operators_as_torch(torch):
    def run(lib):
        x = lib.tensor([1, 8, -4])
        y = lib.tensor([1, 2])
        y <<= 1
        outs = [x << 2, x >> 1, 3 << lib.tensor([1, 2]), 64 >> lib.tensor([1, 2]), y,
                lib.tensor([1], dtype=lib.int8) << 3]  # fmt: skip
        return [(t.tolist(), str(t.dtype).split(".")[-1]) for t in outs]

    assert run(ember) == run(torch)
    with pytest.raises(NotImplementedError):
        ember.tensor([1.5]) << 1


def test_unique_keeps_every_nan_apart_as_torch(torch):
    def run(lib):
        x = lib.tensor([float("nan"), 2.0, float("nan"), 1.0, 2.0])
        return [str(t.tolist()) for t in lib.unique(x, return_inverse=True, return_counts=True)]

    assert run(ember) == run(torch)


def test_item_of_several_elements_fails_as_torch(torch):
    for lib in (torch, ember):
        with pytest.raises(RuntimeError):
            lib.tensor([1.0, 2.0]).item()
        with pytest.raises(ValueError):
            float(lib.tensor([1.0, 2.0]))
    assert ember.tensor([np.float32(2.5)]).item() == 2.5


WHERE = {
    "two floats": lambda L, c: L.where(c, 1.0, 0),
    "two ints": lambda L, c: L.where(c, 1, 0),
    "int tensor, float": lambda L, c: L.where(c, L.tensor([1, 2]), 0.5),
    "float, int tensor": lambda L, c: L.where(c, 0.5, L.tensor([1, 2])),
    "float64 tensor, float": lambda L, c: L.where(c, L.tensor([1.0, 2.0], dtype=L.float64), 0.5),
    "int8 tensor, int": lambda L, c: L.where(c, L.tensor([1, 2], dtype=L.int8), 100),
    "two bools": lambda L, c: L.where(c, True, False),
    "complex, int": lambda L, c: L.where(c, 1j, 0),
    "method, int tensor, float": lambda L, c: L.tensor([1, 2]).where(c, 0.5),
    "method, int32, 0-d int64": lambda L, c: L.tensor([1, 2], dtype=L.int32).where(c, L.tensor(5)),
}


@pytest.mark.parametrize("case", sorted(WHERE))
def test_where_with_numbers_takes_torchs_dtype(torch, case):
    def run(lib):
        out = WHERE[case](lib, lib.tensor([True, False]))
        return str(out.dtype).split(".")[-1], out.tolist()

    assert run(ember) == run(torch)  # (two floats gave float64, an int tensor with 0.5 float64)


def test_shape_errors_say_what_torch_says(torch):
    for lib in (torch, ember):
        with pytest.raises(IndexError, match="out of range"):
            lib.ones(2, 3).transpose(0, 2)
        with pytest.raises(RuntimeError, match="isn't allowed in a leading, non-existing"):
            lib.ones(2).expand(-1, 2)
