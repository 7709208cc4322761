"""Scaled dot-product attention: fused vs composed, gradcheck, torch parity, mask polarity."""

import numpy as np
import pytest

import ember
import ember.functional as F


def _qkv(rng, shape_q=(2, 3, 4, 5), s=6, ev=5, grad=True):
    *lead, length, e = shape_q
    q = ember.Tensor(rng.standard_normal(shape_q), requires_grad=grad)
    k = ember.Tensor(rng.standard_normal((*lead, s, e)), requires_grad=grad)
    v = ember.Tensor(rng.standard_normal((*lead, s, ev)), requires_grad=grad)
    return q, k, v


def _bool_mask(rng, shape):
    m = rng.random(shape) > 0.4
    m[..., 0] = True  # every query keeps at least one key (torch's composed path NaNs otherwise)
    return m


MASKS = ["none", "bool", "float", "causal", "bool_broadcast"]


def _mask_kwargs(kind, rng, length=4, s=6, lead=(2, 3)):
    if kind == "bool":
        return dict(attn_mask=_bool_mask(rng, (*lead, length, s)))
    if kind == "bool_broadcast":
        return dict(attn_mask=_bool_mask(rng, (length, s)))
    if kind == "float":
        return dict(attn_mask=rng.standard_normal((lead[0], 1, length, s)))
    if kind == "causal":
        return dict(is_causal=True)
    return {}


@pytest.mark.parametrize("kind", MASKS)
def test_gradcheck(kind):
    rng = np.random.default_rng(0)
    q, k, v = _qkv(rng, (1, 2, 3, 4), s=3 if kind == "causal" else 5, ev=2)
    kw = _mask_kwargs(kind, rng, 3, k.shape[-2], lead=(1, 2))

    def f(q, k, v):
        out, w = F.scaled_dot_product_attention(q, k, v, need_weights=True, **kw)
        return out, w

    assert ember.gradcheck(f, (q, k, v))


def test_gradcheck_float_mask_gets_gradient():
    rng = np.random.default_rng(1)
    q, k, v = _qkv(rng, (2, 3, 4), s=3, ev=2)
    m = ember.Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    assert ember.gradcheck(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), (q, k, v, m)
    )


@pytest.mark.parametrize("kind", MASKS)
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_fused_equals_composed(kind, dropout):
    rng = np.random.default_rng(2)
    kw = _mask_kwargs(kind, rng, 4, 4 if kind == "causal" else 6)
    outs, grads = [], []
    for fn in (F.scaled_dot_product_attention, F.scaled_dot_product_attention_composed):
        q, k, v = _qkv(np.random.default_rng(3), s=4 if kind == "causal" else 6)
        ember.manual_seed(7)  # the same dropout mask for both
        out, w = fn(q, k, v, dropout_p=dropout, need_weights=True, **kw)
        g = np.random.default_rng(4)
        (out * ember.Tensor(g.standard_normal(out.shape))).sum().backward()
        outs.append((out.array, w.array))
        grads.append([t.grad.array for t in (q, k, v)])
    for a, b in zip(outs[0], outs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(grads[0], grads[1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", MASKS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch(torch, kind, dtype):
    rng = np.random.default_rng(5)
    s = 4 if kind == "causal" else 6
    kw = _mask_kwargs(kind, rng, 4, s)
    arrays = [
        rng.standard_normal(shape).astype(dtype)
        for shape in ((2, 3, 4, 5), (2, 3, s, 5), (2, 3, s, 7))
    ]
    g = rng.standard_normal((2, 3, 4, 7)).astype(dtype)
    et = [ember.Tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    tkw = dict(kw)
    if "attn_mask" in kw:
        m = kw["attn_mask"]
        tkw["attn_mask"] = torch.tensor(m.astype(dtype) if m.dtype != bool else m)
        kw["attn_mask"] = m.astype(dtype) if m.dtype != bool else m
    eo = F.scaled_dot_product_attention(*et, scale=0.3, **kw)
    to = torch.nn.functional.scaled_dot_product_attention(*tt, scale=0.3, **tkw)
    eo.backward(g)
    to.backward(torch.tensor(g))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(eo.array, to.detach().numpy(), **tol)
    for e, t in zip(et, tt):
        np.testing.assert_allclose(e.grad.array, t.grad.numpy(), **tol)


def test_boolean_mask_polarity_true_means_attend():
    """torch's F.sdpa convention: True = take part. Blocking all but key 2 copies value 2."""
    q, k, v = (ember.randn(1, 3, 4) for _ in range(3))
    mask = np.zeros((3, 3), dtype=bool)
    mask[:, 2] = True
    out, w = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, need_weights=True)
    np.testing.assert_allclose(w.array[0], np.tile([0, 0, 1.0], (3, 1)), atol=0)
    np.testing.assert_allclose(out.array[0], np.tile(v.array[0, 2], (3, 1)), rtol=1e-6)


def test_fully_blocked_row_gives_zeros_like_torch(torch):
    rng = np.random.default_rng(6)
    q, k, v = _qkv(rng, (1, 3, 4), s=5, ev=4)
    m = _bool_mask(rng, (3, 5))
    m[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
    ref = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(t.array) for t in (q, k, v)), attn_mask=torch.tensor(m)
    )
    np.testing.assert_allclose(out.array, ref.numpy(), atol=1e-12)
    out.sum().backward()
    assert np.isfinite(q.grad.array).all() and np.isfinite(k.grad.array).all()


@pytest.mark.parametrize("additive", [False, True])
def test_a_single_key_blocked_gives_zeros_like_torch(torch, additive):
    # with one key, the row maximum was the scores array itself, and setting a fully
    # blocked row's maximum to 0 wrote 0 over its -inf: the blocked key was attended to
    rng = np.random.default_rng(7)
    q, k, v = _qkv(rng, (2, 2, 3, 4), s=1, ev=3)
    keep = np.ones((2, 1, 3, 1), dtype=bool)
    keep[1, :, 1:] = False  # batch 1: queries 1 and 2 see no key
    m = np.where(keep, 0.0, -np.inf) if additive else keep
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
    ref = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(t.array) for t in (q, k, v)), attn_mask=torch.tensor(m)
    )
    np.testing.assert_allclose(out.array, ref.numpy(), atol=1e-12)
    np.testing.assert_array_equal(out.array[1, :, 1:], 0)


