"""Multi-head attention as a plain function of its weights.

    Q = query·W^Qᵀ + b^Q,  K = key·W^Kᵀ + b^K,  V = value·W^Vᵀ + b^V      (N, L or S, E)
    K ← [K; b_k],  V ← [V; b_v]          bias_k / bias_v: one learned key and value more
    K_i ← [K_i; 0],  V_i ← [V_i; 0]      add_zero_attn: one all-zero key and value more
    P_i = softmax(Q_i·K_iᵀ/√d_k + M)     head i: features i·d_k … (i+1)·d_k,  d_k = E / h
    out = Concat(Dropout(P_1)·V_1, …, Dropout(P_h)·V_h)·W^Oᵀ + b^O

M adds the masks (True = blocked → -∞, floats added); the appended keys are never masked.
Storage as torch: ``in_proj_weight`` (3E, E) stacks W^Q, W^K, W^V and ``in_proj_bias`` (3E,)
b^Q, b^K, b^V, or ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight``
(E, vdim) for keys and values of other widths. Vaswani et al. 2017.

``multi_head_attention_forward`` is torch's functional form (query (L, N, E) or unbatched
(L, E)); ``multi_head_attention`` is the arithmetic both it and nn.MultiheadAttention call
(that one passes its batch_first and records the per-head weights it returns). Nothing here
builds a module: the given tensors are used as they are, so gradients reach them.
"""

from __future__ import annotations

import warnings

from .. import functional as F
from ..amp.autocast_mode import autocast_active
from ..backend import xp
from ..errors import InputAssertionError, InputError, InputTypeError
from ..functional.attention import additive_mask, causal_mask
from ..tensor import Tensor, as_array


def multi_head_attention_forward(
    query, key, value, embed_dim_to_check: int, num_heads: int, in_proj_weight, in_proj_bias,
    bias_k, bias_v, add_zero_attn: bool, dropout_p: float, out_proj_weight, out_proj_bias,
    training: bool = True, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
    use_separate_proj_weight: bool = False, q_proj_weight=None, k_proj_weight=None,
    v_proj_weight=None, static_k=None, static_v=None, average_attn_weights: bool = True,
    is_causal: bool = False,
):  # fmt: skip
    """torch.nn.functional.multi_head_attention_forward: (attention output, weights or None).

    query (L, N, E) or unbatched (L, E), key (S, N, kdim), value (S, N, vdim); output like
    query; weights (N, L, S') averaged over heads, (N, h, L, S') with
    ``average_attn_weights=False`` (S' counts bias_k and the zero key), or None with
    ``need_weights=False``. Masks as nn.MultiheadAttention's (True = NOT allowed).

    ``is_causal`` is torch's hint that ``attn_mask`` is causal: it needs ``attn_mask``, which
    is then used as given. ``static_k`` / ``static_v`` (keys and values projected beforehand)
    are not supported: ember refuses them rather than ignore them.
    """
    embed_dim = query.shape[-1]
    if embed_dim != embed_dim_to_check:
        raise InputAssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    if embed_dim % num_heads:
        raise InputAssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
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
    if (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k and bias_v must be given together or not at all")
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise AssertionError(
                "use_separate_proj_weight=True needs q_proj_weight, k_proj_weight and v_proj_weight"
            )
        in_proj_weight, kdim, vdim = None, k_proj_weight.shape[-1], v_proj_weight.shape[-1]
    else:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight=False needs in_proj_weight")
        q_proj_weight = k_proj_weight = v_proj_weight = None
        kdim = vdim = embed_dim
    check_inputs(
        query, key, value, embed_dim, kdim, vdim, False, packed=not use_separate_proj_weight
    )
    out, p = multi_head_attention(
        query, key, value, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
        add_zero_attn, dropout_p if training else 0.0, out_proj_weight, out_proj_bias,
        key_padding_mask, attn_mask, q_proj_weight, k_proj_weight, v_proj_weight,
    )  # fmt: skip
    return out, returned_weights(p, query.ndim == 3, need_weights, average_attn_weights)


def multi_head_attention(
    query, key, value, num_heads: int, in_proj_weight, in_proj_bias, bias_k, bias_v,
    add_zero_attn: bool, dropout_p: float, out_proj_weight, out_proj_bias,
    key_padding_mask=None, attn_mask=None, q_proj_weight=None, k_proj_weight=None,
    v_proj_weight=None, is_causal: bool = False, batch_first: bool = False, out_proj=None,
):  # fmt: skip
    """(out like query, per-head weights P (N, h, L, S')), inputs already checked.

    ``in_proj_weight`` None means the separate q/k/v weights; ``dropout_p`` is applied as
    given (pass 0.0 in evaluation). ``is_causal`` without ``attn_mask`` builds the causal
    mask; with one, ``attn_mask`` is used. An unbatched call's P is (1, h, L, S').
    ``out_proj``: the Linear module holding out_proj_weight and out_proj_bias, if any; it is
    called instead of F.linear so that its forward hooks fire (ember.diagnose's activation
    capture, nn.summary) and the ops inside are attributed to it.
    """
    batched = query.ndim == 3
    same_kv, self_attn = key is value, query is key and key is value
    if not batched:  # (L, E) → (1, L, E)
        query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        if key_padding_mask is not None:
            key_padding_mask = as_row(key_padding_mask, key.shape[1])
    elif not batch_first:  # (L, N, E) → (N, L, E), a view
        query, key, value = (t.transpose(0, 1) for t in (query, key, value))
    if self_attn:  # the layout change made three tensors of one: keep the fused projection
        key = value = query
    elif same_kv:
        value = key
    n, length, E, s = *query.shape, key.shape[1]
    h, d = num_heads, E // num_heads
    _check_dtypes(query, key, value, in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight)
    q, k, v = _in_projection(
        query, key, value, in_proj_weight, in_proj_bias, q_proj_weight, k_proj_weight,
        v_proj_weight,
    )  # fmt: skip
    extra = 0  # keys appended after the S given ones (bias_k/v, zero attention)
    if bias_k is not None:
        k = F.cat([k, bias_k.expand(n, 1, E)], dim=1)
        v = F.cat([v, bias_v.expand(n, 1, E)], dim=1)
        extra += 1
    # split heads: (N, L, E) → (N, L, h, d) → (N, h, L, d), views only
    q, k, v = (t.reshape(n, t.shape[1], h, d).transpose(1, 2) for t in (q, k, v))
    if add_zero_attn:
        zeros = Tensor(xp.zeros((n, h, 1, d), dtype=q.dtype))
        k, v = F.cat([k, zeros], dim=2), F.cat([v, zeros], dim=2)
        extra += 1
    mask = _mask(attn_mask, key_padding_mask, is_causal, n, h, length, s, q.dtype, batched)
    if mask is not None and extra:  # the appended keys are never masked
        mask = F.pad(mask, (0, extra))
    o, p = F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, dropout_p=dropout_p, need_weights=True
    )
    o = o.transpose(1, 2).reshape(n, length, E)  # merge heads
    out = F.linear(o, out_proj_weight, out_proj_bias) if out_proj is None else out_proj(o)
    if not batched:
        out = out.reshape(length, E)
    elif not batch_first:
        out = out.transpose(0, 1)
    return out, p


