"""Convolution and pooling ops: finite differences, torch, and the composed references."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F

# (N, C, H, W, O, kernel, stride, padding, dilation, groups)
CONV_GRID = [
    (1, 1, 5, 5, 2, 3, 1, 0, 1, 1),  # batch 1
    (2, 3, 7, 6, 4, 3, 1, 1, 1, 1),  # odd image size
    (2, 2, 6, 7, 3, (2, 3), 2, (1, 0), 1, 1),  # rectangular kernel, stride 2
    (2, 4, 7, 7, 4, 3, 1, "same", 2, 2),  # dilation, groups
    (2, 4, 6, 5, 4, 3, 1, "same", 1, 4),  # depthwise
    (1, 3, 8, 8, 6, (2, 2), 1, "same", 1, 3),  # even kernel 'same': asymmetric padding
    (2, 2, 9, 8, 2, 3, (2, 3), 2, (2, 1), 1),  # padding wider than the reach of stride
    (3, 2, 4, 4, 5, 1, 1, 0, 1, 1),  # 1×1
    (2, 2, 5, 5, 2, 5, 1, "valid", 1, 1),  # kernel = image
]


def _conv_inputs(rng, cfg, dtype=np.float64):
    n, c, h, w, o, k, s, p, d, g = cfg
    kk = (k, k) if isinstance(k, int) else k
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    W = rng.standard_normal((o, c // g) + kk).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    return x, W, b, dict(stride=s, padding=p, dilation=d, groups=g)


def _grads(fn, *arrays, gy_seed=1):
    ts = [ember.Tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    gy = np.random.default_rng(gy_seed).standard_normal(y.shape).astype(y.dtype)
    y.backward(gy)
    return y.array, [t.grad.array for t in ts], gy


@pytest.mark.parametrize("cfg", CONV_GRID)
def test_conv2d_matches_torch_float64(torch, cfg):
    x, W, b, kw = _conv_inputs(np.random.default_rng(0), cfg)
    y, (gx, gW, gb), gy = _grads(lambda x, W, b: F.conv2d(x, W, b, **kw), x, W, b)
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    ty = torch.nn.functional.conv2d(tx, tW, tb, **kw)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gW, tW.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cfg", CONV_GRID)
def test_conv2d_equals_composed(cfg):
    x, W, b, kw = _conv_inputs(np.random.default_rng(2), cfg)
    fast = _grads(lambda x, W, b: F.conv2d(x, W, b, **kw), x, W, b)
    slow = _grads(lambda x, W, b: F.conv2d_composed(x, W, b, **kw), x, W, b)
    np.testing.assert_allclose(fast[0], slow[0], rtol=1e-10, atol=1e-10)
    for a, c in zip(fast[1], slow[1]):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cfg", [CONV_GRID[0], CONV_GRID[2], CONV_GRID[4], CONV_GRID[5]])
def test_conv2d_gradcheck(cfg):
    n, c, h, w, o, k, s, p, d, g = cfg
    x, W, b, kw = _conv_inputs(
        np.random.default_rng(3), (1, c, min(h, 6), min(w, 6), o, k, s, p, d, g)
    )
    ts = [ember.Tensor(a, requires_grad=True) for a in (x, W, b)]
    assert ember.gradcheck(lambda x, W, b: F.conv2d(x, W, b, **kw), ts)


def test_conv2d_float32_matches_torch(torch):
    x, W, b, kw = _conv_inputs(
        np.random.default_rng(4), (4, 6, 12, 12, 8, 3, 1, 1, 1, 1), np.float32
    )
    y, (gx, gW, gb), gy = _grads(lambda x, W, b: F.conv2d(x, W, b, **kw), x, W, b)
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    ty = torch.nn.functional.conv2d(tx, tW, tb, **kw)
    ty.backward(torch.tensor(gy))
    assert y.dtype == np.float32 and gx.dtype == np.float32
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(gW, tW.grad.numpy(), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize(
    "cfg",
    [
        (1, 1, 9, 2, 3, 1, 0, 1, 1),
        (2, 4, 13, 6, 3, 2, "valid", 2, 2),
        (2, 3, 8, 3, 4, 1, "same", 1, 3),
    ],
)
def test_conv1d_matches_torch_and_gradcheck(torch, cfg):
    n, c, L, o, k, s, p, d, g = cfg
    rng = np.random.default_rng(5)
    x, W, b = (
        rng.standard_normal((n, c, L)),
        rng.standard_normal((o, c // g, k)),
        rng.standard_normal(o),
    )
    kw = dict(stride=s, padding=p, dilation=d, groups=g)
    y, (gx, gW, gb), gy = _grads(lambda x, W, b: F.conv1d(x, W, b, **kw), x, W, b)
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    ty = torch.nn.functional.conv1d(tx, tW, tb, **kw)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    for a, t in zip((gx, gW, gb), (tx, tW, tb)):
        np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-10, atol=1e-10)
    ts = [ember.Tensor(a, requires_grad=True) for a in (x, W, b)]
    assert ember.gradcheck(lambda x, W, b: F.conv1d(x, W, b, **kw), ts)


def test_conv_errors_name_the_mismatch():
    x = ember.randn(2, 3, 8, 8)
    with pytest.raises(ValueError, match="input has 3 channels"):
        F.conv2d(x, ember.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"3-D \(C, H, W\) or 4-D \(N, C, H, W\) input"):
        F.conv2d(ember.randn(8, 8), ember.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match="stride 1"):
        F.conv2d(x, ember.randn(4, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        F.conv2d(ember.randn(1, 3, 2, 2), ember.randn(4, 3, 3, 3))


# (N, C, H, W, kernel, stride, padding, dilation, ceil_mode)
POOL_GRID = [
    (1, 1, 4, 4, 2, None, 0, 1, False),
    (2, 3, 7, 6, 2, None, 0, 1, False),  # odd size: last row dropped
    (2, 2, 7, 7, 3, 2, 1, 1, False),  # overlapping, padded
    (2, 2, 7, 6, 3, 2, 1, 1, True),  # ceil mode
    (1, 2, 8, 9, (2, 3), (1, 2), (1, 1), 1, True),
    (2, 1, 9, 9, 3, 1, 1, 2, False),  # dilation (max pool only)
]


@pytest.mark.parametrize("cfg", POOL_GRID)
def test_max_pool2d_matches_torch_composed_and_gradcheck(torch, cfg):
    n, c, h, w, k, s, p, d, ceil = cfg
    x = np.random.default_rng(6).standard_normal((n, c, h, w))
    args = (k, s, p, d, ceil)
    y, (gx,), gy = _grads(lambda x: F.max_pool2d(x, *args), x)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.max_pool2d(tx, k, s if s is not None else k, p, d, ceil)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-12)
    y2, (gx2,), _ = _grads(lambda x: F.max_pool2d_composed(x, *args), x)
    np.testing.assert_allclose(y, y2)
    np.testing.assert_allclose(gx, gx2)
    assert ember.gradcheck(lambda x: F.max_pool2d(x, *args), [ember.Tensor(x, requires_grad=True)])


@pytest.mark.parametrize("include_pad", [True, False])
@pytest.mark.parametrize("cfg", [c for c in POOL_GRID if c[7] == 1])
def test_avg_pool2d_matches_torch_composed_and_gradcheck(torch, cfg, include_pad):
    n, c, h, w, k, s, p, _, ceil = cfg
    x = np.random.default_rng(7).standard_normal((n, c, h, w))
    args = (k, s, p, ceil, include_pad)
    y, (gx,), gy = _grads(lambda x: F.avg_pool2d(x, *args), x)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.avg_pool2d(tx, k, s if s is not None else k, p, ceil, include_pad)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    y2, (gx2,), _ = _grads(lambda x: F.avg_pool2d_composed(x, *args), x)
    np.testing.assert_allclose(y, y2, rtol=1e-12)
    np.testing.assert_allclose(gx, gx2, rtol=1e-12)
    assert ember.gradcheck(lambda x: F.avg_pool2d(x, *args), [ember.Tensor(x, requires_grad=True)])


def test_pool1d_and_divisor_override_match_torch(torch):
    x = np.random.default_rng(8).standard_normal((2, 3, 11))
    tx = torch.tensor(x)
    for ours, theirs in [
        (F.max_pool1d(ember.Tensor(x), 3, 2, 1), torch.nn.functional.max_pool1d(tx, 3, 2, 1)),
        (
            F.max_pool1d(ember.Tensor(x), 2, ceil_mode=True),
            torch.nn.functional.max_pool1d(tx, 2, ceil_mode=True),
        ),
        (
            F.avg_pool1d(ember.Tensor(x), 3, 2, 1, False, False),
            torch.nn.functional.avg_pool1d(tx, 3, 2, 1, False, False),
        ),
    ]:
        np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-12)
    x4 = np.random.default_rng(9).standard_normal((1, 2, 6, 6))
    ours = F.avg_pool2d(ember.Tensor(x4), 3, 2, 1, divisor_override=4).array
    theirs = torch.nn.functional.avg_pool2d(torch.tensor(x4), 3, 2, 1, divisor_override=4).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize(
    "size,out", [((7, 9), (3, 4)), ((8, 8), 1), ((5, 6), (5, 2)), ((6, 6), (None, 2))]
)
def test_adaptive_avg_pool2d_matches_torch_and_gradcheck(torch, size, out):
    x = np.random.default_rng(10).standard_normal((2, 3) + size)
    y, (gx,), gy = _grads(lambda x: F.adaptive_avg_pool2d(x, out), x)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.adaptive_avg_pool2d(tx, out)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-12)
    assert ember.gradcheck(
        lambda x: F.adaptive_avg_pool2d(x, out), [ember.Tensor(x[:1, :1], requires_grad=True)]
    )


def test_pool_errors():
    with pytest.raises(ValueError, match="at most half the kernel"):
        F.max_pool2d(ember.randn(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(ValueError, match=r"or 4-D \(N, C, H, W\) input"):
        F.avg_pool2d(ember.randn(5, 5), 2)


def test_adaptive_avg_pool_size_zero_is_empty_and_none_keeps(torch):
    """0 in output_size is a size (an empty output), None keeps the input's, as in torch."""
    import torch.nn.functional as TF

    x2 = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    x3 = np.random.default_rng(1).standard_normal((2, 3, 4, 5, 3))
    for f, g, x, sizes in (
        (F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, x2, [0, (0, 2), (None, 2), (3, None)]),
        (F.adaptive_avg_pool3d, TF.adaptive_avg_pool3d, x3, [0, (None, 0, 2), (2, None, None)]),
    ):
        for size in sizes:
            got, want = f(ember.tensor(x), size), g(torch.tensor(x), size)
            assert tuple(got.shape) == tuple(want.shape)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
