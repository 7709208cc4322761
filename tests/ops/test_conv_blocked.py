"""The blocked im2col convolution (ops/conv_blocked.py) against one-GEMM im2col and torch."""

from __future__ import annotations

import numpy as np
import pytest

from ember.ops import conv as C
from ember.ops import conv_blocked as B
from ember.ops import im2col


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few KB, so that small test images make several (the last one partial)."""
    monkeypatch.setattr(B, "BLOCK_BYTES", 4096)


def _windows(x, kernel, stride, padding, dilation):
    (pt, pb), (pl, pr) = padding
    ho = im2col.out_size(x.shape[2], kernel[0], stride[0], pt + pb, dilation[0])
    wo = im2col.out_size(x.shape[3], kernel[1], stride[1], pl + pr, dilation[1])
    xpad = im2col.pad2d(x, padding)
    return im2col.windows(xpad, kernel, stride, dilation, (ho, wo), "cuvnij")


# (N, C, H, W, O, kernel, stride, padding, dilation)
GRID = [
    (7, 1, 12, 12, 6, (5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1)),  # LeNet's first layer, small
    (5, 2, 9, 7, 3, (3, 3), (2, 1), ((1, 0), (1, 1)), (1, 1)),  # stride, uneven padding
    (3, 1, 10, 11, 8, (3, 2), (1, 1), ((0, 0), (0, 0)), (2, 1)),  # dilation, no padding
    (1, 3, 6, 6, 4, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),  # batch 1: one block
]


@pytest.mark.parametrize("cfg", GRID)
def test_blocked_equals_one_gemm_im2col(small_blocks, cfg):
    n, c, h, w, o, k, s, p, d = cfg
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((o, c) + k)
    view = _windows(x, k, s, p, d)
    y, cols, nb = B.conv_blocked(view, weight)
    if n > 1:
        assert cols.shape[0] > 1  # the test covers several blocks
    ref = np.einsum("ok,knij->onij", weight.reshape(o, -1), view.reshape(-1, *view.shape[3:]))
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    gw = B.conv_blocked_grad_weight(cols, nb, gy, y.shape[3])
    ref_gw = np.einsum("onij,knij->ok", gy, view.reshape(-1, *view.shape[3:]))
    np.testing.assert_allclose(gw, ref_gw, rtol=1e-12, atol=1e-12)


def test_columns_past_the_output_width_take_no_gradient(small_blocks):
    """With Wc > Wo computed columns per row (conv.py's full-width columns), the extra
    columns' values must not reach ∂L/∂W: the gradient is widened with zeros."""
    rng = np.random.default_rng(2)
    n, o, ho, wo, wc = 5, 3, 4, 5, 7
    cols_full = rng.standard_normal((n, 2, ho, wc))  # 2 column rows, per image (ho, wc)
    nb = 2
    blocks = -(-n // nb)
    cols = np.zeros((blocks, 2, nb * ho * wc))
    for b in range(blocks):
        part = cols_full[b * nb : b * nb + nb]
        cols[b, :, : part.shape[0] * ho * wc] = part.transpose(1, 0, 2, 3).reshape(2, -1)
    gy = rng.standard_normal((o, n, ho, wo))
    gw = B.conv_blocked_grad_weight(cols, nb, gy, wc)
    ref = np.einsum("onij,nkij->ok", gy, cols_full[..., :wo])
    np.testing.assert_allclose(gw, ref, rtol=1e-12, atol=1e-12)


def test_blocked_pays_only_for_skinny_products_on_large_inputs():
    lenet_conv1 = (6, 1, 5, 5)
    assert B.blocked_pays(lenet_conv1, 1, 64 * 28 * 32, 4)
    assert not B.blocked_pays(lenet_conv1, 1, 4 * 28 * 32, 4)  # fits in cache already
    assert not B.blocked_pays((16, 6, 5, 5), 1, 64 * 10 * 14, 4)  # LeNet's second: wide
    assert not B.blocked_pays((8, 2, 3, 3), 2, 10**6, 4)  # groups


# Conv2d with the blocked path forced: (N, C, H, W, O, kernel, stride, padding, dilation,
# groups, bias); 1-D when H is None
LAYER_GRID = [
    (6, 1, 12, 12, 6, 5, 1, 2, 1, 1, True),  # LeNet's first layer, small
    (5, 2, 9, 8, 3, 3, 2, 1, 1, 1, False),  # stride 2 (windows, not full-width columns)
    (4, 3, 10, 7, 4, (2, 3), 1, "same", (2, 1), 1, True),  # 'same' with an even kernel, dilated
    (3, 2, None, 11, 5, 3, 1, 1, 1, 1, True),  # 1-D
    (4, 4, 8, 8, 4, 3, 1, 1, 1, 2, True),  # groups: runs the one-GEMM im2col
]


@pytest.mark.parametrize("needs", [(True, True, True), (False, True, True), (True, False, False)])
@pytest.mark.parametrize("cfg", LAYER_GRID)
def test_conv_layer_blocked_equals_torch(torch, small_blocks, monkeypatch, cfg, needs):
    import ember
    import ember.functional as F

    monkeypatch.setattr(C, "POLICY", "blocked")
    n, c, h, w, o, k, s, p, d, g, has_bias = cfg
    one_d = h is None
    rng = np.random.default_rng(4)
    x = rng.standard_normal((n, c, w) if one_d else (n, c, h, w))
    ks = (k,) if one_d else ((k, k) if isinstance(k, int) else k)
    weight = rng.standard_normal((o, c // g) + ks)
    bias = rng.standard_normal(o) if has_bias else None
    arrays = [x, weight] + ([bias] if has_bias else [])
    ts = [ember.Tensor(a, requires_grad=r) for a, r in zip(arrays, needs)]
    conv, tconv = (
        (F.conv1d, torch.nn.functional.conv1d) if one_d else (F.conv2d, torch.nn.functional.conv2d)
    )
    y = conv(*ts, stride=s, padding=p, dilation=d, groups=g)
    assert (y._ctx.images_per_block is None) == (g > 1)
    gy = rng.standard_normal(y.shape)
    y.backward(ember.Tensor(gy))
    tts = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, needs)]
    ty = tconv(*tts, stride=s, padding=p, dilation=d, groups=g)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y.array, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    for t, tt in zip(ts, tts):
        if tt.requires_grad:
            np.testing.assert_allclose(t.grad.array, tt.grad.numpy(), rtol=1e-10, atol=1e-10)
        else:
            assert t.grad is None


def test_auto_runs_lenets_first_convolution_blocked_and_its_second_in_one_gemm():
    import ember
    import ember.functional as F

    x = ember.randn(64, 1, 28, 28)
    y1 = F.conv2d(x, ember.randn(6, 1, 5, 5, requires_grad=True), padding=2)
    y2 = F.conv2d(ember.randn(64, 6, 14, 14), ember.randn(16, 6, 5, 5, requires_grad=True))
    assert y1._ctx.images_per_block is not None
    assert y2._ctx.images_per_block is None
