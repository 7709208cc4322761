"""MaxPool2d's backward on ties: the gradient goes to the first maximum in scan order (torch).

Plateaus are what a ReLU before the pool makes (windows of zeros), so the fast paths of the
backward (tiled windows written without zeros first; disjoint windows; overlapping ones)
are each held equal to torch on inputs full of ties, in both memory layouts ember keeps.
"""

import numpy as np
import pytest

import ember
import ember.functional as F


def _tied_input(rng, shape, dtype):
    # small integers after a ReLU: most windows hold the same value more than once
    return np.maximum(rng.integers(-2, 3, shape), 0).astype(dtype)


# (H, W, kernel, stride, padding, ceil_mode): tiled, disjoint with leftovers, overlapping,
# padded, ceil mode, strided past the window
CASES = [
    (8, 8, 2, 2, 0, False),
    (7, 9, 2, 2, 0, False),
    (8, 8, 3, 2, 1, False),
    (7, 7, 2, 2, 1, True),
    (9, 9, 3, 3, 0, False),
    (9, 8, 2, 3, 0, False),
]


@pytest.mark.parametrize("channel_major", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_max_pool2d_gradient_on_ties_equals_torch(torch, case, dtype, channel_major):
    h, w, k, s, p, ceil = case
    rng = np.random.default_rng(3)
    x = _tied_input(rng, (3, 4, h, w), dtype)
    if channel_major:  # the layout conv outputs have: memory (C, N, H, W)
        ex = ember.tensor(np.ascontiguousarray(x.swapaxes(0, 1)).swapaxes(0, 1))
        assert ex.array.strides[1] > ex.array.strides[0]
    else:
        ex = ember.tensor(x)
    ex.requires_grad = True
    y = F.max_pool2d(ex, k, s, p, ceil_mode=ceil)
    gy = rng.standard_normal(y.shape).astype(dtype)
    y.backward(ember.tensor(gy))
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.max_pool2d(tx, k, s, p, ceil_mode=ceil)
    ty.backward(torch.tensor(gy))
    np.testing.assert_array_equal(y.array, ty.detach().numpy())
    if s >= k:  # disjoint windows: each pixel's gradient is one value, so equal bits
        np.testing.assert_array_equal(ex.grad.array, tx.grad.numpy())
    else:  # overlapping: a pixel sums several windows' gradients, in another order than torch
        tol = 1e-12 if dtype == np.float64 else 1e-6
        np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: F.max_pool2d(x, 2, stride=0),
        lambda x: F.avg_pool2d(x, 2, stride=(1, 0)),
        lambda x: F.max_pool2d(x, 0),
        lambda x: F.max_pool2d(x, 2, dilation=0),
        lambda x: F.max_pool1d(x[:, :, 0], 2, stride=0),
    ],
)
def test_pool_with_a_zero_kernel_stride_or_dilation_says_so(call):
    # these divided by zero (torch: "stride should not be zero")
    with pytest.raises(ValueError, match="must be positive"):
        call(ember.randn(1, 2, 8, 8))


def test_adaptive_avg_pool_of_an_empty_image_says_so():
    with pytest.raises(ValueError, match=r"empty spatial size in \(1, 2, 0, 4\)"):
        ember.nn.AdaptiveAvgPool2d(2)(ember.randn(1, 2, 0, 4))
    with pytest.raises(ValueError, match=r"empty length in \(1, 2, 0\)"):
        ember.nn.AdaptiveAvgPool1d(2)(ember.randn(1, 2, 0))


def test_avg_pool1d_keeps_torch_one_tuples(torch):
    for args in [(3,), (3, 2, 1), ((3,),)]:
        assert repr(ember.nn.AvgPool1d(*args)) == repr(torch.nn.AvgPool1d(*args))
    x = np.random.default_rng(0).standard_normal((2, 3, 11))
    np.testing.assert_allclose(
        ember.nn.AvgPool1d(3, 2, 1)(ember.tensor(x)).array,
        torch.nn.AvgPool1d(3, 2, 1)(torch.tensor(x)).numpy(),
        rtol=1e-12,
    )


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d", "max_pool1d", "max_pool3d"])
def test_ceil_mode_window_wider_than_the_input_as_torch(torch, pool):
    # MaxPool2d(3, stride=3, dilation=2, ceil_mode=True) on 4 rows: the one window (5 wide)
    # hangs over the end, which ceil_mode allows (ember refused it); without ceil_mode, or
    # with no window start left, both refuse
    dims = int(pool[-2])
    x = np.random.default_rng(0).standard_normal((2, 3, *[4] * dims))
    kw = dict(dilation=2) if pool.startswith("max") else {}
    k = 3 if kw else 5
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey = getattr(F, pool)(ex, k, stride=3, ceil_mode=True, **kw)
    ty = getattr(torch.nn.functional, pool)(tx, k, stride=3, ceil_mode=True, **kw)
    np.testing.assert_allclose(ey.array, ty.detach().numpy(), rtol=1e-12)
    ey.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="smaller than the window"):
        getattr(F, pool)(ex, k, stride=3, ceil_mode=False, **kw)


# (dims, kernel, stride, padding, dilation, ceil_mode): tiled, overlapping, padded, dilated
NAN_CASES = [
    (1, 2, 2, 0, 1, False),
    (1, 3, 1, 1, 2, True),
    (2, 2, 2, 0, 1, False),
    (2, 3, 1, 1, 1, False),
    (2, 3, 2, 1, 2, True),
    (3, 2, 2, 0, 1, False),
    (3, 3, 1, 1, 1, False),
]


@pytest.mark.parametrize("return_indices", [False, True])
@pytest.mark.parametrize("case", NAN_CASES)
def test_max_pool_of_windows_holding_nans_picks_the_last_nan_as_torch(torch, case, return_indices):
    # torch's kernels take `val > max || isnan(val)`: a window with NaNs reports (and sends
    # its gradient to) its last NaN, while ties among numbers still go to the first maximum
    dims, k, s, p, d, ceil = case
    rng = np.random.default_rng(dims * 10 + k)
    shape = (2, 3) + (7,) * dims
    x = np.round(rng.standard_normal(shape)).astype(np.float32)
    x[rng.random(shape) < 0.25] = np.nan
    gy = None
    results = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        pool = getattr(lib.nn.functional, f"max_pool{dims}d")
        out = pool(t, k, s, p, d, ceil_mode=ceil, return_indices=return_indices)
        y = out[0] if return_indices else out
        if gy is None:
            gy = np.arange(np.prod(y.shape), dtype=np.float32).reshape(tuple(y.shape))
        (y * lib.tensor(gy)).sum().backward()
        index = out[1].numpy() if return_indices else None
        results.append((y.detach().numpy(), index, t.grad.numpy()))
    (ey, ei, eg), (ty, ti, tg) = results
    assert np.isnan(ty).any()
    np.testing.assert_array_equal(ey, ty)
    if return_indices:
        np.testing.assert_array_equal(ei, ti)
    np.testing.assert_array_equal(eg, tg)
