"""BERT: a bidirectional Transformer encoder, and a sentence encoder on top (all-MiniLM-L6-v2).

h₀ = LN(E_word[x_t] + E_pos[t] + E_type[s_t])               embeddings
a = LN(h + W_O·MultiHead(h))                                 post-norm self-attention
h' = LN(a + W₂·GELU(W₁·a + b₁) + b₂)                          post-norm feed-forward
sentence = normalise(Σ_t m_t·h_L,t / Σ_t m_t)                 mean pooling over real tokens

Parameter names are those of Hugging Face's BertModel (``embeddings.word_embeddings``,
``encoder.layer.0.attention.self.query`` …), so its safetensors files load unchanged.
Devlin et al. 2019; Reimers & Gurevych 2019 (Sentence-BERT); Wang et al. 2020 (MiniLM).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from .. import functional as F
from ..backend import xp
from ..nn import Dropout, Embedding, LayerNorm, Linear, Module, ModuleList
from ..safetensors_read import load_file
from ..tensor import Tensor


@dataclass
class BertConfig:
    vocab_size: int = 30522
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0

    @classmethod
    def from_json(cls, path) -> BertConfig:
        raw = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        if raw.get("hidden_act", "gelu") not in ("gelu", "relu", "gelu_new"):
            raise ValueError(f"unsupported hidden_act {raw['hidden_act']!r} in {path}")
        return cls(**{k: v for k, v in raw.items() if k in known})


def _act(name: str):
    return {
        "gelu": F.gelu,
        "relu": F.relu,
        "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    }[name]


class BertEmbeddings(Module):
    """h₀ = Dropout(LN(E_word[x] + E_pos[t] + E_type[s]))"""

    def __init__(self, c: BertConfig):
        super().__init__()
        self.word_embeddings = Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = Dropout(c.hidden_dropout_prob)
        self.max_positions = c.max_position_embeddings

    def forward(self, input_ids, token_type_ids=None) -> Tensor:
        n, t = input_ids.shape
        if t > self.max_positions:
            raise ValueError(f"{t} tokens exceed max_position_embeddings {self.max_positions}")
        if token_type_ids is None:
            token_type_ids = xp.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.position_embeddings(xp.arange(t))
        x = x + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(Module):
    """Q, K, V = h·W_Qᵀ, h·W_Kᵀ, h·W_Vᵀ (+ biases); per head softmax(Q·Kᵀ/√d + M)·V, concat."""

    def __init__(self, c: BertConfig):
        super().__init__()
        if c.hidden_size % c.num_attention_heads:
            raise ValueError(
                f"hidden_size {c.hidden_size} not divisible by {c.num_attention_heads} heads"
            )
        self.query = Linear(c.hidden_size, c.hidden_size)
        self.key = Linear(c.hidden_size, c.hidden_size)
        self.value = Linear(c.hidden_size, c.hidden_size)
        self.num_heads = c.num_attention_heads
        self.dropout_p = c.attention_probs_dropout_prob
        self.record_weights = False
        self.last_attn_weights = None

    def forward(self, h: Tensor, mask) -> Tensor:
        n, t, e = h.shape
        nh, d = self.num_heads, e // self.num_heads
        q, k, v = (
            lin(h).reshape(n, t, nh, d).transpose(1, 2)
            for lin in (self.query, self.key, self.value)
        )
        p = self.dropout_p if self.training else 0.0
        out, w = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=p, need_weights=True
        )
        if self.record_weights:
            self.last_attn_weights = w.array.copy()
        return out.transpose(1, 2).reshape(n, t, e)


class BertSelfOutput(Module):
    """a = LN(h + Dropout(W_O·attn + b_O))"""

    def __init__(self, c: BertConfig):
        super().__init__()
        self.dense = Linear(c.hidden_size, c.hidden_size)
        self.LayerNorm = LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = Dropout(c.hidden_dropout_prob)

    def forward(self, x: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertAttention(Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, h, mask):
        return self.output(self.self(h, mask), h)


class BertIntermediate(Module):
    """u = GELU(W₁·a + b₁)"""

    def __init__(self, c: BertConfig):
        super().__init__()
        self.dense = Linear(c.hidden_size, c.intermediate_size)
        self.act = _act(c.hidden_act)

    def forward(self, a):
        return self.act(self.dense(a))


class BertOutput(BertSelfOutput):
    """h' = LN(a + Dropout(W₂·u + b₂))"""

    def __init__(self, c: BertConfig):
        super().__init__(c)
        self.dense = Linear(c.intermediate_size, c.hidden_size)


class BertLayer(Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, h, mask):
        a = self.attention(h, mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.layer = ModuleList([BertLayer(c) for _ in range(c.num_hidden_layers)])

    def forward(self, h, mask):
        for layer in self.layer:
            h = layer(h, mask)
        return h


class BertPooler(Module):
    """pooled = tanh(W·h_[CLS] + b)"""

    def __init__(self, c: BertConfig):
        super().__init__()
        self.dense = Linear(c.hidden_size, c.hidden_size)

    def forward(self, h):
        return self.dense(h[:, 0]).tanh()


class BertModel(Module):
    """forward(input_ids (N, T), attention_mask (N, T) of 1/0, token_type_ids) →
    last hidden states (N, T, hidden_size). ``attention_mask`` 1 = real token, 0 = padding
    (Hugging Face's convention); padded keys get no attention."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None) -> Tensor:
        ids = _ints(input_ids, "input_ids")
        if ids.ndim != 2:
            raise ValueError(f"input_ids must have shape (N, T), got {ids.shape}")
        mask = None
        if attention_mask is not None:
            am = _ints(attention_mask, "attention_mask")
            if am.shape != ids.shape:
                raise ValueError(f"attention_mask shape {am.shape} != input_ids shape {ids.shape}")
            mask = (am != 0)[:, None, None, :]  # (N, 1, 1, T): True = attend (F.sdpa polarity)
        tt = None if token_type_ids is None else _ints(token_type_ids, "token_type_ids")
        return self.encoder(self.embeddings(ids, tt), mask)

    @classmethod
    def from_pretrained(cls, model_dir) -> BertModel:
        """Build from ``config.json`` and load ``model.safetensors`` (no pickle anywhere)."""
        model_dir = Path(model_dir)
        model = cls(BertConfig.from_json(model_dir / "config.json"))
        weights = load_file(model_dir / "model.safetensors")  # bfloat16 files read as float32
        weights = {k.removeprefix("bert."): v for k, v in weights.items()}
        weights.pop("embeddings.position_ids", None)  # a constant arange, not a parameter
        model.load_state_dict(weights)
        return model.eval()


def _ints(a, name):
    a = a.array if isinstance(a, Tensor) else xp.asarray(a)
    if a.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    return a


def mean_pool(h: Tensor, attention_mask) -> Tensor:
    """Σ_t m_t·h_t / max(Σ_t m_t, 1e-9): the average over real (unpadded) tokens."""
    m = xp.asarray(attention_mask, dtype=h.dtype)[:, :, None]
    counts = xp.maximum(m.sum(axis=1), 1e-9)
    return (h * Tensor(m)).sum(axis=1) / Tensor(counts)


def l2_normalize(x: Tensor, eps: float = 1e-12) -> Tensor:
    """x / max(‖x‖₂, ε) along the last axis."""
    norm = (x * x).sum(axis=-1, keepdims=True).sqrt()
    return x / norm.clip(min=eps)
