"""A Python number meeting a tensor of every real dtype, through ~40 functions, against torch:
the result dtype and values, or torch's refusal. Found by this grid: an int scalar beside an
integer tensor in a floating op (atan2, xlogy) was first wrapped into the tensor's dtype
(xlogy(uint8, 300) took log 44; torch converts each operand to float straight from its own
dtype), xlogy(2.5, bool tensor) was float64, addcmul's value widened integer tensors to float
(torch truncates it), and negative ints into unsigned tensors (pow's base, clamp bounds,
index_fill, scatter) raised NumPy's OverflowError where torch wraps them (uint8: -3 is 253).
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [2, -3, 2.5, True, 300, float("inf")]

FUNCTIONS = {
    "where_s_t": lambda L, x, s: L.where(x != 0, s, x),
    "where_t_s": lambda L, x, s: L.where(x != 0, x, s),
    "pow_s_t": lambda L, x, s: L.pow(s, x),
    "pow_t_s": lambda L, x, s: L.pow(x, s),
    "rpow_op": lambda L, x, s: s**x,
    "mul": lambda L, x, s: L.mul(x, s),
    "div": lambda L, x, s: L.div(x, s),
    "rdiv": lambda L, x, s: s / x,
    "floor_divide": lambda L, x, s: L.floor_divide(x, s),
    "remainder": lambda L, x, s: L.remainder(x, s),
    "fmod": lambda L, x, s: L.fmod(x, s),
    "rsub": lambda L, x, s: s - x,
    "full_like": lambda L, x, s: L.full_like(x, s),
    "fill_": lambda L, x, s: x.clone().fill_(s),
    "masked_fill": lambda L, x, s: x.masked_fill(x != 0, s),
    "index_fill": lambda L, x, s: x.index_fill(0, L.tensor([1]), s),
    "scatter": lambda L, x, s: x.scatter(0, L.tensor([0, 1]), s),
    "pad": lambda L, x, s: L.nn.functional.pad(x, (1, 1), value=s),
    "clamp_min": lambda L, x, s: L.clamp(x, min=s),
    "clamp_max": lambda L, x, s: L.clamp_max(x, s),
    "maximum_0d": lambda L, x, s: L.maximum(x, L.tensor(s)),
    "add_0d": lambda L, x, s: x + L.tensor(s),
    "atan2_0d": lambda L, x, s: L.atan2(x, L.tensor(s)),
    "hypot_0d": lambda L, x, s: L.hypot(x, L.tensor(s)),
    "lt": lambda L, x, s: x < s,
    "ne": lambda L, x, s: x != s,
    "eq_0d": lambda L, x, s: x == L.tensor(s),
    "bitwise_and": lambda L, x, s: x & s,
    "lshift": lambda L, x, s: x << s,
    "xlogy_t_s": lambda L, x, s: L.xlogy(x, s),
    "xlogy_s_t": lambda L, x, s: L.xlogy(s, x),
    "lerp": lambda L, x, s: L.lerp(x, x * 2, s),
    "addcmul_value": lambda L, x, s: L.addcmul(x, x, x, value=s),
    "add_alpha": lambda L, x, s: L.add(x, x, alpha=s),
    "copysign": lambda L, x, s: L.copysign(x, s),
    "float_power": lambda L, x, s: L.float_power(x, s),
    "nan_to_num": lambda L, x, s: L.nan_to_num(x, nan=s),
    "index_put_0d": lambda L, x, s: x.index_put((L.tensor([0]),), L.tensor(s)),
}


def _run(lib, name, dtype, s):
    x = lib.tensor(np.array([1, 0, 3, 2]).astype(dtype))
    try:
        with np.errstate(all="ignore"):
            r = FUNCTIONS[name](lib, x, s)
    except Exception:  # noqa: BLE001 - refused
        return None
    return str(r.dtype).rsplit(".", 1)[-1], np.asarray(r.numpy())


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_number_beside_tensor_as_torch(name):
    compared = 0
    for dtype in DTYPES:
        for s in SCALARS:
            want = _run(torch, name, dtype, s)
            if want is None:
                continue  # torch refuses; ember may go further
            compared += 1
            got = _run(ember, name, dtype, s)
            where = f"{name}({dtype}, {s!r})"
            assert got is not None, f"{where}: ember refuses, torch gives {want}"
            assert got[0] == want[0], f"{where}: dtype {got[0]}, torch {want[0]}"
            if want[1].dtype.kind == "f":  # (torch's s / x multiplies by 1/x: an ulp apart)
                rtol = 1e-3 if want[1].dtype == np.float16 else 1e-6
                np.testing.assert_allclose(got[1], want[1], rtol=rtol, err_msg=where)
            else:
                np.testing.assert_array_equal(got[1], want[1], err_msg=where)
    assert compared > 0


@pytest.mark.parametrize(
    "call",
    [
        lambda L, x: L.clamp(x, max=300),
        lambda L, x: x.index_fill(0, L.tensor([1]), 300),
        lambda L, x: x.scatter(0, L.tensor([0, 1]), -3.5),
        lambda L, x: L.addcmul(x, x, x, value=-1.5),
    ],
)
def test_numbers_past_an_integer_dtype_refused_as_torch(call):
    for lib in (torch, ember):
        x = lib.tensor(np.array([1, 0, 3, 2], np.uint8))
        with pytest.raises(RuntimeError, match="cannot be converted to type uint8_t"):
            call(lib, x)


ZERO_DIM_FLOAT_OPS = {
    "truediv": lambda L, x, z: x / z,
    "rtruediv": lambda L, x, z: z / x,
    "div": lambda L, x, z: L.div(x, z),
    "atan2": lambda L, x, z: L.atan2(x, z),
    "xlogy": lambda L, x, z: L.xlogy(z, x),
    "xlog1py": lambda L, x, z: L.special.xlog1py(x, z),
}


@pytest.mark.parametrize("name", list(ZERO_DIM_FLOAT_OPS))
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16"])
@pytest.mark.parametrize("value", [-3, 256, 300, 2**40])
def test_zero_dim_int64_beside_narrow_ints_in_floating_ops(name, dtype, value):
    """uint8 / tensor(256) is [x / 256.], not x / 0 (256 wrapped into uint8 first): the
    result dtype of the two is uint8, an integer, so each operand becomes float32 on its own."""
    results = []
    for lib in (torch, ember):
        x = lib.tensor(np.array([3, 6, 9], dtype))
        with np.errstate(all="ignore"):
            results.append(ZERO_DIM_FLOAT_OPS[name](lib, x, lib.tensor(value)))
    got, want = results
    assert str(got.dtype).rsplit(".", 1)[-1] == str(want.dtype).rsplit(".", 1)[-1] == "float32"
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "data, dtype",
    [
        (-3, "uint8"),
        ([[1, -3], [-255, 7]], "uint8"),
        ([(-3, 2), (1, -128)], "int8"),
        ([2.7, -2.7], "int8"),
    ],  # fmt: skip
)
def test_tensor_data_into_an_integer_dtype_converts_as_torch(data, dtype):
    """A negative int into an unsigned dtype wraps (uint8: -3 is 253); NumPy refused it."""
    got = ember.tensor(data, dtype=getattr(ember, dtype))
    want = torch.tensor(data, dtype=getattr(torch, dtype))
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize(
    "data, dtype",
    [
        ([-3, 300], "uint8"),
        ([300], "int8"),
        (2**40, "int32"),
        ([1e10], "int32"),
        ([-1.5], "uint8"),
        ([-256], "uint8"),
        ([float("nan")], "int32"),
    ],  # fmt: skip
)
def test_tensor_data_past_an_integer_dtype_refused_as_torch(data, dtype):
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match=f"cannot be converted to type {dtype} without"):
            lib.tensor(data, dtype=getattr(lib, dtype))
