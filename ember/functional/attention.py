"""Scaled dot-product attention, fused and composed.

Attention(Q, K, V) = softmax(Q·Kᵀ/√d_k + M)·V

Mask polarity, as in torch.nn.functional.scaled_dot_product_attention: a **boolean**
``attn_mask`` is True where a query MAY attend to a key (True = take part); a float mask is
added to the scores (-inf = blocked). (nn.MultiheadAttention's masks have the opposite,
torch-compatible polarity: True = blocked; see its docstring.)
"""

from __future__ import annotations

import math

from .. import backend
from ..amp.autocast_mode import autocast_active
from ..backend import xp
from ..errors import InputError, InputTypeError
from ..mistakes import check_attention_mask
from ..ops.attention import ScaledDotProductAttention
from ..ops.complex_refuse import refuse_complex
from ..tensor import Tensor, apply, as_array
from . import attention_backends
from .activation import softmax_composed
from .shape import broadcasts_to


def additive_mask(mask, dtype, true_means_blocked: bool = False):
    """A float mask to add to scores from a boolean (or float) one; Tensors pass through.

    Boolean: True = allowed → 0, False = blocked → -inf (flipped by ``true_means_blocked``,
    torch's convention for key_padding_mask and nn.MultiheadAttention's attn_mask).
    """
    if mask is None:
        return None
    if isinstance(mask, Tensor) and mask.dtype.kind == "f":
        return mask if mask.dtype == dtype else mask.astype(dtype)
    m = as_array(mask)
    if m.dtype == backend.bool_:
        blocked = m if true_means_blocked else ~m
        out = xp.zeros(m.shape, dtype=dtype)
        out[blocked] = -xp.inf
        return Tensor(out)
    if m.dtype.kind != "f":
        raise TypeError(f"attention masks must be boolean or floating point, got dtype {m.dtype}")
    return Tensor(m.astype(dtype, copy=False))


_causal_cache: dict = {}
_CAUSAL_CACHE_SIZE = 32  # masks kept; with lengths that vary batch to batch it would grow


def causal_mask(n_queries: int, n_keys: int, dtype) -> Tensor:
    """Additive causal mask (L, S): query i sees keys j ≤ i (top-left aligned, as torch)."""
    key = (n_queries, n_keys, xp.dtype(dtype).str)
    m = _causal_cache.get(key)
    if m is None:
        m = xp.triu(xp.full((n_queries, n_keys), -xp.inf, dtype=dtype), k=1)
        if len(_causal_cache) >= _CAUSAL_CACHE_SIZE:
            _causal_cache.pop(next(iter(_causal_cache), None), None)  # the oldest
        _causal_cache[key] = m
    return Tensor(m)


