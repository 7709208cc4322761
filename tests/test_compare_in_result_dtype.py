"""Comparisons of mixed dtypes compare in torch's result dtype (promotion.compared), not in
NumPy's wider one: an int64 tensor meets a float32 tensor or a Python float in float32, int32
meets float16 in float16, float32 meets a 0-dim float64 tensor in float32, and a Python int
wraps into a narrow integer dtype. Each case is one where the two rules give different bools.
"""

from __future__ import annotations

import itertools
import operator

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}  # fmt: skip

BIG = [2**24 + 1, 2**24 + 3, 2049, -(2**31), 5]  # not all exact in float32 / float16

#: (left values, left dtype, left 0-dim, right values, right dtype, right 0-dim)
TENSOR_PAIRS = [
    (BIG, "int64", False, [2.0**24, 2.0**24 + 4, 2048.0, -(2.0**31), 5.0], "float32", False),
    (BIG[2:], "int32", False, [2048.0, -np.inf, 5.0], "float16", False),
    ([0.1, 0.2, 1 / 3], "float32", False, 0.1, "float64", True),
    ([2**53 + 1, 3], "int64", False, [2.0**53, 3.0], "float64", False),  # wide enough: agree
    ([300, 44], "int16", False, [44, 44], "uint8", False),
    ([1.5, 2.5], "float16", False, 2.5, "float32", True),
]


def _pair(values, dtype, zero_dim):
    a = np.array(values[0] if zero_dim and isinstance(values, list) else values)
    a = a.astype(dtype)
    return ember.tensor(a), torch.tensor(a)


@pytest.mark.parametrize("symbol", OPS)
@pytest.mark.parametrize("case", range(len(TENSOR_PAIRS)))
def test_tensor_against_tensor_compares_as_torch(symbol, case):
    va, da, za, vb, db, zb = TENSOR_PAIRS[case]
    (ea, ta), (eb, tb) = _pair(va, da, za), _pair(vb, db, zb)
    op = OPS[symbol]
    for e, t in (((ea, eb), (ta, tb)), ((eb, ea), (tb, ta))):  # either side first
        got, want = op(*e), op(*t)
        assert got.dtype == ember.bool and got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=f"{da} {symbol} {db}")


SCALAR_CASES = [
    (BIG, "int64", 2.0**24),  # the int64 values meet 2**24 in float32
    ([True, False], "bool", 0.5),
    ([255, 0, 7], "uint8", -1),  # -1 wraps to 255, as torch casts it
    ([127, -128], "int8", 1000),  # 1000 wraps to -24
    ([0.1, 0.3], "float32", 0.1),  # the float32 tensor keeps its dtype
    ([0.1, 0.3], "float32", np.float64(0.1)),  # a NumPy scalar is a weak number too
    (BIG, "int64", np.float64(2.0**24)),
]


@pytest.mark.parametrize("symbol", OPS)
@pytest.mark.parametrize("case", range(len(SCALAR_CASES)))
def test_tensor_against_number_compares_as_torch(symbol, case):
    values, dtype, number = SCALAR_CASES[case]
    e, t = _pair(values, dtype, False)
    op = OPS[symbol]
    got, want = op(e, number), op(t, number)
    np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=f"{dtype} {symbol} {number}")
    got, want = op(number, e), op(number, t)  # the reflected operator
    np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=f"{number} {symbol} {dtype}")


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_torch_named_comparisons_follow_the_same_rule(name):
    a = np.array(BIG, np.int64)
    b = np.array([2.0**24, 2.0**24 + 4, 2048.0, -(2.0**31), 5.0], np.float32)
    want = getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy()
    got = getattr(ember, name)(ember.tensor(a), ember.tensor(b)).numpy()
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(getattr(ember.tensor(a), name)(2.0**24).numpy(),
                                  getattr(torch.tensor(a), name)(2.0**24).numpy())  # fmt: skip


