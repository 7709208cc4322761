"""CharLSTM: a character-level language model, embedding → LSTM layers → linear (char-rnn).

    e_t = E[x_t]                          embedding of the character id x_t
    h_t^(1..L), C_t^(1..L) = LSTM(e_t, state)    (the seed's equations, ``nn.LSTM``)
    z_t = W·h_t^(L) + b                   logits over the vocabulary
    p(x_{t+1} | x_≤t) = softmax(z_t)

Shapes: x (B, T) ids → logits (B, T, V), state = (h, c) each (L, B, H). Trained with truncated
BPTT by ``ember.train.language``; ``generate`` samples with temperature and top-k, feeding one
character at a time through the streaming state (Karpathy 2015, "The unreasonable
effectiveness of recurrent neural networks").
"""

from __future__ import annotations

from .. import backend, nn
from ..backend import xp
from ..function import no_grad
from ..tensor import Tensor
from .registry import register_model


def sample_next(logits, temperature: float = 1.0, top_k: int | None = None):
    """Draw one id per row from logits (B, V): softmax(z / temperature) over the top k.

    temperature 0 picks the most likely id (greedy).
    """
    z = logits.astype(xp.float64)  # on the device: the draw u arrives there too
    if temperature <= 0:
        return z.argmax(axis=-1)
    z = z / temperature
    if top_k is not None and 0 < top_k < z.shape[-1]:
        kth = xp.partition(z, -top_k, axis=-1)[:, -top_k][:, None]
        z = xp.where(z < kth, -xp.inf, z)
    p = xp.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    u = backend.default_generator.random((z.shape[0], 1), xp.float64)
    return xp.minimum((p.cumsum(axis=-1) < u).sum(axis=-1), z.shape[-1] - 1)


class CharLSTM(nn.Module):
    """Embedding(V, E) → LSTM(E, H, num_layers) → Linear(H, V); ``forward(x, state)``."""

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 128,
        hidden_size: int = 256,
        num_layers: int = 2,
        dropout: float = 0.0,
        forget_bias: float | None = 1.0,
    ):
        super().__init__()
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(
            embedding_dim, hidden_size, num_layers, batch_first=True, dropout=dropout,
            forget_bias=forget_bias,
        )  # fmt: skip
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None):
        """x (B, T) int ids → (logits (B, T, V), (h, c))."""
        e = self.embedding(x)
        y, state = self.lstm(e, state)
        return self.head(y), state

    def generate(
        self, prompt_ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None
    ):
        """Continue ``prompt_ids`` ((T,) or (B, T) ints) by ``max_new_tokens`` sampled ids.

        The prompt runs through once; then each new character is fed alone with the carried
        state (streaming), so generating n characters costs n single steps.
        """
        ids = xp.asarray(getattr(prompt_ids, "array", prompt_ids), dtype=xp.int64)
        squeeze = ids.ndim == 1
        ids = ids[None] if squeeze else ids
        if ids.shape[1] == 0:
            raise ValueError("generate() needs a prompt of at least one id")
        was_training = self.training
        self.eval()
        out = [ids]
        with no_grad():
            logits, state = self(Tensor(ids))
            for _ in range(max_new_tokens):
                nxt = sample_next(logits.array[:, -1], temperature, top_k)[:, None]
                out.append(nxt)
                logits, state = self(Tensor(nxt), state)
        self.train(was_training)
        result = backend.to_numpy(xp.concatenate(out, axis=1))  # ids to decode, on the host
        return result[0] if squeeze else result


@register_model("charlstm", task="language", description="character LSTM: embedding, 2×LSTM 256")
def charlstm(vocab_size: int, **options) -> CharLSTM:
    """Character-level LSTM language model (embedding 128 → 2-layer LSTM 256 → linear)."""
    return CharLSTM(vocab_size, **options)