def _check_qkv(query, key, value, attn_mask):
    """torch's refusals (as InputError, its RuntimeError, or InputTypeError for dtypes),
    each a comparison of shapes or dtypes: nothing here reads the data."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention: {name} must be a Tensor")
        if t.ndim < 2:
            raise InputError(f"{name} needs shape (..., seq, features), got {t.shape}")
    # under autocast the op casts all three to one dtype first (torch's lower-precision list)
    if not query.dtype == key.dtype == value.dtype and not autocast_active():
        raise InputError(
            "scaled_dot_product_attention expects query, key and value of one dtype, got"
            f" query {query.dtype}, key {key.dtype} and value {value.dtype}"
        )
    if query.dtype.kind != "f":  # the softmax needs floats; NumPy's own error would be a leak
        raise InputTypeError(
            "scaled_dot_product_attention expects floating-point query, key and value, got"
            f" {query.dtype}"
        )
    if query.shape[-1] != key.shape[-1]:
        raise InputError(
            f"query features {query.shape[-1]} (shape {query.shape}) differ from key features"
            f" {key.shape[-1]} (shape {key.shape})"
        )
    if key.shape[-2] != value.shape[-2]:
        raise InputError(
            f"key has {key.shape[-2]} positions (shape {key.shape}) but value has"
            f" {value.shape[-2]} (shape {value.shape})"
        )
    ql, kl, vl = tuple(query.shape[:-2]), tuple(key.shape[:-2]), tuple(value.shape[:-2])
    try:  # the usual equal shapes skip NumPy's broadcast_shapes, a few µs each
        lead = ql if ql == kl else xp.broadcast_shapes(ql, kl)  # the scores' batch axes
        if vl != lead:
            xp.broadcast_shapes(lead, vl)
    except ValueError:
        raise InputError(
            f"the leading (batch, head) axes of query {query.shape}, key {key.shape} and value"
            f" {value.shape} do not broadcast together (grouped-query heads need enable_gqa=True)"
        ) from None
    if attn_mask is not None:
        m = as_array(attn_mask)
        if m.dtype.kind not in "bf":
            raise InputTypeError(
                f"attn_mask must be boolean or floating point, got dtype {m.dtype}"
            )
        shape = tuple(m.shape)
        want = lead + (query.shape[-2], key.shape[-2])
        if not broadcasts_to(shape, want):  # as torch: added to the scores, it may not widen them
            raise InputError(
                f"attn_mask of shape {shape} does not broadcast to the scores' shape {want}"
                " (..., L queries, S keys) without enlarging it"
            )
        # a query row with every key masked out usually means the polarity is inverted
        check_attention_mask(attn_mask, true_means="keep")


def _prepare(query, key, value, attn_mask, dropout_p, is_causal, scale):
    if is_causal and attn_mask is not None:
        raise InputError("scaled_dot_product_attention: give either attn_mask or is_causal")
    _check_qkv(query, key, value, attn_mask)
    if not 0.0 <= dropout_p <= 1.0:  # above 1 torch's RuntimeError; below 0 torch takes it,
        error = InputError if dropout_p > 1.0 else ValueError  # ember refuses it
        raise error(f"dropout_p must be in [0, 1], got {dropout_p}")
    dtype = query.dtype
    m = additive_mask(attn_mask, dtype)
    if is_causal:
        m = causal_mask(query.shape[-2], key.shape[-2], dtype)
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    d = None
    if dropout_p > 0.0:
        shape = xp.broadcast_shapes(query.shape[:-2], key.shape[:-2]) + (
            query.shape[-2],
            key.shape[-2],
        )
        d = backend.default_generator.bernoulli_mask(1.0 - dropout_p, shape, dtype)
        if dropout_p < 1.0:
            d *= 1.0 / (1.0 - dropout_p)
    return m, s, d


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    *,
    need_weights: bool = False,
):
    """softmax(Q·Kᵀ·s + M)·V with torch's arguments and semantics, one fused op.

    query (..., L, E), key (..., S, E), value (..., S, Ev) → (..., L, Ev).
    ``attn_mask``: boolean (True = take part in attention) or float (added to the scores),
    broadcastable to (..., L, S). ``is_causal``: query i attends to keys j ≤ i.
    ``scale`` defaults to 1/√E. Dropout is applied to the weights whenever dropout_p > 0
    (as torch: pass 0.0 in evaluation). A query row with every key blocked gives zeros.
    ``enable_gqa``: grouped-query attention, key/value (N, H_kv, S, E) shared by groups of
    H_q / H_kv query heads. ember adds ``need_weights=True``: return (output, weights (..., L, S)).
    """
    for t in (query, key, value):  # torch: no complex softmax
        if t.dtype.kind == "c":
            refuse_complex(t.array, "scaled_dot_product_attention", NotImplementedError)
    if enable_gqa:
        key, value = _repeat_kv_heads(query, key), _repeat_kv_heads(query, value)
    if attention_backends._stack and attention_backends.use_composed():  # sdpa_kernel(MATH)
        return scaled_dot_product_attention_composed(
            query, key, value, attn_mask, dropout_p, is_causal, scale, need_weights=need_weights
        )
    m, s, d = _prepare(query, key, value, attn_mask, dropout_p, is_causal, scale)
    out, weights = apply(ScaledDotProductAttention, query, key, value, m, scale=s, dropout_mask=d)
    return (out, weights) if need_weights else out


def _repeat_kv_heads(query: Tensor, kv: Tensor) -> Tensor:
    """(N, H_kv, S, E) → (N, H_q, S, E), each key/value head serving H_q / H_kv query heads."""
    if query.ndim < 3 or kv.ndim < 3:
        raise InputError(
            "enable_gqa needs query, key and value of shape (..., heads, seq, features),"
            f" got query {query.shape} and key/value {kv.shape}"
        )
    hq, hkv = query.shape[-3], kv.shape[-3]
    if hq % hkv:
        raise InputError(f"enable_gqa: {hq} query heads are not a multiple of {hkv} key heads")
    if hq == hkv:
        return kv
    g = hq // hkv
    lead = kv.shape[:-3]
    expanded = kv.unsqueeze(-3).expand(*lead, hkv, g, *kv.shape[-2:])
    return expanded.reshape(*lead, hq, *kv.shape[-2:])


def scaled_dot_product_attention_composed(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    *,
    need_weights: bool = False,
):
    """The same maths from primitives, line by line: the reference for the fused op.

    S = Q·Kᵀ·s + M;  P = softmax(S);  A = P ⊙ D;  O = A·V
    """
    m, s, d = _prepare(query, key, value, attn_mask, dropout_p, is_causal, scale)
    S = (query @ key.transpose(-2, -1)) * s
    if m is not None:
        S = S + m
    P = softmax_composed(S, dim=-1)
    A = P if d is None else P * Tensor(d)
    O = A @ value
    return (O, A) if need_weights else O
