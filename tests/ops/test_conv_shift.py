"""The shifted-GEMM convolution path: forced over a grid, held equal to im2col and torch.

``ember.ops.conv.POLICY`` picks the algorithm; each case runs both and checks the op took
the path it was told to (``fn.shifted``), so neither path is tested by accident only.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import backend, backend_blas
from ember.backend import matmul_into
from ember.ops import conv as C


@pytest.fixture
def policy():
    """Set C.POLICY inside a test; restored afterwards whatever happens."""
    saved = C.POLICY

    def set_policy(name: str) -> None:
        C.POLICY = name

    yield set_policy
    C.POLICY = saved


# (N, C, H, W, O, kernel, padding, dilation, groups); all stride 1, the shifted path's domain
SHIFT_GRID = [
    (1, 3, 5, 5, 2, 3, 0, 1, 1),  # batch 1, no padding
    (2, 3, 7, 6, 4, 3, 1, 1, 1),  # odd sizes
    (2, 2, 6, 7, 3, 1, 0, 1, 1),  # 1×1: X is the input itself, no copy
    (2, 2, 6, 5, 3, 1, 2, 1, 1),  # 1×1 with padding (outputs on the border see only zeros)
    (2, 3, 5, 6, 4, 3, 3, 1, 1),  # padding wider than the kernel's reach: frames of Ho × Wo
    (2, 3, 9, 8, 4, 5, 2, 1, 1),  # 5×5
    (1, 4, 8, 9, 6, (2, 2), "same", 1, 1),  # even kernel 'same': asymmetric padding (0, 1)
    (2, 4, 7, 7, 4, 3, "same", 2, 2),  # dilation 2, groups 2
    (2, 3, 9, 7, 3, 5, (2, 1), (1, 2), 1),  # mixed padding and dilation per axis
    (2, 2, 5, 5, 2, 5, "valid", 1, 1),  # kernel = image: one output pixel per image
    (2, 40, 6, 6, 18, 3, 1, 1, 1),  # above the auto crossover in channels
    (2, 6, 6, 6, 6, 3, 1, 1, 3),  # groups with 2 channels each
    (3, 2, 4, 4, 2, (3, 1), (1, 0), 1, 2),  # depthwise-like, rectangular kernel
]


def _inputs(cfg, seed=0):
    n, c, h, w, o, k, p, d, g = cfg
    kk = (k, k) if isinstance(k, int) else k
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    W = rng.standard_normal((o, c // g) + kk)
    b = rng.standard_normal(o)
    return x, W, b, dict(padding=p, dilation=d, groups=g)


def _run(conv, arrays, kw, gy=None):
    ts = [ember.Tensor(a, requires_grad=True) for a in arrays]
    y = conv(*ts, **kw)
    path = y._ctx.shifted
    if gy is None:
        gy = np.random.default_rng(7).standard_normal(y.shape)
    y.backward(gy)
    return path, y.array, [t.grad.array for t in ts], gy


def _assert_close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cfg", SHIFT_GRID)
def test_shifted_equals_im2col_and_torch_float64(torch, policy, cfg):
    x, W, b, kw = _inputs(cfg)
    policy("shifted")
    took_shifted, y, grads, gy = _run(F.conv2d, (x, W, b), kw)
    policy("im2col")
    took_shifted_ref, y_ref, grads_ref, _ = _run(F.conv2d, (x, W, b), kw, gy)
    assert took_shifted and not took_shifted_ref
    _assert_close(y, y_ref)
    for g, g_ref in zip(grads, grads_ref):
        _assert_close(g, g_ref)
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    ty = torch.nn.functional.conv2d(tx, tW, tb, **kw)
    ty.backward(torch.tensor(gy))
    _assert_close(y, ty.detach().numpy())
    for g, t in zip(grads, (tx, tW, tb)):
        _assert_close(g, t.grad.numpy())


@pytest.mark.parametrize("cfg", [SHIFT_GRID[1], SHIFT_GRID[5], SHIFT_GRID[6], SHIFT_GRID[7]])
def test_shifted_gradcheck(policy, cfg):
    n, c, h, w, o, k, p, d, g = cfg
    x, W, b, kw = _inputs((1, c, min(h, 6), min(w, 6), o, k, p, d, g), seed=3)
    policy("shifted")
    ts = [ember.Tensor(a, requires_grad=True) for a in (x, W, b)]
    assert F.conv2d(*ts, **kw)._ctx.shifted
    assert ember.gradcheck(lambda x, W, b: F.conv2d(x, W, b, **kw), ts)


@pytest.mark.parametrize(
    "cfg",
    [(1, 3, 11, 4, 3, 1, 1, 1), (2, 4, 13, 6, 5, "same", 2, 2), (2, 40, 9, 8, 3, 2, 1, 1)],
)
def test_shifted_conv1d_matches_torch_and_gradcheck(torch, policy, cfg):
    n, c, L, o, k, p, d, g = cfg
    rng = np.random.default_rng(5)
    x, W, b = (rng.standard_normal(s) for s in ((n, c, L), (o, c // g, k), (o,)))
    kw = dict(padding=p, dilation=d, groups=g)
    policy("shifted")
    took_shifted, y, grads, gy = _run(F.conv1d, (x, W, b), kw)
    assert took_shifted
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    ty = torch.nn.functional.conv1d(tx, tW, tb, **kw)
    ty.backward(torch.tensor(gy))
    _assert_close(y, ty.detach().numpy())
    for g_, t in zip(grads, (tx, tW, tb)):
        _assert_close(g_, t.grad.numpy())
    ts = [ember.Tensor(a[:1], requires_grad=True) for a in (x,)] + [
        ember.Tensor(a, requires_grad=True) for a in (W, b)
    ]
    assert ember.gradcheck(lambda x, W, b: F.conv1d(x, W, b, **kw), ts)


def test_shifted_float32_matches_torch(torch, policy):
    x, W, b, kw = _inputs((4, 24, 12, 12, 16, 3, 1, 1, 1), seed=4)
    x, W, b = (a.astype(np.float32) for a in (x, W, b))
    policy("shifted")
    took_shifted, y, (gx, gW, gb), gy = _run(F.conv2d, (x, W, b), kw)
    assert took_shifted and y.dtype == np.float32 and gx.dtype == gW.dtype == np.float32
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    ty = torch.nn.functional.conv2d(tx, tW, tb, **kw)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(gW, tW.grad.numpy(), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("needs", [(True, False), (False, True)])
def test_shifted_computes_only_the_gradients_asked_for(policy, needs):
    x, W, b, kw = _inputs(SHIFT_GRID[1])
    policy("im2col")
    tx, tW = ember.Tensor(x, requires_grad=True), ember.Tensor(W, requires_grad=True)
    F.conv2d(tx, tW, None, **kw).sum().backward()
    policy("shifted")
    sx, sW = ember.Tensor(x, requires_grad=needs[0]), ember.Tensor(W, requires_grad=needs[1])
    y = F.conv2d(sx, sW, None, **kw)
    assert y._ctx.shifted and (y._ctx.X is None) == (not needs[1])
    y.sum().backward()
    for t, ref, need in ((sx, tx, needs[0]), (sW, tW, needs[1])):
        if need:
            _assert_close(t.grad.array, ref.grad.array)
        else:
            assert t.grad is None


def test_auto_policy_picks_by_shape(policy):
    policy("auto")

    def path(x_shape, w_shape, **kw):
        x = ember.zeros(*x_shape)
        return F.conv2d(x, ember.zeros(*w_shape, requires_grad=True), **kw)._ctx.shifted

    assert path((2, 32, 32, 32), (64, 32, 3, 3), padding=1)  # 3×3 pad 1, too few for Winograd
    assert not path((2, 64, 32, 32), (64, 64, 3, 3), padding=1)  # BasicBlock: Winograd
    assert not path((2, 1, 28, 28), (6, 1, 5, 5), padding=2)  # LeNet conv1: C = 1
    assert not path((2, 64, 32, 32), (64, 64, 3, 3), padding=1, stride=2)  # stride 2
    assert path((2, 64, 8, 8), (64, 64, 3, 3), padding=1)  # grid 9·9 for 8·8 outputs
    assert not path((2, 64, 4, 4), (64, 64, 3, 3), padding=1)  # grid 5·5 for 4·4 outputs
    assert not path((2, 16, 32, 32), (64, 16, 3, 3), padding=1)  # too few channels
    policy("shifted")
    assert not path((2, 64, 8, 8), (64, 64, 3, 3), padding=1, stride=2)  # im2col regardless


@pytest.fixture(params=["blas", "numpy"])
def gemm_route(request, monkeypatch):
    """Run a test through NumPy's bundled CBLAS (where found) and through the fallback."""
    if request.param == "numpy":
        monkeypatch.setattr(backend_blas, "_gemm_functions", {})
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("a_t", [False, True])
@pytest.mark.parametrize("b_t", [False, True])
def test_matmul_into_views_and_accumulation(gemm_route, dtype, a_t, b_t):
    rng = np.random.default_rng(0)
    big_a = rng.standard_normal((9, 14)).astype(dtype)
    big_b = rng.standard_normal((12, 15)).astype(dtype)
    a = big_a.T[2:9, 1:6] if a_t else big_a[1:8, 2:7]  # (7, 5), column- or row-strided view
    b = big_b[1:6, 3:14] if not b_t else big_b.T[3:8, 1:12]  # (5, 11)
    assert a.shape == (7, 5) and b.shape == (5, 11)
    out_buf = rng.standard_normal((10, 13)).astype(dtype)
    start = out_buf.copy()
    out = out_buf[2:9, 1:12]  # a row-strided view of (7, 11)
    matmul_into(a, b, out)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=rtol, atol=rtol)
    matmul_into(a, b, out, accumulate=True)
    np.testing.assert_allclose(out, 2 * (a.astype(np.float64) @ b), rtol=rtol, atol=rtol)
    outside = np.ones(out_buf.shape, bool)
    outside[2:9, 1:12] = False
    np.testing.assert_array_equal(out_buf[outside], start[outside])  # nothing else written