@pytest.mark.parametrize("length, s", [(0, 6), (4, 0)])
@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_empty_queries_or_keys_like_torch(torch, length, s, dropout):
    """L = 0 gives an empty output; S = 0 (no keys) gives zeros, as torch; both backward."""
    rng = np.random.default_rng(10)
    q, k, v = _qkv(rng, (2, 3, length, 5), s=s, ev=4)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
    ref = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(t.array) for t in (q, k, v))
    )
    assert out.shape == tuple(ref.shape) == (2, 3, length, 4)
    np.testing.assert_array_equal(out.array, ref.numpy())
    out.sum().backward()
    assert q.grad.shape == q.shape and k.grad.shape == k.shape and v.grad.shape == v.shape
    np.testing.assert_array_equal(q.grad.array, 0)


def test_large_scores_do_not_overflow():
    q = ember.Tensor(np.full((1, 2, 3), 1e4, dtype=np.float32))
    out = F.scaled_dot_product_attention(q, q, q)
    assert np.isfinite(out.array).all()


def test_clear_errors():
    q = ember.randn(2, 3, 4)
    with pytest.raises(ValueError, match="query features 4"):
        F.scaled_dot_product_attention(q, ember.randn(2, 3, 5), ember.randn(2, 3, 5))
    with pytest.raises(ValueError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)
    with pytest.raises(TypeError, match="boolean or floating"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), int))
    q4 = ember.randn(2, 3, 4, 5)
    k4 = ember.randn(2, 2, 6, 5)
    with pytest.raises(ValueError, match="do not broadcast together .* need enable_gqa"):
        F.scaled_dot_product_attention(q4, k4, k4)
    with pytest.raises(ValueError, match="enable_gqa: 3 query heads are not a multiple of 2"):
        F.scaled_dot_product_attention(q4, k4, k4, enable_gqa=True)
    with pytest.raises(ValueError, match=r"enable_gqa needs .* got query \(3, 4\)"):
        F.scaled_dot_product_attention(q[0], q[0], q[0], enable_gqa=True)


def test_grouped_query_attention_matches_torch(torch):
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(s) for s in ((2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 5))]
    et = [ember.Tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    eo = F.scaled_dot_product_attention(*et, is_causal=False, enable_gqa=True)
    to = torch.nn.functional.scaled_dot_product_attention(*tt, enable_gqa=True)
    eo.sum().backward()
    to.sum().backward()
    np.testing.assert_allclose(eo.array, to.detach().numpy(), rtol=1e-10, atol=1e-12)
    for e, t in zip(et, tt):
        np.testing.assert_allclose(e.grad.array, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("keys", [1, 3, 6, 12, 64])
def test_row_max_and_row_sum_equal_numpy_reductions(keys):
    from ember.ops.attention import _row_max, _row_sum

    s = np.random.default_rng(keys).standard_normal((2, 3, 5, keys)).astype(np.float32)
    s[0, 0, 0, -1] = -np.inf  # a blocked key
    s[0, 0, 1, :] = -np.inf  # a fully blocked row
    np.testing.assert_array_equal(_row_max(s), s.max(axis=-1, keepdims=True))
    finite = np.where(np.isfinite(s), s, 0)
    np.testing.assert_allclose(
        _row_sum(finite), finite.sum(axis=-1, keepdims=True), rtol=1e-6, atol=1e-6
    )
