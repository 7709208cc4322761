"""Winograd F(2×2, 3×3) convolution: forced over a grid, held to gradcheck, torch and im2col.

``ember.ops.conv.POLICY`` picks the algorithm; every case checks that the op took the path
it was told to (``fn.winograd``), so the Winograd code is never tested by accident only.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import backend_blas
from ember.ops import conv as C
from ember.ops import conv_winograd as CW


@pytest.fixture
def policy(monkeypatch):
    """Set C.POLICY inside a test (monkeypatch restores it)."""
    return lambda name: monkeypatch.setattr(C, "POLICY", name)


def _inputs(n, c, o, h, w, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    W = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    gy = rng.standard_normal((n, o, h, w)).astype(dtype)
    return x, W, b, gy


def _run(arrays, gy, needs=None):
    """Whether F.conv2d(x, W[, b], padding=1) ran Winograd, y, the gradients and what the
    Winograd forward saved for the backward ((planes, frames); None on the other paths)."""
    needs = needs or (True,) * len(arrays)
    ts = [ember.Tensor(a, requires_grad=r) for a, r in zip(arrays, needs, strict=True)]
    y = F.conv2d(*ts, padding=1)
    ctx = y._ctx
    took, saved = ctx.winograd, getattr(ctx, "saved", None)  # backward frees what ctx holds
    y.backward(gy)
    grads = [None if t.grad is None else t.grad.array for t in ts]
    return took, y.array, grads, saved


def _torch_run(torch, arrays, gy):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = torch.nn.functional.conv2d(*ts, padding=1)
    y.backward(torch.tensor(gy))
    return y.detach().numpy(), [t.grad.numpy() for t in ts]


def _rel(a, ref) -> float:
    return float(np.abs(a - ref).max() / max(np.abs(ref).max(), 1e-300))


@pytest.mark.parametrize("hw", [(4, 6), (5, 5), (6, 7)])
def test_winograd_gradcheck(policy, hw):
    x, W, b, _ = _inputs(2, 3, 4, *hw, seed=1)
    policy("winograd")
    ts = [ember.Tensor(a, requires_grad=True) for a in (x, W, b)]
    assert F.conv2d(*ts, padding=1)._ctx.winograd
    assert ember.gradcheck(lambda x, W, b: F.conv2d(x, W, b, padding=1), ts)


# (N, C, O, H, W, bias): batch 1 and 3, odd and even sizes, C ≠ O, one-pixel rows/columns
GRID = [
    (1, 3, 4, 4, 6, True),
    (3, 5, 2, 5, 5, False),
    (3, 4, 4, 6, 7, True),
    (1, 2, 3, 7, 3, False),
    (3, 3, 5, 1, 4, True),
    (2, 4, 3, 5, 1, True),
    (1, 1, 1, 2, 2, False),
    (3, 40, 36, 9, 10, True),  # above the auto threshold; more than one block per image set
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cfg", GRID)
def test_winograd_matches_torch(torch, policy, cfg, dtype):
    n, c, o, h, w, bias = cfg
    x, W, b, gy = _inputs(n, c, o, h, w, dtype, seed=2)
    arrays = (x, W, b) if bias else (x, W)
    policy("winograd")
    took, y, grads, _ = _run(arrays, gy)
    assert took and y.dtype == dtype and all(g.dtype == dtype for g in grads)
    ty, tgrads = _torch_run(torch, arrays, gy)
    tol = 1e-10 if dtype == np.float64 else 1e-5
    assert _rel(y, ty) < tol
    for g, tg in zip(grads, tgrads, strict=True):
        assert g.shape == tg.shape and _rel(g, tg) < tol


def test_basicblock_shape_float32_matches_torch(torch, policy):
    """The ResNet BasicBlock convolution, 64 → 64 at 32×32, under the default policy."""
    x, W, b, gy = _inputs(2, 64, 64, 32, 32, np.float32, seed=3)
    policy("auto")
    took, y, grads, _ = _run((x, W, b), gy)
    assert took
    ty, tgrads = _torch_run(torch, (x, W, b), gy)
    assert _rel(y, ty) < 1e-5
    for g, tg in zip(grads, tgrads, strict=True):
        assert _rel(g, tg) < 1e-5


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("block", [50, 200])
def test_winograd_blocks_and_threads_equal_im2col(policy, monkeypatch, workers, block):
    """Many blocks (a short last one), one or several cores: the same sums as im2col."""
    monkeypatch.setattr(backend_blas, "SPLIT_WORKERS", workers)
    monkeypatch.setattr(CW, "BLOCK", block)
    x, W, b, gy = _inputs(7, 3, 4, 5, 6, seed=4)
    policy("im2col")
    _, y_ref, grads_ref, _ = _run((x, W, b), gy)
    policy("winograd")
    took, y, grads, saved = _run((x, W, b), gy)
    assert took and len(saved[1].blocks) > 2
    np.testing.assert_allclose(y, y_ref, rtol=1e-10, atol=1e-10)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "needs", [(True, False, False), (False, True, False), (False, False, True), (True, True, False)]
)
def test_winograd_computes_only_the_gradients_asked_for(policy, needs):
    x, W, b, gy = _inputs(2, 3, 4, 5, 6, seed=5)
    policy("im2col")
    _, _, grads_ref, _ = _run((x, W, b), gy)
    policy("winograd")
    took, _, grads, saved = _run((x, W, b), gy, needs)
    assert took and (saved[0] is None) == (not needs[1])  # x's planes only for ∂L/∂W
    for g, g_ref, need in zip(grads, grads_ref, needs, strict=True):
        if need:
            np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-10)
        else:
            assert g is None


def test_winograd_without_grad_keeps_nothing(policy):
    x, W, b, _ = _inputs(2, 3, 4, 5, 6, seed=6)
    policy("im2col")
    y_ref = F.conv2d(ember.Tensor(x), ember.Tensor(W), ember.Tensor(b), padding=1).array
    policy("winograd")
    with ember.no_grad():
        y = F.conv2d(ember.Tensor(x), ember.Tensor(W), ember.Tensor(b), padding=1)
    np.testing.assert_allclose(y.array, y_ref, rtol=1e-10, atol=1e-10)


def _path(x_shape, w_shape, conv=F.conv2d, **kw) -> str:
    x = ember.zeros(*x_shape)
    ctx = conv(x, ember.zeros(*w_shape, requires_grad=True), **kw)._ctx
    return "winograd" if ctx.winograd else "shifted" if ctx.shifted else "im2col"


def test_default_policy_picks_winograd_only_where_it_applies_and_pays(policy):
    policy("auto")
    block = ((2, 64, 32, 32), (64, 64, 3, 3))
    assert _path(*block, padding=1) == "winograd"  # ResNet BasicBlock
    # enough channels for the image size (conv.py's WINOGRAD_MIN_* and their measurements)
    assert _path((1, 128, 16, 17), (128, 128, 3, 3), padding=1) == "winograd"
    assert _path((1, 256, 8, 8), (256, 256, 3, 3), padding=1) == "winograd"
    assert _path((1, 64, 16, 16), (64, 64, 3, 3), padding=1) != "winograd"
    assert _path((1, 128, 8, 8), (128, 128, 3, 3), padding=1) != "winograd"
    assert _path((1, 512, 7, 7), (512, 512, 3, 3), padding=1) != "winograd"
    assert _path((1, 32, 32, 32), (32, 32, 3, 3), padding=1) != "winograd"
    assert _path(*block, padding=1, stride=2) == "im2col"
    assert _path(*block, padding=2, dilation=2) == "shifted"
    assert _path((2, 64, 32, 32), (64, 32, 3, 3), padding=1, groups=2) == "shifted"
    assert _path(*block, padding=0) == "shifted"
    assert _path((2, 16, 32, 32), (64, 16, 3, 3), padding=1) == "im2col"  # C = 16
    assert _path((2, 64, 32, 32), (16, 64, 3, 3), padding=1) != "winograd"  # O = 16
    assert _path((2, 64, 5, 5), (64, 64, 5, 5), padding=1) != "winograd"  # 5×5
    assert _path((2, 64, 256), (64, 64, 3), conv=F.conv1d, padding=1) == "shifted"  # 1-D


def test_forced_policies(policy):
    block = ((2, 8, 6, 6), (8, 8, 3, 3))
    policy("winograd")  # below the channel threshold: forced anyway
    assert _path(*block, padding=1) == "winograd"
    # where Winograd does not compute the convolution, the choice of "auto"
    assert _path(*block, padding=1, stride=2) == "im2col"
    assert _path((2, 64, 16), (64, 64, 3), conv=F.conv1d, padding=1) != "winograd"
    assert _path((2, 8, 6, 6), (8, 4, 3, 3), padding=1, groups=2) != "winograd"
    policy("shifted")
    assert _path((2, 64, 32, 32), (64, 64, 3, 3), padding=1) == "shifted"
    policy("im2col")
    assert _path((2, 64, 32, 32), (64, 64, 3, 3), padding=1) == "im2col"
