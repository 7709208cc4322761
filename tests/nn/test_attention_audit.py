"""Findings of the attention / Transformer parity audit that have no other home."""

import numpy as np
import pytest

import ember
import ember.nn as nn


def test_learned_positional_embedding_follows_the_default_dtype():
    """Its table is made in the default dtype, like every other layer's parameters."""
    ember.set_default_dtype(ember.float64)
    try:
        p = nn.LearnedPositionalEmbedding(10, 8)
    finally:
        ember.set_default_dtype(ember.float32)
    assert p.weight.dtype == np.float64
    assert nn.LearnedPositionalEmbedding(10, 8).weight.dtype == np.float32


def test_multihead_attention_fully_padded_query_gives_zeros_like_torch_sdpa_path(torch):
    """A sample whose keys are all padding: zeros as torch with need_weights=False (torch's
    need_weights=True path gives NaN; ember keeps zeros there too), finite gradients."""
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    em = nn.MultiheadAttention(8, 2, batch_first=True).double()
    em.load_state_dict(tm.state_dict())
    x = np.random.default_rng(1).standard_normal((3, 5, 8))
    kpm = np.zeros((3, 5), bool)
    kpm[0] = True
    kpm[1, 3:] = True
    ref, _ = tm(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm), need_weights=False)
    xe = ember.Tensor(x, requires_grad=True)
    for need_weights in (False, True):
        out, w = em(xe, xe, xe, key_padding_mask=kpm, need_weights=need_weights)
        np.testing.assert_allclose(out.array, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(w.array[0], 0)
    (out.sum() + w.sum()).backward()
    assert np.isfinite(xe.grad.array).all()
    assert all(np.isfinite(p.grad.array).all() for p in em.parameters())


def test_transformer_encoder_keeps_torchs_flags():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False, mask_check=False)
    assert enc.enable_nested_tensor is False and enc.mask_check is False
    assert nn.TransformerEncoder(layer, 1).enable_nested_tensor is True


def test_gpt_kv_cache_of_another_shape_is_a_clear_error():
    """A cache made for another batch size or depth names what it holds and what came."""
    from ember.models.gpt import GPT

    m = GPT(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    with pytest.raises(ValueError, match=r"KV cache made for 1 layers, batch 2.*\(3, 2, 2, 4\)"):
        m(np.zeros((3, 2), int), m.new_cache(2))
    deeper = GPT(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)
    with pytest.raises(ValueError, match="KV cache made for 1 layers.* got layer 1"):
        deeper(np.zeros((2, 2), int), m.new_cache(2))


def test_causal_mask_cache_stays_bounded():
    """is_causal over sequences whose length changes every batch must not keep every mask."""
    import ember.functional as F
    from ember.functional import attention as A

    for n in range(1, 200):
        x = ember.randn(1, n, 4)
        F.scaled_dot_product_attention(x, x, x, is_causal=True)
    assert len(A._causal_cache) <= 32
    np.testing.assert_array_equal(
        A.causal_mask(3, 4, np.float32).array, np.triu(np.full((3, 4), -np.inf), 1)
    )
