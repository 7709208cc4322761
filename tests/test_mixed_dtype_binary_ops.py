"""Binary ops on two tensors of different dtypes, against torch: every pair of bool, uint8,
int8 … int64, float16 … float64, complex64 and complex128 through ~40 binary functions gives
torch's result dtype and values (where torch computes one). The pairs that differed: shifts
kept the left operand's dtype (uint8 << int8 is int16), float_power dropped a complex
operand's imaginary part (it is complex128), and ldexp turned a half input into float32."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]  # fmt: skip

OPS = {
    "add": lambda m, a, b: a + b,
    "floordiv": lambda m, a, b: a // b,
    "pow": lambda m, a, b: a**b,
    "xor": lambda m, a, b: a ^ b,
    "lshift": lambda m, a, b: a << b,
    "rshift": lambda m, a, b: a >> b,
    "bitwise_left_shift": lambda m, a, b: m.bitwise_left_shift(a, b),
    "maximum": lambda m, a, b: m.maximum(a, b),
    "atan2": lambda m, a, b: m.atan2(a, b),
    "remainder": lambda m, a, b: m.remainder(a, b),
    "copysign": lambda m, a, b: m.copysign(a, b),
    "where": lambda m, a, b: m.where(a != 0, a, b),
    "float_power": lambda m, a, b: m.float_power(a, b),
    "ldexp": lambda m, a, b: m.ldexp(a, b),
    "div_floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    "lerp": lambda m, a, b: m.lerp(a, b, 0.5),
    "cat": lambda m, a, b: m.cat([a, b]),
    "dot": lambda m, a, b: m.dot(a, b),
    # alpha scales in the result dtype of a and b (int8 + 2·bool is int8, not int64)
    "add_alpha": lambda m, a, b: m.add(a, b, alpha=2),
    "sub_alpha": lambda m, a, b: m.sub(a, b, alpha=3),
    "add_float_alpha": lambda m, a, b: m.add(a, b, alpha=2.5),
    "diff_prepend": lambda m, a, b: m.diff(a, prepend=b),
    # (complex weights: torch drops the imaginary part with a warning, ember refuses them)
    "bincount": lambda m, a, b: m.bincount(m.tensor([0, 1, 1, 3, 0]), weights=b.real),
    "clamp_tensor_min": lambda m, a, b: m.clamp(a, min=b),
    "isin": lambda m, a, b: m.isin(a, b),
    "searchsorted": lambda m, a, b: m.searchsorted(b.sort()[0], a),
}


def _run(lib, name, da, db):
    a = lib.tensor(np.array([3, 0, 1, 2, 5]).astype(da))
    b = lib.tensor(np.array([2, 1, 3, 0, 1]).astype(db))
    try:
        with np.errstate(all="ignore"):
            r = OPS[name](lib, a, b)
    except Exception:  # noqa: BLE001 - a pair this op does not take
        return None
    values = r.resolve_conj().numpy() if lib is torch else r.numpy()
    return str(r.dtype).replace("torch.", ""), np.asarray(values)


@pytest.mark.parametrize("name", list(OPS))
def test_mixed_dtype_pairs_as_torch(name):
    for da, db in itertools.product(DTYPES, DTYPES):
        want = _run(torch, name, da, db)
        if want is None:
            continue  # torch refuses the pair; ember may go further
        got = _run(ember, name, da, db)
        assert got is not None, (name, da, db, "ember raises")
        assert got[0] == want[0], (name, da, db, got[0], want[0])
        if want[1].dtype.kind in "fc":
            np.testing.assert_allclose(
                got[1].astype(complex), want[1].astype(complex), rtol=1e-3, atol=1e-3,
                err_msg=f"{name} {da} {db}",
            )  # fmt: skip
        else:
            np.testing.assert_array_equal(got[1], want[1], err_msg=f"{name} {da} {db}")


def test_shifts_by_a_float_and_half_ldexp_as_torch():
    with pytest.raises(NotImplementedError, match="lshift_cpu.*Float"):
        ember.tensor([3]) << ember.tensor([1.5])
    # 2^20 is inf in half: the product is taken in float32 and then rounded
    got = ember.ldexp(ember.tensor(np.array([1e-3], np.float16)), ember.tensor([20]))
    want = torch.ldexp(torch.tensor(np.array([1e-3], np.float16)), torch.tensor([20]))
    assert got.dtype == ember.float16 and got.tolist() == want.tolist() == [1049.0]
    assert ember.float_power(1j, ember.tensor([2.0])).dtype == ember.complex128


IN_PLACE = {
    "iadd": lambda m, a, b: a.__iadd__(b),
    "isub": lambda m, a, b: a.__isub__(b * 3),
    "mul_": lambda m, a, b: a.mul_(b),
    "itruediv": lambda m, a, b: a.__itruediv__(b),
    "ifloordiv": lambda m, a, b: a.__ifloordiv__(b),
    "iand": lambda m, a, b: a.__iand__(b),
    "clamp_": lambda m, a, b: a.clamp_(min=b),
    "addcmul_": lambda m, a, b: a.addcmul_(b, b),
    "masked_fill_0d": lambda m, a, b: a.masked_fill_(a == a, b[0]),
}


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_mixed_dtypes_as_torch(name):
    """Where torch writes the result into self in place, ember does the same, in self's dtype:
    any integer result into any integer tensor (uint8 −= int64 wraps; ember refused signed into
    unsigned, NumPy's 'same_kind'), and masked_fill_ with a 0-d tensor of another dtype (cast
    to self's, as torch; ember refused a float value for an int tensor)."""
    for da, db in itertools.product(DTYPES[:-1], DTYPES[:-1]):
        results = []
        for lib in (ember, torch):
            a = lib.tensor(np.array([1, 2, 3]).astype(da))
            b = lib.tensor(np.array([2, 1, 1]).astype(db))
            try:
                IN_PLACE[name](lib, a, b)
                results.append((str(a.dtype).replace("torch.", ""), a.tolist()))
            except Exception:  # noqa: BLE001 - a pair this form does not take
                results.append(None)
        got, want = results
        if want is None:
            continue  # torch refuses it; ember may go further
        assert got is not None, (name, da, db, "ember refuses")
        assert got[0] == want[0], (name, da, db)
        np.testing.assert_allclose(
            np.array(got[1], dtype=complex), np.array(want[1], dtype=complex),
            err_msg=f"{name} {da} {db}",
        )  # fmt: skip


ALPHA_REFUSALS = [  # (a's dtype, b's dtype, alpha, what torch says)
    ("int32", "int32", 2.5, "integral input tensors, argument alpha"),
    ("uint8", "uint8", True, "Boolean alpha only supported for Boolean results"),
    ("int8", "int8", 1000, "cannot be converted to type int8_t without overflow"),
    ("int8", "bool", 2, "Subtraction, the `-` operator, with a bool tensor"),
]


@pytest.mark.parametrize("case", ALPHA_REFUSALS)
def test_add_and_sub_alpha_refused_as_torch(case):
    da, db, alpha, message = case
    for lib in (torch, ember):
        a = lib.tensor(np.array([1, 0, 3]).astype(da))
        b = lib.tensor(np.array([1, 1, 0]).astype(db))
        with pytest.raises(RuntimeError, match=message):
            lib.sub(a, b, alpha=alpha)
        if db != "bool" or isinstance(alpha, bool):
            with pytest.raises(RuntimeError, match=message):
                lib.add(a, b, alpha=alpha)
