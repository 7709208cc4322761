"""float16 through ops whose sums leave half's range or precision: they compute in float32 and
round once, as torch's CPU kernels ("opmath"), against torch on the same half inputs.

Before, a layer norm of 4096 values near 50 was NaN (its squared deviations summed past
65 504), and cumsum, average pooling, group norm and attention drifted by percents."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.function import half_in_float32

torch = pytest.importorskip("torch")


def _half(shape, seed, scale=1.0, shift=0.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale + shift).astype(np.float16)


CASES = {
    "layer_norm": (
        lambda F, x, w, b: F.layer_norm(x, (4096,), w, b),
        [(4, 4096), (4096,), (4096,)],
    ),
    "layer_norm_no_affine": (lambda F, x: F.layer_norm(x, (4096,)), [(4, 4096)]),
    "group_norm": (lambda F, x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 30, 30), (4,), (4,)]),
    "cumsum": (lambda F, x: x.cumsum(-1), [(3, 1000)]),  # sums to ~50 000 of half's 65 504
    "avg_pool2d": (lambda F, x: F.avg_pool2d(x, 3, stride=2, padding=1), [(2, 3, 9, 9)]),
    "attention": (
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        [(2, 300, 8), (2, 300, 8), (2, 300, 8)],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_half_ops_round_once_as_torch(name):
    f, shapes = CASES[name]
    # the first input far from 0, where half's sums of squares and long sums go wrong
    arrays = [_half(s, i, scale=10.0 if i == 0 else 1.0, shift=50.0 if i == 0 else 0.0)
              for i, s in enumerate(shapes)]  # fmt: skip
    ours = [ember.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = f(ember.nn.functional, *ours)
    ty = f(torch.nn.functional, *theirs)
    assert y.dtype == ember.float16
    want = ty.detach().float().numpy()
    got = y.detach().numpy().astype(np.float32)
    assert np.isfinite(got).all()
    # both round a float32 result once: they may differ by that rounding, one half ulp (the
    # float32 sums run in different orders); rounding every step is off by many
    # (near 0, where half's ulp is below float32's error at the row's scale, that error)
    ulp = np.abs(np.spacing(want.astype(np.float16))).astype(np.float32)
    ulp = np.maximum(ulp, 1e-5 * np.abs(want).max())
    assert (np.abs(got - want) <= ulp).all(), (np.abs(got - want) / ulp).max()
    g = _half(ty.shape, 9)
    y.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    for e, t in zip(ours, theirs):
        assert e.grad.dtype == ember.float16
        tg = t.grad.float().numpy()
        np.testing.assert_allclose(e.grad.numpy().astype(np.float32), tg, rtol=1e-2,
                                   atol=5e-3 * np.abs(tg).max())  # fmt: skip


# half's range: sums of squares past 65 504 were inf (norms, var, std, dist, cosine
# similarity; batch norm's variance made NaN), long products drifted
REFERENCE_CASES = {
    "norm": (lambda m, x: x.norm(dim=-1), (4, 4096), 30.0, 0.0),
    "vector_norm_3": (lambda m, x: m.linalg.vector_norm(x, 3, dim=-1), (4, 4096), 10.0, 0.0),
    "var": (lambda m, x: x.var(-1), (4, 4096), 10.0, 100.0),
    "std": (lambda m, x: x.std(-1, correction=0), (4, 4096), 10.0, 100.0),
    "dist": (lambda m, x: m.dist(x[0], x[1]), (2, 20000), 10.0, 0.0),
    "cosine_similarity": (
        lambda m, x: m.nn.functional.cosine_similarity(x[0], x[1], dim=-1),
        (2, 4, 4096), 30.0, 1.0,
    ),
    "batch_norm": (
        lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True),
        (64, 8, 16, 16), 10.0, 100.0,
    ),
    "prod": (lambda m, x: x.prod(-1), (4, 50), 0.05, 1.0),
    "cumprod": (lambda m, x: x.cumprod(-1), (4, 500), 0.01, 1.0),
    "embedding_bag_sum": (
        lambda m, w: m.nn.functional.embedding_bag(
            m.tensor(np.arange(2000) % 50), w, m.tensor(np.array([0])), mode="sum"
        ),
        (50, 4), 1.0, 30.0,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(REFERENCE_CASES))
def test_half_reductions_stay_in_range_and_round_once(name):
    """Within about one half ulp of the float64 value (torch's own half batch norm, prod
    and cumprod round along the way: thousands of ulps for a batch norm of values near 100)."""
    f, shape, scale, shift = REFERENCE_CASES[name]
    x = _half(shape, 7, scale=scale, shift=shift)
    got = f(ember, ember.tensor(x))
    assert got.dtype == ember.float16
    want = f(torch, torch.tensor(x.astype(np.float64))).numpy()
    ulp = np.abs(np.spacing(want.astype(np.float16))).astype(np.float64)
    ulp = np.maximum(ulp, 1e-5 * np.abs(want).max())
    err = np.abs(got.numpy().astype(np.float64) - want) / ulp
    assert err.max() <= 1.5, err.max()


@pytest.mark.parametrize("op", ["addcmul", "addcdiv"])
def test_half_addcmul_and_addcdiv_round_once_as_torch(op):
    """a + v·b·c with a ≈ −v·b·c: rounding b·c (and v·b·c) to half first, as the composed
    form did, leaves errors of the size of the cancelled terms' ulp in a small result."""
    b, c = _half(2000, 1), np.abs(_half(2000, 2)) + 1
    term = 0.5 * (b.astype(np.float32) * c if op == "addcmul" else b.astype(np.float32) / c)
    a = (-term + _half(2000, 3).astype(np.float32) * 1e-3).astype(np.float16)
    got = getattr(ember.tensor(a), op)(ember.tensor(b), ember.tensor(c), value=0.5)
    want = getattr(torch.tensor(a), op)(torch.tensor(b), torch.tensor(c), value=0.5)
    assert got.dtype == ember.float16
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_half_in_float32_hands_back_each_inputs_dtype():
    """A float16 input with a float32 one: the op runs in float32, the half input's gradient
    comes back in half and the other's in float32."""

    @half_in_float32
    class Scale(ember.Function):
        def forward(self, x, w):
            self.x, self.w = x, w
            assert x.dtype == w.dtype == np.float32
            return x * w

        def backward(self, gy):
            assert gy.dtype == np.float32
            return gy * self.w, (gy * self.x).sum(0)

    x = ember.tensor(np.ones((3, 2), np.float16), requires_grad=True)
    w = ember.tensor(np.full(2, 3.0, np.float32), requires_grad=True)
    y = ember.apply(Scale, x, w)
    assert y.dtype == ember.float16
    y.sum().backward()
    assert x.grad.dtype == ember.float16 and w.grad.dtype == ember.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 2), 3.0))
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])


