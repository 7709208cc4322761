"""MultiheadAttention with torch's constructor, parameter names, layout and mask polarity."""

from __future__ import annotations

from .. import backend
from ..backend import to_numpy, xp
from ..errors import InputAssertionError
from ..functional.attention_backends import SDPBackend, sdpa_kernel  # noqa: F401 - torch's path
from ..tensor import Tensor
from . import init
from .attention_forward import check_inputs, multi_head_attention, returned_weights
from .linear import NonDynamicallyQuantizableLinear
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

    The arithmetic is ``multi_head_attention`` (attention_forward.py), the function of the
    weights that F.multi_head_attention_forward runs too; this module passes it its
    parameters, its batch_first (so inputs are never transposed to (L, N, E) and back) and
    its out_proj (called as a module, so hooks on it fire).

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
            raise InputAssertionError(
                f"embed_dim {embed_dim} must be divisible by num_heads {num_heads}"
            )
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
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, dtype=dtype)
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
        check_inputs(
            query, key, value, self.embed_dim, self.kdim, self.vdim, self.batch_first,
            packed=self._qkv_same_embed_dim,
        )  # fmt: skip
        # the arithmetic takes batch_first itself, so no transposes to (L, N, E) and back
        out, p = multi_head_attention(
            query, key, value, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn,
            self.dropout if self.training else 0.0, self.out_proj.weight, self.out_proj.bias,
            key_padding_mask, attn_mask, self.q_proj_weight, self.k_proj_weight,
            self.v_proj_weight, is_causal=is_causal, batch_first=self.batch_first,
            out_proj=self.out_proj,
        )  # fmt: skip
        if self.record_weights:
            self.last_attn_weights = to_numpy(p.array).copy()
        return out, returned_weights(p, query.ndim == 3, need_weights, average_attn_weights)
