"""nn.MultiheadAttention against torch: same state_dict, outputs, weights and gradients."""

import numpy as np
import pytest

import ember
import ember.nn as nn


def _pair(torch, e=8, h=2, **kw):
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(e, h, **kw).double()
    with torch.no_grad():  # non-zero biases so they are tested
        for name, p in tm.named_parameters():
            if "bias" in name:
                p.normal_()
    em = nn.MultiheadAttention(e, h, **kw).double()
    assert list(em.state_dict()) == list(tm.state_dict())
    em.load_state_dict(tm.state_dict())
    return tm, em


def _compare(torch, tm, em, arrays, tol=1e-10, **kw):
    et = [ember.Tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    if len(arrays) == 1:  # self-attention: the same tensor three times
        et, tt = et * 3, tt * 3
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    eo, ew = em(*et, **kw)
    to, tw = tm(*tt, **tkw)
    np.testing.assert_allclose(eo.array, to.detach().numpy(), rtol=tol, atol=tol)
    if tw is None:
        assert ew is None
    else:
        np.testing.assert_allclose(ew.array, tw.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(9).standard_normal(eo.shape)
    loss_e = (eo * ember.Tensor(g)).sum() + ((ew * ew).sum() if ew is not None else 0)
    loss_t = (to * torch.tensor(g)).sum() + ((tw * tw).sum() if tw is not None else 0)
    loss_e.backward()
    loss_t.backward()
    for e, t in zip(et[: len(arrays)], tt[: len(arrays)]):
        np.testing.assert_allclose(e.grad.array, t.grad.numpy(), rtol=tol, atol=tol)
    tparams = dict(tm.named_parameters())
    for name, p in em.named_parameters():
        np.testing.assert_allclose(
            p.grad.array, tparams[name].grad.numpy(), rtol=tol, atol=tol, err_msg=name
        )


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("average", [True, False])
def test_self_attention_matches_torch(torch, batch_first, average):
    tm, em = _pair(torch, batch_first=batch_first)
    x = np.random.default_rng(0).standard_normal((3, 5, 8))
    _compare(torch, tm, em, [x], average_attn_weights=average)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_masks_match_torch(torch, kind):
    """attn_mask and key_padding_mask, torch's polarity: True = NOT allowed."""
    rng = np.random.default_rng(1)
    tm, em = _pair(torch, batch_first=True)
    x = rng.standard_normal((3, 5, 8))
    kpm = np.zeros((3, 5), dtype=bool)
    kpm[0, 3:] = True
    kpm[2, 1] = True
    am = rng.random((5, 5)) > 0.7
    np.fill_diagonal(am, False)
    if kind == "float":
        kpm = np.where(kpm, -1e9, rng.standard_normal(kpm.shape))
        am = np.where(am, -np.inf, 0.0)
    _compare(torch, tm, em, [x], key_padding_mask=kpm, attn_mask=am, average_attn_weights=False)


def test_per_head_3d_mask_and_causal_match_torch(torch):
    rng = np.random.default_rng(2)
    tm, em = _pair(torch, batch_first=True)
    x = rng.standard_normal((3, 4, 8))
    am = rng.random((3 * 2, 4, 4)) > 0.6
    am[:, :, 0] = False
    _compare(torch, tm, em, [x], attn_mask=am)
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    et = ember.Tensor(x)
    a, wa = em(et, et, et, is_causal=True)  # ember builds the causal mask itself
    b, wb = em(et, et, et, attn_mask=causal)
    np.testing.assert_allclose(a.array, b.array)
    assert np.all(wa.array[:, np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]] == 0)


def test_cross_attention_kdim_vdim_matches_torch(torch):
    rng = np.random.default_rng(3)
    tm, em = _pair(torch, kdim=6, vdim=3)
    q, k, v = (
        rng.standard_normal((4, 2, 8)),
        rng.standard_normal((7, 2, 6)),
        rng.standard_normal((7, 2, 3)),
    )
    _compare(torch, tm, em, [q, k, v])


def test_encoder_decoder_attention_and_unbatched_match_torch(torch):
    rng = np.random.default_rng(4)
    tm, em = _pair(torch, bias=False)
    q, kv = rng.standard_normal((4, 8)), rng.standard_normal((6, 8))
    _compare(torch, tm, em, [q, kv, kv], need_weights=False)
    _compare(torch, tm, em, [q, kv, kv], key_padding_mask=np.array([0, 0, 1, 0, 0, 1], bool))


def test_gradcheck_mha():
    em = nn.MultiheadAttention(4, 2, batch_first=True).double()
    x = ember.Tensor(np.random.default_rng(5).standard_normal((2, 3, 4)), requires_grad=True)
    kpm = np.array([[0, 0, 1], [0, 0, 0]], bool)

    def f(x):
        out, w = em(x, x, x, key_padding_mask=kpm, average_attn_weights=False)
        return out, w

    assert ember.gradcheck(f, (x,))
    assert ember.gradcheck(
        lambda w: em(x.detach(), x.detach(), x.detach())[0], (em.in_proj_weight,)
    )


def test_dropout_only_in_training():
    em = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = ember.randn(2, 5, 8)
    em.eval()
    a, b = em(x, x, x)[0], em(x, x, x)[0]
    np.testing.assert_array_equal(a.array, b.array)
    em.train()
    c = em(x, x, x)[0]
    assert not np.allclose(a.array, c.array)


def test_record_weights_keeps_per_head_maps():
    em = nn.MultiheadAttention(8, 4, batch_first=True)
    em.record_weights = True
    x = ember.randn(2, 5, 8)
    em(x, x, x, need_weights=False)
    w = em.last_attn_weights
    assert w.shape == (2, 4, 5, 5)
    np.testing.assert_allclose(w.sum(-1), 1, rtol=1e-5)


def test_bad_shapes_are_clear_errors():
    em = nn.MultiheadAttention(8, 2)
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(8, 3)
    x = ember.randn(5, 2, 8)
    with pytest.raises(ValueError, match="key_padding_mask must have shape"):
        em(x, x, x, key_padding_mask=np.zeros((5, 2), bool))
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        em(x, x, x, attn_mask=np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="query has 7 features"):
        em(ember.randn(5, 2, 7), x, x)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mismatched_inputs_name_what_was_expected(batch_first):
    """Batch or length disagreements between query, key and value, and an unbatched
    key_padding_mask of the wrong shape, are named as such (not a reshape failure inside)."""
    em = nn.MultiheadAttention(8, 2, batch_first=batch_first)

    def seq(length, n):
        return ember.randn(n, length, 8) if batch_first else ember.randn(length, n, 8)

    q = seq(4, 3)
    with pytest.raises(ValueError, match="query batch 3 .* differs from key batch 2"):
        em(q, seq(6, 2), seq(6, 2))
    with pytest.raises(ValueError, match="key shape .* and value shape .* must agree"):
        em(q, seq(6, 3), seq(5, 3))
    x, kv = ember.randn(4, 8), ember.randn(6, 8)
    with pytest.raises(ValueError, match=r"unbatched .* must have shape \(6,\), got \(1, 6\)"):
        em(x, kv, kv, key_padding_mask=np.zeros((1, 6), bool))
    with pytest.raises(ValueError, match=r"must have shape \(6,\), got \(5,\)"):
        em(x, kv, kv, key_padding_mask=np.zeros(5, bool))


@pytest.mark.parametrize("bias_kv, zero_attn", [(True, False), (False, True), (True, True)])
def test_add_bias_kv_and_zero_attn_match_torch(torch, bias_kv, zero_attn):
    rng = np.random.default_rng(6)
    tm, em = _pair(torch, batch_first=True, add_bias_kv=bias_kv, add_zero_attn=zero_attn)
    x = rng.standard_normal((2, 4, 8))
    kpm = np.array([[0, 0, 0, 1], [0, 1, 0, 0]], bool)
    am = np.triu(np.ones((4, 4), bool), 1)
    _compare(torch, tm, em, [x], key_padding_mask=kpm, attn_mask=am, average_attn_weights=False)
