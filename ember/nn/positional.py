"""Positional encodings: sinusoidal (fixed), learned, and rotary.

Attention is blind to order; these put the position back in.
"""

from __future__ import annotations

import math

from .. import backend
from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


def sinusoidal_table(max_len: int, d_model: int, dtype=None):
    """PE(pos, 2i) = sin(pos / 10000^{2i/d}),  PE(pos, 2i+1) = cos(pos / 10000^{2i/d})."""
    pos = xp.arange(max_len, dtype=xp.float64)[:, None]
    div = xp.exp(xp.arange(0, d_model, 2, dtype=xp.float64) * (-math.log(10000.0) / d_model))
    pe = xp.zeros((max_len, d_model), dtype=xp.float64)
    pe[:, 0::2] = xp.sin(pos * div)
    pe[:, 1::2] = xp.cos(pos * div)[:, : d_model // 2]
    return pe.astype(dtype or backend.DEFAULT_DTYPE)


def _seq_axis(x: Tensor, batch_first: bool) -> int:
    if x.ndim == 2:
        return 0
    return 1 if batch_first else 0


def _check_len(name, t, max_len):
    if t > max_len:
        raise ValueError(f"{name}: sequence of length {t} exceeds max_len {max_len}")


class SinusoidalPositionalEncoding(Module):
    """x + PE[offset : offset + T], PE the fixed sinusoidal table (Vaswani et al. 2017), then
    dropout. x (N, T, E) with batch_first (default), (T, N, E) without, or (T, E).
    The table is a non-persistent buffer ``pe`` (max_len, d_model)."""

    def __init__(
        self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = True
    ):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = dropout
        self.register_buffer("pe", Tensor(sinusoidal_table(max_len, d_model)), persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        axis = _seq_axis(x, self.batch_first)
        t = x.shape[axis]
        _check_len("SinusoidalPositionalEncoding", offset + t, self.max_len)
        pe = self.pe.array[offset : offset + t].astype(x.dtype, copy=False)
        if axis == 0 and x.ndim == 3:
            pe = pe[:, None, :]
        return F.dropout(x + Tensor(pe), self.dropout, self.training)


class LearnedPositionalEmbedding(Module):
    """x + P[offset : offset + T], P (max_len, d_model) a learned table (GPT, BERT),
    initialised N(0, 0.02²). Same layouts as SinusoidalPositionalEncoding."""

    def __init__(self, max_len: int, d_model: int, batch_first: bool = True):
        super().__init__()
        self.max_len, self.d_model, self.batch_first = max_len, d_model, batch_first
        self.weight = Parameter(xp.empty((max_len, d_model), backend.DEFAULT_DTYPE))
        init.normal_(self.weight, 0.0, 0.02)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        axis = _seq_axis(x, self.batch_first)
        t = x.shape[axis]
        _check_len("LearnedPositionalEmbedding", offset + t, self.max_len)
        p = self.weight[offset : offset + t]
        if axis == 0 and x.ndim == 3:
            p = p.reshape(t, 1, self.d_model)
        return x + p


class RotaryEmbedding(Module):
    """Rotary position embedding (RoPE, Su et al. 2021), applied to queries and keys.

    θ_i = base^{-2i/d},  for position m each pair (x_i, x_{i+d/2}) is rotated by m·θ_i:
    RoPE(x)_m = x_m ⊙ cos(m·θ) + rotate_half(x_m) ⊙ sin(m·θ),
    rotate_half([x₁, x₂]) = [-x₂, x₁]
    so q_m·k_n depends on the positions only through m - n. x (..., T, head_dim).
    """

    def __init__(self, head_dim: int, max_len: int = 4096, base: float = 10000.0):
        super().__init__()
        if head_dim % 2:
            raise ValueError(f"RotaryEmbedding needs an even head_dim, got {head_dim}")
        self.head_dim, self.max_len, self.base = head_dim, max_len, base
        # θ in float64; cos/sin are computed per call for the positions used, so the
        # rotation is exact in any dtype (a float32 table would break the relative property)
        self._theta = base ** (-xp.arange(0, head_dim, 2, dtype=xp.float64) / head_dim)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        t = x.shape[-2]
        _check_len("RotaryEmbedding", offset + t, self.max_len)
        angles = xp.arange(offset, offset + t, dtype=xp.float64)[:, None] * self._theta[None, :]
        angles = xp.concatenate([angles, angles], axis=1)  # (T, head_dim)
        cos = Tensor(xp.cos(angles).astype(x.dtype))
        sin = Tensor(xp.sin(angles).astype(x.dtype))
        half = self.head_dim // 2
        x1, x2 = x.split([half, half], dim=-1)
        rotated = F.cat([-x2, x1], dim=-1)
        return x * cos + rotated * sin
