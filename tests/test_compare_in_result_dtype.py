"""Comparisons of mixed dtypes compare in torch's result dtype (promotion.compared), not in
NumPy's wider one: an int64 tensor meets a float32 tensor or a Python float in float32, int32
meets float16 in float16, float32 meets a 0-dim float64 tensor in float32, and a Python int
wraps into a narrow integer dtype. Each case is one where the two rules give different bools.
"""

from __future__ import annotations

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