def _assert_shifted_equals_im2col(policy, cfg, seed):
    """Output and all three gradients of the shifted path equal im2col's (forced each way)."""
    x, W, b, kw = _inputs(cfg, seed=seed)
    policy("im2col")
    _, y_ref, grads_ref, gy = _run(F.conv2d, (x, W, b), kw)
    policy("shifted")
    took_shifted, y, grads, _ = _run(F.conv2d, (x, W, b), kw, gy)
    assert took_shifted
    _assert_close(y, y_ref)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        _assert_close(g, g_ref)


def test_shifted_conv_same_through_blas_and_numpy(gemm_route, policy):
    _assert_shifted_equals_im2col(policy, SHIFT_GRID[6], seed=0)


def test_matmul_into_falls_back_where_blas_cannot_read():
    rng = np.random.default_rng(1)
    a = rng.integers(-5, 5, (4, 3))
    b = rng.integers(-5, 5, (3, 6))
    out = np.ones((4, 6), dtype=a.dtype)
    matmul_into(a, b, out, accumulate=True)  # integers: NumPy's matmul
    np.testing.assert_array_equal(out, 1 + a @ b)
    x = rng.standard_normal((8, 8))
    a2, b2 = x[::2, ::2], x[1::2, ::2]  # no unit stride anywhere
    out2 = np.zeros((4, 4))
    matmul_into(a2, b2, out2)
    np.testing.assert_allclose(out2, a2 @ b2, rtol=1e-12)
    batch = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 5, 2))
    out3 = np.empty((3, 4, 2))
    matmul_into(*batch, out3)
    np.testing.assert_allclose(out3, np.matmul(*batch), rtol=1e-12)


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("cfg", [SHIFT_GRID[1], SHIFT_GRID[6], SHIFT_GRID[10]])
def test_shifted_split_over_threads_equals_im2col(torch, policy, monkeypatch, workers, cfg):
    """The column ranges summed in parallel threads (backend.split_run) give the same sums."""
    monkeypatch.setattr(backend_blas, "SPLIT_WORKERS", workers)
    _assert_shifted_equals_im2col(policy, cfg, seed=9)


