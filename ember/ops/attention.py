"""Scaled dot-product attention as one fused op with a hand-written backward.

The composed version (matmul, add, softmax, dropout, matmul from primitives) is
``ember.functional.scaled_dot_product_attention_composed``; a test holds the two equal.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function, unbroadcast
from .layernorm import _ones as _ones_vector


def _mT(a):
    """a with its last two axes swapped, copied contiguous: NumPy's stacked matmul runs a
    transposed (…, m, n) view through a slow non-BLAS loop (≈10× slower here), so the
    small copy pays for itself many times."""
    return get_array_module(a).ascontiguousarray(a.swapaxes(-1, -2))


def _row_max(s):
    """max_j s_ij over the last axis, keepdims. NumPy reduces short rows (64 keys) one row at a
    time (~100 ns each); halving the row with elementwise maxima first is ~1.6× faster."""
    xp = get_array_module(s)
    m = s
    while m.shape[-1] > 1 and m.shape[-1] % 2 == 0:
        half = m.shape[-1] // 2
        m = xp.maximum(m[..., :half], m[..., half:])
    return m.max(axis=-1, keepdims=True) if m.shape[-1] > 1 else m


def _row_sum(s):
    """Σ_j s_ij over the last axis, keepdims, as a matrix-vector product (BLAS GEMV): ~7×
    faster than NumPy's row-by-row reduction over short rows."""
    xp = get_array_module(s)
    return (s @ _ones_vector(xp, s.shape[-1], s.dtype))[..., None]


def masked_softmax_array(s, masked: bool):
    """softmax(s) along the last axis, in place on ``s`` (which the caller owns).

    P_ij = exp(S_ij - m_i) / Σ_j exp(S_ij - m_i),  m_i = max_j S_ij   (no overflow)

    With ``masked`` some S_ij are -∞; a row blocked everywhere has m_i = -∞, and instead
    of 0/0 = NaN it gets P_i = 0 (no key to attend to contributes nothing).
    """
    xp = get_array_module(s)
    m = _row_max(s)
    if masked:
        m[~xp.isfinite(m)] = 0
    s -= m
    xp.exp(s, out=s)
    # exp(S - m) below the smallest normal float (S - m < -87 in float32) is subnormal, and
    # subnormal operands slow the P·V GEMM down ~100× on x86; they count for nothing in Σ_j,
    # so they are set to 0 (trained encoders produce many: 10× slower MiniLM without this).
    # Multiplying by the mask is faster than a masked assignment (NaN stays NaN either way)
    s *= s >= xp.finfo(s.dtype).tiny
    z = _row_sum(s)
    if masked:
        z[z == 0] = 1
    s /= z
    return s


class ScaledDotProductAttention(Function):
    """Attention(Q, K, V) = softmax(Q·Kᵀ/√d_k + M)·V, fused.

    S = (s·Q)·Kᵀ + M         scores; s = 1/√d_k unless given; M additive mask (-∞ = blocked)
    P = softmax(S)          over the keys (last axis), stable
    A = P ⊙ D               attention weights after dropout (D = keep mask / (1 - p), or 1)
    O = A·V

    Backward (∂X is the gradient of the loss with respect to X):
    ∂V = Aᵀ·∂O
    ∂A = ∂O·Vᵀ  (+ the gradient arriving at the weights output)
    ∂P = ∂A ⊙ D
    ∂S = P ⊙ (∂P - Σ_j ∂P ⊙ P)
    ∂Q = s·∂S·K,   ∂K = ∂Sᵀ·(s·Q),   ∂M = ∂S summed over broadcast axes

    Shapes: Q (..., L, E), K (..., S, E), V (..., S, Ev), M broadcastable to (..., L, S);
    outputs O (..., L, Ev) and A (..., L, S). Vaswani et al. 2017, "Attention Is All You Need".
    """

    multi_output = True

    def forward(self, q, k, v, mask=None, scale=1.0, dropout_mask=None):
        qs = q * scale
        s = qs @ _mT(k)
        if mask is not None:
            if mask.ndim <= s.ndim and all(
                m in (1, n) for m, n in zip(mask.shape[::-1], s.shape[::-1])
            ):
                s += mask  # s is ours: add in place (mask broadcasts over batch and heads)
            else:
                s = s + mask
        p = masked_softmax_array(s, masked=mask is not None)
        a = p if dropout_mask is None else p * dropout_mask
        self.qs, self.k, self.v, self.p, self.a = qs, k, v, p, a
        self.scale, self.dropout_mask = scale, dropout_mask
        self.mask_shape = None if mask is None else mask.shape
        return a @ v, a

    def backward(self, g_out, g_weights):
        xp = get_array_module(self.p)
        nq, nk, nv, *nm = self.needs_input_grad
        p, a, k, v, qs, d = self.p, self.a, self.k, self.v, self.qs, self.dropout_mask
        g_a = None
        gv = None
        if g_out is not None:
            g_a = g_out @ _mT(v)
            if nv:
                gv = unbroadcast(_mT(a) @ g_out, v.shape)
        if g_weights is not None:
            g_a = g_weights if g_a is None else g_a + g_weights
        if nv and gv is None:
            gv = xp.zeros_like(v)
        if g_a is None:  # nothing reached the scores
            zeros = [None if not n else xp.zeros_like(x) for n, x in ((nq, qs), (nk, k))]
            return zeros[0], zeros[1], gv, None
        g_p = g_a * d if d is not None else g_a
        g_s = g_p * p
        g_s -= p * _row_sum(g_s)
        gq = unbroadcast(g_s @ k, qs.shape) * self.scale if nq else None
        gk = unbroadcast(_mT(g_s) @ qs, k.shape) if nk else None
        gm = unbroadcast(g_s, self.mask_shape) if nm and nm[0] else None
        return gq, gk, gv, gm