def test_same_dtype_comparisons_keep_numpys_exact_answer():
    """The cast happens only for mixed dtypes: equal dtypes compare as they lie."""
    a = ember.tensor(np.array([2**62 + 1, 3], np.int64))
    np.testing.assert_array_equal((a == ember.tensor(np.array([2**62, 3], np.int64))).numpy(),
                                  [False, True])  # fmt: skip
    np.testing.assert_array_equal((a > 2**62).numpy(), [True, False])


SEARCH_CASES = [
    # (sequence or test elements, their dtype, values or elements, their dtype or None: a number)
    ([3.0, 2048.0, 2.0**24], "float32", BIG[:3], "int64"),
    ([3.0, 2048.0, 2.0**24], "float32", 2**24 + 1, None),
    ([3.0, 2048.0, 2.0**24], "float32", np.float64(2.0**24 + 1), None),
    ([1, 2, 3], "uint8", [-1, 2], "int64"),
    ([0.1, 0.5], "float64", [0.1, 0.5], "float32"),  # both dimensioned: float64
    ([1, 7, 250], "uint8", 2**24 + 1, None),
]


def _operand(lib, values, dtype):
    return values if dtype is None else lib.tensor(np.array(values).astype(dtype))


@pytest.mark.parametrize("case", range(len(SEARCH_CASES)))
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize_search_in_torchs_dtype(case, right):
    seq, sd, values, vd = SEARCH_CASES[case]
    got = ember.searchsorted(_operand(ember, seq, sd), _operand(ember, values, vd), right=right)
    want = torch.searchsorted(_operand(torch, seq, sd), _operand(torch, values, vd), right=right)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    if vd is not None:
        got = ember.bucketize(_operand(ember, values, vd), _operand(ember, seq, sd), right=right)
        want = torch.bucketize(_operand(torch, values, vd), _operand(torch, seq, sd), right=right)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("case", range(len(SEARCH_CASES)))
def test_isin_matches_in_torchs_dtype(case):
    test, td, elements, ed = SEARCH_CASES[case]
    for args in ((elements, ed, test, td), (test, td, elements, ed)):
        if args[1] is None:  # torch takes a number as the elements only with tensor tests
            continue
        got = ember.isin(_operand(ember, *args[:2]), _operand(ember, *args[2:]))
        want = torch.isin(_operand(torch, *args[:2]), _operand(torch, *args[2:]))
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("bounds", [("float32", None), (None, "float32"), ("float64", "float16"),
                                   ("float64(0-dim)", "float32(0-dim)")])  # fmt: skip
def test_clamp_with_tensor_bounds_computes_in_torchs_result_dtype(bounds):
    x = np.array([2**24 + 1, 2049, -7, 40], np.int64)
    lo_v, hi_v = np.array([2.0**24, 0, -8, 3]), np.array([2.0**25, 2048, 5, 30])

    def run(lib):
        lo, hi = [None if d is None else lib.tensor((v if "0-dim" not in d else v[1]).astype(
            d.split("(")[0])) for d, v in zip(bounds, (lo_v, hi_v))]  # fmt: skip
        return lib.clamp(lib.tensor(x), min=lo, max=hi)

    with np.errstate(over="ignore"):  # 2**24 and 2**25 are inf in float16, as intended
        got, want = run(ember), run(torch)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_result_dtype_of_three_arrays_is_torchs():
    """promotion.result_dtype against torch.clamp's result over every triple of dtypes, each
    dimensioned or 0-dim (where torch clamps at all)."""
    from ember.promotion import result_dtype

    names = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
    checked, differ = 0, []
    for a, b, c in itertools.product(names, repeat=3):
        for dims in itertools.product([(), (2,)], repeat=3):
            arrays = [np.zeros(s, d) for d, s in zip((a, b, c), dims)]
            try:
                want = torch.clamp(*(torch.from_numpy(v) for v in arrays)).dtype
            except RuntimeError:
                continue
            checked += 1
            got = result_dtype(*arrays)
            if str(got) != str(want).split(".")[-1]:
                differ.append(f"{a}{dims[0]} {b}{dims[1]} {c}{dims[2]}: {got}, torch {want}")
    assert checked > 2000, checked
    assert not differ, "\n".join(differ[:20])