def test_split_run_covers_the_range_once_and_restores_blas_threads(monkeypatch):
    monkeypatch.setattr(backend_blas, "SPLIT_WORKERS", 3)
    hits = np.zeros(100, int)
    parts = []

    def fn(i, lo, hi):
        hits[lo:hi] += 1
        parts.append(i)

    backend.matmul_into(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)))  # load BLAS
    threads = backend_blas._gemm_functions.get("threads")
    before = threads[0]() if threads else None
    n = backend.split_run(fn, 100)
    assert (hits == 1).all() and sorted(parts) == list(range(n))
    if threads:  # NumPy's bundled OpenBLAS: really split, and its thread count is back
        assert n == 3 and threads[0]() == before


def test_split_run_works_in_a_forked_child(monkeypatch):
    """A child forked after the thread pool exists has the pool object without its threads;
    split_run must make a new one there rather than wait forever."""
    import multiprocessing

    monkeypatch.setattr(backend_blas, "SPLIT_WORKERS", 2)
    backend.split_run(lambda i, lo, hi: None, 10)  # the pool exists in the parent now
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        assert pool.apply_async(_split_sum_in_child).get(timeout=30) == 45


def _split_sum_in_child() -> int:
    backend_blas.SPLIT_WORKERS = 2
    sums = {}

    def fn(i, lo, hi):
        sums[i] = sum(range(lo, hi))

    assert backend.split_run(fn, 10) == 2 or not backend_blas._gemm_functions.get("threads")
    return sum(sums.values())
