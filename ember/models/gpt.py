"""GPT: a decoder-only causal language model (nanoGPT's layout and parameter names).

h₀ = E[x_t] + P[t]                                   token + learned position embeddings
a_l = h_{l-1} + Attn_causal(LN₁(h_{l-1}))            pre-LayerNorm blocks
h_l = a_l + W₂·GELU(W₁·LN₂(a_l))                     MLP 4× wide
logits = LN_f(h_L)·Eᵀ                                 head tied to the token embedding

Names follow karpathy/nanoGPT (``transformer.wte``, ``transformer.h.0.attn.c_attn`` …,
``lm_head``) so its checkpoints load. Radford et al. 2018/2019.
"""

from __future__ import annotations

import math

from .. import functional as F
from ..backend import default_generator, xp
from ..function import no_grad
from ..nn import (
    Dropout,
    Embedding,
    LayerNorm,
    Linear,
    Module,
    ModuleDict,
    ModuleList,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
    init,
)
from ..tensor import Tensor
from .registry import register_model


class KVCache:
    """Keys and values of the positions seen so far, per layer, preallocated (N, h, T_max, d).

    Generation feeds one new token at a time; attention then needs the keys and values of
    all earlier positions, which the cache keeps instead of recomputing them.
    """

    def __init__(self, n_layer: int, batch: int, n_head: int, max_len: int, head_dim: int, dtype):
        shape = (batch, n_head, max_len, head_dim)
        self.k = [xp.zeros(shape, dtype) for _ in range(n_layer)]
        self.v = [xp.zeros(shape, dtype) for _ in range(n_layer)]
        self.length = 0  # positions stored (the same in every layer once a forward ends)
        self.max_len = max_len

    def append(self, layer: int, k: Tensor, v: Tensor):
        """Store the new positions' k, v (N, h, T_new, d); return all keys and values so far."""
        start, t = self.length, k.shape[2]
        n, h, _, d = self.k[0].shape
        if layer >= len(self.k) or (k.shape[0], k.shape[1], k.shape[3]) != (n, h, d):
            raise ValueError(
                f"KV cache made for {len(self.k)} layers, batch {n}, {h} heads of size {d};"
                f" got layer {layer} with keys of shape {k.shape} (N, h, T, d): make the cache"
                " with this model's new_cache(batch)"
            )
        if start + t > self.max_len:
            raise ValueError(f"KV cache holds {self.max_len} positions; {start + t} requested")
        self.k[layer][:, :, start : start + t] = k.array
        self.v[layer][:, :, start : start + t] = v.array
        return Tensor(self.k[layer][:, :, : start + t]), Tensor(self.v[layer][:, :, : start + t])


class CausalSelfAttention(Module):
    """Multi-head causal self-attention with one packed projection c_attn (C → 3C).

    [Q, K, V] = x·W_attnᵀ + b;  per head: softmax(Q·Kᵀ/√d + causal mask)·V;  y = c_proj(concat)
    """

    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool, rotary=None):
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"n_embd {n_embd} must be divisible by n_head {n_head}")
        self.c_attn = Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = Dropout(dropout)
        self.n_head, self.n_embd, self.dropout = n_head, n_embd, dropout
        self.rotary = rotary
        self.record_weights = False
        self.last_attn_weights = None

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        B, T, C = x.shape
        h = self.n_head
        qkv = self.c_attn(x).reshape(B, T, 3, h, C // h)
        q, k, v = (t.reshape(B, T, h, C // h).transpose(1, 2) for t in qkv.split(1, dim=2))
        offset = cache.length if cache is not None else 0
        if self.rotary is not None:
            q, k = self.rotary(q, offset), self.rotary(k, offset)
        mask, causal = None, True
        if cache is not None:
            k, v = cache.append(layer, k, v)
            causal = False
            if T > 1:  # new queries at positions offset…offset+T-1 see keys ≤ their position
                blocked = xp.triu(xp.ones((T, offset + T), dtype=bool), k=offset + 1)
                mask = ~blocked
        p = self.dropout if self.training else 0.0
        y, w = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal, need_weights=True
        )
        if self.record_weights:
            self.last_attn_weights = w.array.copy()
        y = y.transpose(1, 2).reshape(B, T, C)  # merge heads
        return self.resid_dropout(self.c_proj(y))


class MLP(Module):
    """MLP(x) = Dropout(W₂·GELU(W₁·x + b₁) + b₂), hidden width 4·n_embd.

    GELU exact (x·Φ(x), nanoGPT) or ``gelu_approximate="tanh"`` (GPT-2's original form)."""

    def __init__(self, n_embd: int, dropout: float, bias: bool, gelu_approximate="none"):
        super().__init__()
        self.c_fc = Linear(n_embd, 4 * n_embd, bias=bias)
        self.c_proj = Linear(4 * n_embd, n_embd, bias=bias)
        self.dropout = Dropout(dropout)
        self.gelu_approximate = gelu_approximate

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), self.gelu_approximate)))


