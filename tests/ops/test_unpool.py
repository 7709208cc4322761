"""Max pooling with indices and max unpooling, against torch and by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import nn

GRID = [  # kernel, stride, padding, dilation, ceil_mode, input (H, W)
    (2, 2, 0, 1, False, (8, 8)),
    (3, 2, 1, 1, False, (7, 9)),  # overlapping windows: a pixel can be the max of two
    (3, 1, 1, 1, False, (5, 5)),
    ((2, 3), (1, 2), (1, 1), 1, True, (6, 7)),
    (3, 2, 1, 2, False, (9, 8)),
    (2, 2, 0, 1, True, (5, 7)),
]


@pytest.mark.parametrize("k,s,p,d,ceil,hw", GRID)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool2d_indices_values_and_gradient_equal_torch(torch, k, s, p, d, ceil, hw, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, *hw)).astype(dtype)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ei = F.max_pool2d(ex, k, s, p, d, ceil_mode=ceil, return_indices=True)
    ty, ti = torch.nn.functional.max_pool2d(tx, k, s, p, d, ceil_mode=ceil, return_indices=True)
    np.testing.assert_array_equal(ey.array, ty.detach().numpy())
    np.testing.assert_array_equal(ei.array, ti.numpy())
    assert not ei.requires_grad and ei.dtype == np.int64
    gy = np.random.default_rng(1).standard_normal(ey.shape).astype(dtype)
    ey.backward(gy)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), rtol=1e-6, atol=1e-6)
    # and the same gradient as the pool without indices
    ex2 = ember.tensor(x, requires_grad=True)
    F.max_pool2d(ex2, k, s, p, d, ceil_mode=ceil).backward(gy)
    tol = 1e-12 if dtype == np.float64 else 1e-6  # overlapping windows: sums in another order
    np.testing.assert_allclose(ex.grad.array, ex2.grad.array, rtol=tol, atol=tol)


def test_ties_point_at_the_first_maximum_in_scan_order_as_torch(torch):
    x = np.zeros((1, 2, 6, 6))
    x[0, 1, 2:4, 2:4] = 1.0  # a plateau of maxima
    ey, ei = F.max_pool2d(ember.tensor(x), 3, 1, 1, return_indices=True)
    ty, ti = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(ei.array, ti.numpy())


def test_max_pool1d_indices_equal_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 11))
    ey, ei = F.max_pool1d(ember.tensor(x), 3, 2, 1, return_indices=True)
    ty, ti = torch.nn.functional.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(ey.array, ty.numpy())
    np.testing.assert_array_equal(ei.array, ti.numpy())


@pytest.mark.parametrize(
    "k,s,p,hw,out",
    [(2, 2, 0, (8, 6), None), (3, 2, 1, (9, 7), None), (2, 2, 0, (9, 7), (9, 7))],
)
def test_max_unpool2d_equals_torch_forward_and_backward(torch, k, s, p, hw, out):
    x = np.random.default_rng(0).standard_normal((2, 3, *hw))
    ty, ti = torch.nn.functional.max_pool2d(torch.tensor(x), k, s, p, return_indices=True)
    y = ty.numpy()
    ey, ety = ember.tensor(y, requires_grad=True), torch.tensor(y, requires_grad=True)
    ez = F.max_unpool2d(ey, ember.tensor(ti.numpy()), k, s, p, output_size=out)
    tz = torch.nn.functional.max_unpool2d(ety, ti, k, s, p, output_size=out)
    np.testing.assert_array_equal(ez.array, tz.detach().numpy())
    gz = np.random.default_rng(1).standard_normal(ez.shape)
    ez.backward(gz)
    tz.backward(torch.tensor(gz))
    np.testing.assert_array_equal(ey.grad.array, ety.grad.numpy())


def test_modules_round_trip_like_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 4, 8, 8)).astype(np.float32)
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    tpool, tunpool = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    y, i = pool(ember.tensor(x))
    ty, ti = tpool(torch.tensor(x))
    np.testing.assert_array_equal(unpool(y, i).array, tunpool(ty, ti).numpy())
    y1, i1 = nn.MaxPool1d(2, return_indices=True)(ember.tensor(x[:, :, 0]))
    ty1, ti1 = torch.nn.MaxPool1d(2, return_indices=True)(torch.tensor(x[:, :, 0]))
    np.testing.assert_array_equal(
        nn.MaxUnpool1d(2)(y1, i1).array, torch.nn.MaxUnpool1d(2)(ty1, ti1).numpy()
    )


def test_gradcheck_pool_with_indices_and_unpool():
    rng = np.random.default_rng(0)
    x = ember.tensor(
        rng.permutation(2 * 2 * 7 * 6).reshape(2, 2, 7, 6) * 0.1, requires_grad=True
    )  # fmt: skip  (distinct values: no ties at ±h)
    ember.gradcheck(lambda t: F.max_pool2d(t, 3, 2, 1, return_indices=True)[0], [x])
    _, idx = F.max_pool2d(x, 2, return_indices=True)
    y = ember.tensor(rng.standard_normal(idx.shape), requires_grad=True)
    ember.gradcheck(lambda t: F.max_unpool2d(t, idx, 2), [y])


def test_unpool_rejects_indices_outside_the_output_and_of_the_wrong_shape():
    y = ember.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 16\).*got values from 0 to 99"):
        F.max_unpool2d(y, ember.tensor(np.array([[[[0, 1], [2, 99]]]])), 2)
    with pytest.raises(ValueError, match="indices must be integers of the input's shape"):
        F.max_unpool2d(y, ember.tensor(np.zeros((1, 1, 2, 3), dtype=np.int64)), 2)
    with pytest.raises(ValueError, match="indices must be integers"):
        F.max_unpool2d(y, ember.zeros(1, 1, 2, 2), 2)
