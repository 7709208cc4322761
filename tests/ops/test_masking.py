"""ops/masking.py: selection through the floats' bits equals xp.where bit for bit, and keeps an
inf or NaN out where the mask shuts (a product with the mask would make NaN there)."""

import numpy as np
import pytest

from ember.ops.masking import keep_where, select


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.uint8])
def test_keep_where_equals_where_with_zero(dtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((5, 7)) * 10).astype(dtype)
    if a.dtype.kind == "f":
        a[0, :3] = [np.inf, -np.inf, np.nan]
    m = rng.random((5, 7)) < 0.5
    m[0, :3] = False
    got = keep_where(m, a)
    assert got.dtype == a.dtype and got.shape == a.shape
    np.testing.assert_array_equal(
        got.view(f"u{a.itemsize}"), np.where(m, a, 0).astype(dtype).view(f"u{a.itemsize}")
    )
    assert not np.isnan(got[0, :3]).any()


def test_keep_where_broadcasts_and_takes_zero_d_and_complex():
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(
        keep_where(np.array([[True], [False]]), a), [[0, 1, 2], [0, 0, 0]]
    )
    np.testing.assert_array_equal(keep_where(np.array([True, False, True]), 5.0), [5.0, 0.0, 5.0])
    assert keep_where(np.bool_(False), np.float32(np.inf)) == 0.0
    z = np.array([1 + 2j, np.inf + 0j])
    np.testing.assert_array_equal(keep_where(np.array([True, False]), z), [1 + 2j, 0j])


def test_select_equals_where_bit_for_bit():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(20).astype(np.float32)
    b = rng.standard_normal(20).astype(np.float32)
    a[:2], b[2:4] = np.nan, -0.0
    m = rng.random(20) < 0.5
    np.testing.assert_array_equal(
        select(m, a, b).view(np.uint32), np.where(m, a, b).view(np.uint32)
    )
    np.testing.assert_array_equal(select(m, a, 0.0), np.where(m, a, np.float32(0)))