def _ulps(got, want):
    want = np.asarray(want, dtype=np.float64)
    ulp = np.abs(np.spacing(want.astype(np.float16))).astype(np.float64)
    return np.abs(np.asarray(got, dtype=np.float64) - want) / ulp


def test_half_sums_and_broadcast_gradients_accumulate_in_float32():
    """A half sum along a strided axis (NumPy adds row by row in half there: hundreds of ulps
    over 20 000 rows), the gradient of a broadcast operand (summed over the rows it was
    broadcast to) and an embedding's gradient (rows of repeated indices summed): each within
    one half ulp of float64 (torch's half embedding backward sums in half: 300 ulps here)."""
    x = _half((20000, 4), 1, shift=1.0)
    assert _ulps(ember.tensor(x).sum(0).numpy(), x.astype(np.float64).sum(0)).max() <= 1

    b = ember.tensor(_half(4, 2), requires_grad=True)
    g = _half((20000, 4), 3)
    (ember.tensor(x) + b).backward(ember.tensor(g))
    assert b.grad.dtype == ember.float16
    assert _ulps(b.grad.numpy(), g.astype(np.float64).sum(0)).max() <= 1

    w = ember.tensor(_half((10, 4), 4), requires_grad=True)
    idx = np.arange(4000) % 10
    gy = _half((4000, 4), 5)
    ember.nn.functional.embedding(ember.tensor(idx), w).backward(ember.tensor(gy))
    want = np.zeros((10, 4))
    np.add.at(want, idx, gy.astype(np.float64))
    assert _ulps(w.grad.numpy(), want).max() <= 1


@pytest.mark.parametrize("reduce", ["scatter_add", "sum", "mean"])
def test_half_scatter_sums_accumulate_in_float32(reduce):
    """scatter_add and scatter_reduce('sum' / 'mean') of 4000 half values into 5 places: one
    half ulp of float64, as torch (ember summed in half: 590 ulps off)."""
    src = _half((4000, 3), 1)
    idx = np.repeat((np.arange(4000) % 5)[:, None], 3, axis=1)
    want = np.zeros((5, 3))
    np.add.at(want, idx[:, 0], src.astype(np.float64))
    x = ember.tensor(src, requires_grad=True)
    base = ember.zeros(5, 3, dtype=ember.float16)
    if reduce == "scatter_add":
        got = base.scatter_add(0, ember.tensor(idx), x)
    else:
        got = base.scatter_reduce(0, ember.tensor(idx), x, reduce, include_self=False)
        want = want / 800 if reduce == "mean" else want
    assert got.dtype == ember.float16
    assert _ulps(got.detach().numpy(), want).max() <= 1
    got.sum().backward()
    assert x.grad.dtype == ember.float16