class Block(Module):
    """x = x + Attn(LN₁(x));  x = x + MLP(LN₂(x))"""

    def __init__(self, n_embd, n_head, dropout, bias, rotary=None, gelu_approximate="none"):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias, rotary)
        self.ln_2 = LayerNorm(n_embd, bias=bias)
        self.mlp = MLP(n_embd, dropout, bias, gelu_approximate)

    def forward(self, x, cache=None, layer=0):
        x = x + self.attn(self.ln_1(x), cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(Module):
    """Decoder-only Transformer language model. forward(idx (B, T) ints) → logits (B, T, V).

    ``pos_encoding``: "learned" (GPT-2, the default), "sinusoidal" or "rotary";
    ``gelu_approximate``: "none" (exact GELU, nanoGPT) or "tanh" (GPT-2's original).
    """

    def __init__(
        self,
        vocab_size: int = 65,
        block_size: int = 64,
        n_layer: int = 4,
        n_head: int = 4,
        n_embd: int = 128,
        dropout: float = 0.0,
        bias: bool = True,
        pos_encoding: str = "learned",
        gelu_approximate: str = "none",
    ):
        super().__init__()
        if gelu_approximate not in ("none", "tanh"):
            raise ValueError(f"gelu_approximate must be 'none' or 'tanh', got {gelu_approximate!r}")
        if pos_encoding not in ("learned", "sinusoidal", "rotary"):
            raise ValueError(
                f"pos_encoding must be 'learned', 'sinusoidal' or 'rotary', got {pos_encoding!r}"
            )
        self.vocab_size, self.block_size = vocab_size, block_size
        self.n_layer, self.n_head, self.n_embd = n_layer, n_head, n_embd
        self.pos_encoding = pos_encoding
        rotary = (
            RotaryEmbedding(n_embd // n_head, max_len=block_size)
            if pos_encoding == "rotary"
            else None
        )
        parts = dict(
            wte=Embedding(vocab_size, n_embd),
            drop=Dropout(dropout),
            h=ModuleList(
                [
                    Block(n_embd, n_head, dropout, bias, rotary, gelu_approximate)
                    for _ in range(n_layer)
                ]
            ),
            ln_f=LayerNorm(n_embd, bias=bias),
        )
        if pos_encoding == "learned":
            parts["wpe"] = Embedding(block_size, n_embd)
        elif pos_encoding == "sinusoidal":
            parts["wpe"] = SinusoidalPositionalEncoding(n_embd, max_len=block_size)
        self.transformer = ModuleDict(parts)
        self.lm_head = Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.transformer["wte"].weight  # weight tying
        self._init_weights(n_layer)

    def _init_weights(self, n_layer: int) -> None:
        # nanoGPT: N(0, 0.02) for weights, zero biases, residual projections scaled by 1/√(2L)
        for m in self.modules():
            if isinstance(m, (Linear, Embedding)):
                init.normal_(m.weight, 0.0, 0.02)
                if isinstance(m, Linear) and m.bias is not None:
                    init.zeros_(m.bias)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))

    def forward(self, idx, cache: KVCache | None = None) -> Tensor:
        idx = idx.array if isinstance(idx, Tensor) else xp.asarray(idx)
        if idx.ndim != 2:
            raise ValueError(f"GPT expects token ids of shape (B, T), got {idx.shape}")
        B, T = idx.shape
        offset = cache.length if cache is not None else 0
        if offset + T > self.block_size:
            raise ValueError(
                f"sequence of {offset + T} positions exceeds block_size {self.block_size}"
            )
        tr = self.transformer
        x = tr["wte"](idx)
        if self.pos_encoding == "learned":
            x = x + tr["wpe"](xp.arange(offset, offset + T))
        elif self.pos_encoding == "sinusoidal":
            x = tr["wpe"](x, offset)
        x = tr["drop"](x)
        for layer, block in enumerate(tr["h"]):
            x = block(x, cache, layer)
        if cache is not None:
            cache.length += T
        return self.lm_head(tr["ln_f"](x))

    def new_cache(self, batch: int) -> KVCache:
        d = self.n_embd // self.n_head
        dtype = self.lm_head.weight.dtype
        return KVCache(self.n_layer, batch, self.n_head, self.block_size, d, dtype)

    def generate(
        self,
        idx,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        use_cache: bool = True,
    ) -> Tensor:
        """Append ``max_new_tokens`` sampled tokens to idx (B, T); returns (B, T + new).

        Each step samples from softmax(logits/temperature) (restricted to the top_k most
        likely tokens if given; temperature 0 picks the most likely). The context is the
        last block_size tokens, as without a cache. With ``use_cache`` the keys and values
        of earlier positions are kept; when the context slides past block_size the cache
        is rebuilt from the cropped window, so the result equals the uncached one.
        """
        idx = idx.array if isinstance(idx, Tensor) else xp.asarray(idx)
        if idx.ndim == 1:
            idx = idx[None]
        was_training = self.training
        self.eval()
        cache = None
        try:
            with no_grad():
                for _ in range(max_new_tokens):
                    ctx = idx[:, -self.block_size :]
                    if not use_cache:
                        logits = self(ctx)
                    elif cache is None or cache.length >= self.block_size:
                        cache = self.new_cache(idx.shape[0])  # (re)fill from the window
                        logits = self(ctx, cache)
                    else:
                        logits = self(ctx[:, -1:], cache)
                    nxt = sample_next(logits.array[:, -1, :], temperature, top_k)
                    idx = xp.concatenate([idx, nxt[:, None]], axis=1)
        finally:
            self.train(was_training)
        return Tensor(idx)


def sample_next(logits, temperature: float = 1.0, top_k: int | None = None):
    """One token id per row from logits (B, V): top-k filter, softmax(logits/T), draw."""
    if temperature == 0:
        return logits.argmax(axis=-1)
    z = logits.astype(xp.float64) / temperature
    if top_k is not None:
        k = min(int(top_k), z.shape[-1])
        kth = xp.sort(z, axis=-1)[:, -k][:, None]
        z = xp.where(z < kth, -xp.inf, z)
    z -= z.max(axis=-1, keepdims=True)
    p = xp.exp(z)
    p /= p.sum(axis=-1, keepdims=True)
    u = default_generator.random((p.shape[0], 1), xp.float64)
    cdf = xp.cumsum(p, axis=-1)
    return xp.minimum((cdf < u).sum(axis=-1), p.shape[-1] - 1)


# The builder is the class itself: options are GPT's constructor arguments.
register_model("gpt", task="language", description="nanoGPT-style decoder-only Transformer")(GPT)