def returned_weights(p, batched: bool, need_weights: bool, average: bool):
    """What the caller gets back from the per-head P (N, h, L, S'): None, the mean over heads
    (N, L, S'), or P itself; without the batch axis for unbatched input."""
    if not need_weights:
        return None
    if average:
        p = p.mean(axis=1)
    return p if batched else p.reshape(p.shape[1:])


def _check_dtypes(query, key, value, w, wq, wk, wv) -> None:
    """Inputs of the projection weights' dtype, refused as torch's RuntimeError (InputTypeError:
    F.linear's TypeError before) with the fix, before any arithmetic runs. Under autocast the
    projections cast both, as F.linear does."""
    if autocast_active():
        return
    ws = (w, w, w) if w is not None else (wq, wk, wv)
    for name, t, wt in zip(("query", "key", "value"), (query, key, value), ws):
        if t.dtype != wt.dtype:
            raise InputTypeError(
                f"multi-head attention: {name} dtype {t.dtype} differs from the projection"
                f" weights' dtype {wt.dtype} (convert the input with .to({wt.dtype}) or the"
                f" module with .to({t.dtype}))"
            )


def _in_projection(query, key, value, w, b, wq, wk, wv):
    """Q·W^Qᵀ + b^Q, K·W^Kᵀ + b^K, V·W^Vᵀ + b^V, each (N, L or S, E); ``w`` (3E, E) stacks
    W^Q, W^K, W^V, or is None and ``wq``, ``wk``, ``wv`` are given."""
    E = query.shape[-1]
    bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
    if w is not None:
        if query is key and key is value:  # self-attention: one GEMM for all three
            qkv = F.linear(query, w, b)
            n, length = qkv.shape[0], qkv.shape[1]
            q, k, v = qkv.reshape(n, length, 3, E).split(1, dim=2)
            return (t.reshape(n, length, E) for t in (q, k, v))
        wq, wk, wv = w[:E], w[E : 2 * E], w[2 * E :]
    return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)


