"""torch.nn.functional.multi_head_attention_forward: MultiheadAttention's forward with every
weight given as an argument, for code that holds the weights itself.

The arithmetic is nn.MultiheadAttention's (attention.py): this builds a module around the given
tensors, never copying them, so gradients reach them, and runs its forward. Layout as torch's
functional form: query (L, N, E) or unbatched (L, E), key (S, N, kdim), value (S, N, vdim).
"""

from __future__ import annotations

from .. import functional as F
from .attention import MultiheadAttention
from .module import Module


class _GivenLinear:
    """out_proj from given tensors: x·Wᵀ + b."""

    def __init__(self, weight, bias):
        self.weight, self.bias = weight, bias

    def __call__(self, x):
        return F.linear(x, self.weight, self.bias)


def multi_head_attention_forward(
    query, key, value, embed_dim_to_check: int, num_heads: int, in_proj_weight, in_proj_bias,
    bias_k, bias_v, add_zero_attn: bool, dropout_p: float, out_proj_weight, out_proj_bias,
    training: bool = True, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
    use_separate_proj_weight: bool = False, q_proj_weight=None, k_proj_weight=None,
    v_proj_weight=None, static_k=None, static_v=None, average_attn_weights: bool = True,
    is_causal: bool = False,
):  # fmt: skip
    """torch.nn.functional.multi_head_attention_forward: (attention output, weights or None),
    as nn.MultiheadAttention computes them (see its docstring for shapes and mask polarity).

    ``is_causal`` is torch's hint that ``attn_mask`` is causal: it needs ``attn_mask``, which
    is then used as given. ``static_k`` / ``static_v`` (keys and values projected beforehand)
    are not supported: ember refuses them rather than ignore them.
    """
    embed_dim = query.shape[-1]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    if embed_dim % num_heads:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if static_k is not None or static_v is not None:
        raise NotImplementedError(
            "multi_head_attention_forward(): static_k / static_v (keys and values projected"
            " beforehand) are not supported by ember; pass key and value instead"
        )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer"
            " module method `generate_square_subsequent_mask` to create this mask."
        )
    m = MultiheadAttention.__new__(MultiheadAttention)
    Module.__init__(m)
    m.embed_dim, m.num_heads, m.head_dim = embed_dim, num_heads, embed_dim // num_heads
    m.dropout, m.batch_first, m.add_zero_attn = dropout_p, False, add_zero_attn
    m.kdim, m.vdim = key.shape[-1], value.shape[-1]
    m._qkv_same_embed_dim = not use_separate_proj_weight
    separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    m.in_proj_weight = None if use_separate_proj_weight else in_proj_weight
    m.q_proj_weight, m.k_proj_weight, m.v_proj_weight = separate if use_separate_proj_weight else (
        None, None, None)  # fmt: skip
    m.in_proj_bias, m.bias_k, m.bias_v = in_proj_bias, bias_k, bias_v
    m.out_proj = _GivenLinear(out_proj_weight, out_proj_bias)
    m.record_weights, m.last_attn_weights = False, None
    m.training = training
    return m.forward(query, key, value, key_padding_mask, need_weights, attn_mask,
                     average_attn_weights)  # fmt: skip
