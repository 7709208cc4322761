"""Transformer encoder and decoder layers, stacks, and the full encoder-decoder model.

Names, arguments and parameter layout are torch's, so torch state_dicts load unchanged.
"""

from __future__ import annotations

import copy

from .. import backend
from .. import functional as F
from ..backend import xp
from ..creation import full
from ..errors import InputError
from ..tensor import Tensor
from . import init
from .attention import MultiheadAttention
from .attention_forward import canonical_masks
from .container import ModuleList
from .dropout import Dropout
from .layernorm import LayerNorm
from .linear import Linear
from .module import Module

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation(activation):
    if callable(activation):
        return activation
    if activation not in _ACTIVATIONS:
        raise InputError(f"activation must be 'relu', 'gelu' or a callable, got {activation!r}")
    return _ACTIVATIONS[activation]


class TransformerEncoderLayer(Module):
    """One encoder block: self-attention, then a position-wise feed-forward network.

    post-norm (norm_first=False, the paper):     pre-norm (norm_first=True):
      x = LN₁(x + Dropout(SelfAttn(x)))            x = x + Dropout(SelfAttn(LN₁(x)))
      x = LN₂(x + FFN(x))                          x = x + FFN(LN₂(x))
    FFN(x) = Dropout(W₂·Dropout(act(W₁·x + b₁)) + b₂), act ReLU or GELU.

    Parameters as torch: self_attn, linear1 (dim_feedforward, d_model), linear2, norm1, norm2.
    src (S, N, E), or (N, S, E) with batch_first, or unbatched (S, E). Vaswani et al. 2017.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        backend.check_device(device)
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(
        self, src: Tensor, src_mask=None, src_key_padding_mask=None, is_causal: bool = False
    ) -> Tensor:
        src_key_padding_mask, src_mask = canonical_masks(
            src_key_padding_mask, src_mask, src.dtype, ("src_key_padding_mask", "src_mask")
        )
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        return _attention_block(
            self.self_attn, self.dropout1, x, x, attn_mask, key_padding_mask, is_causal
        )

    def _ff_block(self, x):
        return _feed_forward_block(self, x, self.dropout2)


class TransformerDecoderLayer(Module):
    """One decoder block: masked self-attention, cross-attention to the memory, FFN.

    post-norm:                                   pre-norm (norm_first=True):
      x = LN₁(x + SelfAttn(x))                     x = x + SelfAttn(LN₁(x))
      x = LN₂(x + CrossAttn(x, mem))               x = x + CrossAttn(LN₂(x), mem)
      x = LN₃(x + FFN(x))                          x = x + FFN(LN₃(x))
    (each sub-block's output passes through its dropout1/2/3 before the residual sum).

    Parameters as torch: self_attn, multihead_attn, linear1, linear2, norm1, norm2, norm3.
    tgt (T, N, E), memory (S, N, E) (batch_first: N first). Vaswani et al. 2017.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        backend.check_device(device)
        kw = dict(dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        norm = dict(eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm1 = LayerNorm(d_model, **norm)
        self.norm2 = LayerNorm(d_model, **norm)
        self.norm3 = LayerNorm(d_model, **norm)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(
                x
                + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            )
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        return _attention_block(
            self.self_attn, self.dropout1, x, x, attn_mask, key_padding_mask, is_causal
        )

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        return _attention_block(
            self.multihead_attn, self.dropout2, x, mem, attn_mask, key_padding_mask, is_causal
        )

    def _ff_block(self, x):
        return _feed_forward_block(self, x, self.dropout3)


def _attention_block(attn, dropout, x, kv, attn_mask, key_padding_mask, is_causal):
    """Dropout(Attn(x, kv, kv)): self-attention when kv is x, cross-attention to the memory."""
    y = attn(
        x, kv, kv, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
        need_weights=False, is_causal=is_causal,
    )[0]  # fmt: skip
    return dropout(y)


def _feed_forward_block(layer, x, dropout):
    """Dropout(W₂·Dropout(act(W₁·x + b₁)) + b₂) with the layer's linear1, linear2, activation."""
    return dropout(layer.linear2(layer.dropout(layer.activation(layer.linear1(x)))))


def _clones(module: Module, n: int) -> ModuleList:
    # torch deep-copies the given layer: every copy starts with the same weights
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of ``encoder_layer``, then an optional norm.

    x_{l+1} = Layer_l(x_l);  y = norm(x_L). Parameter names ``layers.0.self_attn…`` as torch.
    ``enable_nested_tensor`` and ``mask_check`` are accepted and kept, but there are no nested
    tensors: where torch's eval/no-grad fast path packs a src_key_padding_mask batch and returns
    0 at the padded positions, ember computes those positions like any other (the positions
    that are not padding agree).
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src: Tensor, mask=None, src_key_padding_mask=None, is_causal=None) -> Tensor:
        src_key_padding_mask, mask = canonical_masks(
            src_key_padding_mask, mask, src.dtype, ("src_key_padding_mask", "mask")
        )
        x = src
        for layer in self.layers:
            x = layer(
                x,
                src_mask=mask,
                src_key_padding_mask=src_key_padding_mask,
                is_causal=bool(is_causal),
            )
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    """A stack of ``num_layers`` deep copies of ``decoder_layer``, then an optional norm."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(
                x,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """The encoder-decoder Transformer of Vaswani et al. 2017 (torch.nn.Transformer).

    memory = Encoder(src);  out = Decoder(tgt, memory). Encoder and decoder end in a
    LayerNorm; every weight matrix is initialised Xavier-uniform, as torch does.
    src (S, N, E), tgt (T, N, E) (N first with batch_first) → (T, N, E).
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        backend.check_device(device)
        kw = dict(
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation,
            layer_norm_eps=layer_norm_eps,
            batch_first=batch_first,
            norm_first=norm_first,
            bias=bias,
            dtype=dtype,
        )
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, **kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, **kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask=None,
        tgt_mask=None,
        memory_mask=None,
        src_key_padding_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        src_is_causal=None,
        tgt_is_causal=None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        n_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[n_axis] != tgt.shape[n_axis]:
            raise InputError(
                f"src batch {src.shape[n_axis]} differs from tgt batch {tgt.shape[n_axis]}"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise InputError(
                f"src and tgt must have d_model={self.d_model} features,"
                f" got {src.shape}, {tgt.shape}"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """Float (sz, sz) mask: 0 on and below the diagonal, -inf above (position i sees ≤ i).

        Arguments as torch's (sz, device, dtype); the device must be the CPU. Made as torch
        makes it, triu(full((sz, sz), -inf)), so it refuses what torch's full refuses: a
        negative size, an integer dtype (-inf does not fit)."""
        m = full((sz, sz), -xp.inf, dtype=dtype or backend.DEFAULT_DTYPE, device=device)
        return Tensor(xp.triu(m.array, k=1))