def _mask(attn_mask, key_padding_mask, is_causal, n, h, length, s, dtype, batched=True):
    """One additive mask broadcastable to (N, h, L, S), or None.

    Wrong shapes raise torch's classes: its RuntimeError (InputError) for a 2-D or 3-D
    attn_mask of the wrong size, its AssertionError (InputAssertionError) for other ranks, an
    unbatched call's 3-D mask, and key_padding_mask.
    """
    m = None
    warn_mismatched_masks(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask")
    if attn_mask is not None:
        am = additive_mask(attn_mask, dtype, true_means_blocked=True)
        if am.shape == (length, s):
            m = am
        elif am.shape == (n * h, length, s):
            m = am.reshape(n, h, length, s)
        else:
            cls = InputError if am.ndim == 2 or (am.ndim == 3 and batched) else InputAssertionError
            raise cls(
                f"attn_mask must have shape ({length}, {s}) or ({n * h}, {length}, {s}),"
                f" got {tuple(am.shape)}"
            )
    elif is_causal:
        m = causal_mask(length, s, dtype)
    if key_padding_mask is not None:
        kp = additive_mask(key_padding_mask, dtype, true_means_blocked=True)
        if kp.shape != (n, s):
            raise InputAssertionError(
                f"key_padding_mask must have shape ({n}, {s}), got {tuple(kp.shape)}"
            )
        kp = kp.reshape(n, 1, 1, s)
        m = kp if m is None else m + kp
    return m


def warn_mismatched_masks(mask, mask_name: str, other, other_name: str) -> None:
    """torch's deprecation warning for a key-padding mask whose dtype is not the attention
    mask's (a boolean one beside a float one, or float32 beside float64)."""
    if mask is None or other is None:
        return
    if _dtype(mask) != _dtype(other):
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type"
            " for both instead.",
            stacklevel=2,
        )


def canonical_masks(key_padding_mask, attn_mask, dtype, names: tuple[str, str]):
    """torch's F._canonical_mask for a layer's pair of masks: the mismatch warning under the
    layer's names, then each boolean mask as the additive float mask of ``dtype`` (True =
    blocked → -inf), so that the attention inside sees one type and warns no more."""
    warn_mismatched_masks(key_padding_mask, names[0], attn_mask, names[1])
    return (
        additive_mask(key_padding_mask, dtype, true_means_blocked=True),
        additive_mask(attn_mask, dtype, true_means_blocked=True),
    )


def _dtype(mask):
    return mask.dtype if isinstance(mask, Tensor) else as_array(mask).dtype


def check_inputs(
    query, key, value, embed_dim, kdim, vdim, batch_first: bool, packed: bool = False
) -> None:
    """Clear errors for shapes the arithmetic would otherwise trip over somewhere inside.

    torch checks all but the batch sizes with ``assert``: InputAssertionError, which ember's
    ValueError callers catch too; the batch sizes it trips over later, as RuntimeError, and
    so a key and value of one shape but the wrong width for the ``packed`` in_proj_weight.
    """
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise InputAssertionError(
            "multi-head attention expects query, key and value all 3-D (batched) or all 2-D"
            f" (unbatched), got shapes {query.shape}, {key.shape}, {value.shape}"
        )
    for name, t, want in (("query", query, embed_dim), ("key", key, kdim), ("value", value, vdim)):
        if t.shape[-1] != want:
            # torch asserts the shapes, but a key and value of one shape pass to its packed
            # in_proj_weight's matmul, which refuses them with a RuntimeError
            fed = packed and name != "query" and key.shape == value.shape
            raise (InputError if fed else InputAssertionError)(
                f"{name} has {t.shape[-1]} features (shape {t.shape}), expected {want}"
            )
    if key.shape[:-1] != value.shape[:-1]:
        raise InputAssertionError(
            f"key shape {key.shape} and value shape {value.shape} must agree in all but"
            " the last (feature) axis"
        )
    if query.ndim == 3:
        n_axis = 0 if batch_first else 1
        if query.shape[n_axis] != key.shape[n_axis]:
            raise InputError(
                f"query batch {query.shape[n_axis]} (shape {query.shape}) differs from key"
                f" batch {key.shape[n_axis]} (shape {key.shape}); batch axis {n_axis}"
                f" with batch_first={batch_first}"
            )


def as_row(mask, s: int):
    """An unbatched key_padding_mask (S,) as a batch of one (1, S)."""
    m = mask if isinstance(mask, Tensor) else as_array(mask)
    if tuple(m.shape) != (s,):
        raise InputAssertionError(
            f"key_padding_mask for unbatched (2-D) inputs must have shape ({s},), got"
            f" {tuple(m.shape)}"
        )
    return m.reshape(1, s)
