"""MultiheadAttention with torch's constructor, parameter names, layout and mask polarity."""

from __future__ import annotations

from .. import backend
from .. import functional as F
from ..backend import to_numpy, xp
from ..functional.attention import additive_mask, causal_mask
from ..tensor import Tensor, as_array
from . import init
from .linear import Linear
from .module import Module, Parameter


class MultiheadAttention(Module):
    """MultiHead(Q, K, V) = Concat(head_1, …, head_h)·W^O

    head_i = Attention(Q·W_i^Q, K·W_i^K, V·W_i^V)
    Attention(Q, K, V) = softmax(Q·Kᵀ/√d_k + M)·V,   d_k = embed_dim / num_heads

    Storage as torch, so its state_dicts load: ``in_proj_weight`` (3E, E) stacks W^Q, W^K,
    W^V (rows of head i are i·d_k … (i+1)·d_k within each block), ``in_proj_bias`` (3E,);
    with kdim/vdim ≠ embed_dim, ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim),
    ``v_proj_weight`` (E, vdim) instead; ``out_proj`` a Linear(E, E) holding W^O.

    Shapes: query (L, N, E) — (N, L, E) with ``batch_first`` — or unbatched (L, E); key
    (S, N, kdim), value (S, N, vdim). Returns (output like query, weights) with weights
    (N, L, S) averaged over heads, (N, h, L, S) with ``average_attn_weights=False``, or None
    with ``need_weights=False``.

    Mask polarity (torch's, for this module): boolean ``key_padding_mask`` (N, S) and
    ``attn_mask`` (L, S) or (N·h, L, S) are **True where attention is NOT allowed**; float
    masks are added to the scores. (F.scaled_dot_product_attention's boolean mask is the
    opposite: True = take part.) A query with every key blocked gets zero attention output and
    zero weights, as torch with need_weights=False (its SDPA path); torch's need_weights=True
    path gives NaN there instead, which ember does not copy (it would poison the gradients).

    ember adds ``record_weights``: when True, each forward keeps the per-head weights
    (N, h, L, S) as a NumPy array in ``last_attn_weights`` (for attention maps).
    Vaswani et al. 2017.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        backend.check_device(device)
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be > 0, got {embed_dim}, {num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim = embed_dim // num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first = batch_first
        dtype = dtype or backend.DEFAULT_DTYPE
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(xp.empty((3 * E, E), dtype))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight = Parameter(xp.empty((E, E), dtype))
            self.k_proj_weight = Parameter(xp.empty((E, self.kdim), dtype))
            self.v_proj_weight = Parameter(xp.empty((E, self.vdim), dtype))
        self.in_proj_bias = Parameter(xp.empty(3 * E, dtype)) if bias else None
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:  # one learned extra key and value that every query can attend to
            self.bias_k = Parameter(xp.empty((1, 1, E), dtype))
            self.bias_v = Parameter(xp.empty((1, 1, E), dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn  # one more key and value, all zeros
        self.record_weights = False
        self.last_attn_weights = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # torch: Xavier-uniform projections, zero biases
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projections(self, query, key, value):
        """Q·W^Q + b^Q, K·W^K + b^K, V·W^V + b^V, each (N, L or S, E)."""
        E, b = self.embed_dim, self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one GEMM for all three
                qkv = F.linear(query, w, b)
                n, length = qkv.shape[0], qkv.shape[1]
                q, k, v = qkv.reshape(n, length, 3, E).split(1, dim=2)
                return (t.reshape(n, length, E) for t in (q, k, v))
            wq, wk, wv = w[:E], w[E : 2 * E], w[2 * E :]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def _check_inputs(self, query, key, value):
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                "MultiheadAttention expects query, key and value all 3-D (batched) or all 2-D"
                f" (unbatched), got shapes {query.shape}, {key.shape}, {value.shape}"
            )
        for name, t, want in (
            ("query", query, self.embed_dim),
            ("key", key, self.kdim),
            ("value", value, self.vdim),
        ):
            if t.shape[-1] != want:
                raise ValueError(
                    f"{name} has {t.shape[-1]} features (shape {t.shape}), expected {want}"
                )
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(
                f"key shape {key.shape} and value shape {value.shape} must agree in all but"
                " the last (feature) axis"
            )
        if query.ndim == 3:
            n_axis = 0 if self.batch_first else 1
            if query.shape[n_axis] != key.shape[n_axis]:
                raise ValueError(
                    f"query batch {query.shape[n_axis]} (shape {query.shape}) differs from key"
                    f" batch {key.shape[n_axis]} (shape {key.shape}); batch axis {n_axis}"
                    f" with batch_first={self.batch_first}"
                )

    def _mask(self, attn_mask, key_padding_mask, is_causal, n, length, s, dtype):
        """One additive mask broadcastable to (N, h, L, S), or None."""
        h = self.num_heads
        m = None
        if attn_mask is not None:
            am = additive_mask(attn_mask, dtype, true_means_blocked=True)
            if am.shape == (length, s):
                m = am
            elif am.shape == (n * h, length, s):
                m = am.reshape(n, h, length, s)
            else:
                raise ValueError(
                    f"attn_mask must have shape ({length}, {s}) or ({n * h}, {length}, {s}),"
                    f" got {tuple(am.shape)}"
                )
        elif is_causal:
            m = causal_mask(length, s, dtype)
        if key_padding_mask is not None:
            kp = additive_mask(key_padding_mask, dtype, true_means_blocked=True)
            if kp.shape != (n, s):
                raise ValueError(f"key_padding_mask must have shape ({n}, {s}), got {kp.shape}")
            kp = kp.reshape(n, 1, 1, s)
            m = kp if m is None else m + kp
        return m

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask=None,
        need_weights: bool = True,
        attn_mask=None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ):
        self._check_inputs(query, key, value)
        batched = query.ndim == 3
        same_kv, self_attn = key is value, query is key and key is value
        if not batched:  # (L, E) → (1, L, E)
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = as_row(key_padding_mask, key.shape[1])
        elif not self.batch_first:  # (L, N, E) → (N, L, E), a view
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        if self_attn:
            key = value = query
        elif same_kv:
            value = key
        n, length, s = query.shape[0], query.shape[1], key.shape[1]
        h, d = self.num_heads, self.head_dim
        q, k, v = self._projections(query, key, value)
        extra = 0  # keys appended after the S given ones (bias_k/v, zero attention)
        if self.bias_k is not None:
            k = F.cat([k, self.bias_k.expand(n, 1, self.embed_dim)], dim=1)
            v = F.cat([v, self.bias_v.expand(n, 1, self.embed_dim)], dim=1)
            extra += 1
        # split heads: (N, L, E) → (N, L, h, d) → (N, h, L, d), views only
        q, k, v = (t.reshape(n, t.shape[1], h, d).transpose(1, 2) for t in (q, k, v))
        if self.add_zero_attn:
            zeros = Tensor(xp.zeros((n, h, 1, d), dtype=q.dtype))
            k, v = F.cat([k, zeros], dim=2), F.cat([v, zeros], dim=2)
            extra += 1
        mask = self._mask(attn_mask, key_padding_mask, is_causal, n, length, s, q.dtype)
        if mask is not None and extra:  # the appended keys are never masked
            mask = F.pad(mask, (0, extra))
        p = self.dropout if self.training else 0.0
        o, weights = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=p, need_weights=True
        )
        if self.record_weights:
            self.last_attn_weights = to_numpy(weights.array).copy()
        out = self.out_proj(o.transpose(1, 2).reshape(n, length, self.embed_dim))
        if not batched:
            out = out.reshape(length, self.embed_dim)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        if not batched:
            weights = weights.reshape(weights.shape[1:])
        return out, weights

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout},"
            f" batch_first={self.batch_first}"
        )


def as_row(mask, s: int):
    """An unbatched key_padding_mask (S,) as a batch of one (1, S)."""
    m = mask if isinstance(mask, Tensor) else as_array(mask)
    if tuple(m.shape) != (s,):
        raise ValueError(
            f"key_padding_mask for unbatched (2-D) inputs must have shape ({s},), got"
            f" {tuple(m.shape)}"
        )
    return m.reshape(1, s)
