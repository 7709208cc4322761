"""Parity with torch found wanting by an audit of the Tensor and autograd core: each test
holds one computation against torch (values, dtypes and gradients), at the edges where the two
used to differ (ties, zeros, nans, tensor bounds, in-place writes)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.core_reference import compare_same_code

TIES = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_dim_route_the_gradient_to_the_returned_index(torch, name, keepdim):
    # torch's x.max(dim) sends the whole gradient to the element it names (the first of a tie);
    # only x.max()/amax share it among the ties
    compare_same_code(torch, lambda L, x: getattr(x, name)(1, keepdim=keepdim), [TIES])
    compare_same_code(torch, lambda L, x: getattr(x, name)(dim=0), [TIES])
    compare_same_code(torch, lambda L, x: getattr(x, name)(), [TIES])


def test_max_with_nan_gives_the_nan_the_gradient(torch):
    x = np.array([[1.0, np.nan, 2.0], [np.nan, 0.0, np.nan]])
    compare_same_code(torch, lambda L, x: x.max(1), [x])
    compare_same_code(torch, lambda L, x: x.max(), [x])
    compare_same_code(torch, lambda L, x: x.min(), [x])


@pytest.mark.parametrize("fn", ["method", "clamp", "clip"])
def test_clamp_with_tensor_bounds_gives_each_bound_its_gradient(torch, fn):
    # ties at either bound keep the gradient in x; where lo > hi the result is hi everywhere
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 0.5])
    lo = np.array([-1.0, -1.0, 1.0, 1.0, 0.0, 2.0])
    hi = np.array([1.0, 0.0, 2.0, 1.0, 1.0, 1.0])
    clamp = {"method": lambda L, x, *b: x.clamp(*b), "clamp": lambda L, *a: L.clamp(*a)}.get(
        fn, lambda L, *a: L.clip(*a)
    )
    compare_same_code(torch, lambda L, x, lo, hi: clamp(L, x, lo, hi), [x, lo, hi])
    compare_same_code(torch, lambda L, x, lo: clamp(L, x, lo, None), [x, lo])
    compare_same_code(torch, lambda L, x, hi: clamp(L, x, None, hi), [x, hi])
    compare_same_code(torch, lambda L, x, lo: clamp(L, x[:, None], lo[None, :3]), [x, lo])


def test_atan2_gradient_is_zero_at_the_origin(torch):
    y, x = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -2.0])
    compare_same_code(torch, lambda L, y, x: L.atan2(y, x), [y, x])


@pytest.mark.parametrize(
    "f",
    [
        lambda L, x: x.std(),
        lambda L, x: x.std(dim=1, correction=0),
        lambda L, x: L.std(x, dim=0, keepdim=True),
        lambda L, x: L.std_mean(x, dim=1)[0],
        lambda L, x: x[:1, :1].std(),  # one element: no degrees of freedom, nan
        lambda L, x: x[:1].var(dim=0),
    ],
)
def test_std_of_a_constant_has_zero_gradient(torch, f):
    x = np.array([[1.5, 1.5, 1.5], [1.0, 2.0, 4.0]])
    compare_same_code(torch, f, [x])


@pytest.mark.parametrize(
    "f",
    [
        lambda L, x, y: x**y,
        lambda L, x, y: x**0,
        lambda L, x, y: L.pow(0.0, y),
        lambda L, x, y: (-2.0) ** y,
        lambda L, x, y: x[:, None] ** y[None, :],
    ],
)
def test_pow_gradients_at_zero_and_negative_bases_follow_torch(torch, f):
    # d(x^0)/dx = 0 at x = 0 (not 0·0⁻¹); d(0^y)/dy = 0 for y ≥ 0; log of a negative base: nan
    x, y = np.array([0.0, 0.0, -2.0, 3.0]), np.array([0.0, 2.0, 2.0, -1.0])
    compare_same_code(torch, f, [x, y])


def test_maximum_minimum_promote_as_torch():
    # int64 with float32 is float32 (NumPy: float64); a 0-d tensor of the same kind does not
    # widen a dimensioned one (int64 scalar with uint8 stays uint8)
    i, f = ember.tensor([1, 2]), ember.tensor([1.5, 0.5])
    for out in (i.maximum(f), i.minimum(f), i.max(f), ember.max(i, f), ember.min(f, i)):
        assert out.dtype == np.float32
    u = ember.tensor([1, 2], dtype=ember.uint8)
    assert ember.tensor(3).maximum(u).dtype == np.uint8 == u.minimum(ember.tensor(3)).dtype
