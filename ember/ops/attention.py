"""Scaled dot-product attention as one fused op with a hand-written backward.

The composed version (matmul, add, softmax, dropout, matmul from primitives) is
``ember.functional.scaled_dot_product_attention_composed``; a test holds the two equal.
"""

from __future__ import annotations

from ..backend import get_array_module, parallel_for
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
        xp = get_array_module(q)
        self.scale, self.dropout_mask = scale, dropout_mask
        self.mask_shape = None if mask is None else mask.shape
        lead = _split_lead(q, k, v, mask, dropout_mask)
        if lead is None:  # broadcasting between operands: one call over everything
            out, self.p, self.a, self.qs = _attend(q, k, v, mask, scale, dropout_mask)
            self.k, self.v = k, v
            return out, self.a
        # every (batch, head) slice is independent: slices are shared among the threads
        g = _prod(lead)
        q3, k3, v3 = (x.reshape(g, *x.shape[-2:]) for x in (q, k, v))
        d3 = None if dropout_mask is None else dropout_mask.reshape(g, *dropout_mask.shape[-2:])
        m2 = None if mask is None else mask.reshape(mask.shape[-2:])
        out = xp.empty(q3.shape[:-1] + v3.shape[-1:], dtype=q.dtype)
        p = xp.empty(q3.shape[:-1] + k3.shape[-2:-1], dtype=q.dtype)
        a = p if d3 is None else xp.empty_like(p)
        qs = xp.empty_like(q3)

        def slices(lo, hi):
            d = None if d3 is None else d3[lo:hi]
            o_, p_, a_, qs_ = _attend(q3[lo:hi], k3[lo:hi], v3[lo:hi], m2, scale, d)
            out[lo:hi], p[lo:hi], qs[lo:hi] = o_, p_, qs_
            if d3 is not None:
                a[lo:hi] = a_

        parallel_for(slices, g, max(1, _GRAIN // p[0].size))
        self.p, self.a, self.qs, self.k, self.v, self.lead = p, a, qs, k3, v3, lead
        return out.reshape(lead + out.shape[1:]), a.reshape(lead + a.shape[1:])

    def backward(self, g_out, g_weights):
        xp = get_array_module(self.p)
        nq, nk, nv, *nm = self.needs_input_grad
        nm = bool(nm and nm[0])
        lead = getattr(self, "lead", None)
        if lead is None:
            gq, gk, gv, g_s = _attend_backward(self, g_out, g_weights, nq, nk, nv, nm)
            gm = unbroadcast(g_s, self.mask_shape) if nm and g_s is not None else None
            return _shaped(gq, self.qs.shape, self.scale), _shaped(gk, self.k.shape), (
                _shaped(gv, self.v.shape)), gm  # fmt: skip
        g = _prod(lead)
        g_out = None if g_out is None else g_out.reshape(g, *g_out.shape[-2:])
        g_weights = None if g_weights is None else g_weights.reshape(self.p.shape)
        gq = xp.empty_like(self.qs) if nq else None
        gk = xp.empty_like(self.k) if nk else None
        gv = xp.empty_like(self.v) if nv else None
        g_s_all = xp.empty_like(self.p) if nm else None

        def slices(lo, hi):
            part = _Slice(self, lo, hi)
            go = None if g_out is None else g_out[lo:hi]
            gw = None if g_weights is None else g_weights[lo:hi]
            r = _attend_backward(part, go, gw, nq, nk, nv, nm)
            for full, got in zip((gq, gk, gv, g_s_all), r):
                if full is not None:
                    full[lo:hi] = 0 if got is None else got

        parallel_for(slices, g, max(1, _GRAIN // self.p[0].size))
        if gq is not None:
            gq *= self.scale
        gm = None
        if nm:
            gm = unbroadcast(g_s_all.reshape(lead + g_s_all.shape[1:]), self.mask_shape)
        shape = lead + self.qs.shape[1:]
        return (
            None if gq is None else gq.reshape(shape),
            None if gk is None else gk.reshape(lead + self.k.shape[1:]),
            None if gv is None else gv.reshape(lead + self.v.shape[1:]),
            gm,
        )


_GRAIN = 1 << 14  # score elements per thread below which splitting does not pay


def _prod(shape) -> int:
    n = 1
    for k in shape:
        n *= k
    return n


def _split_lead(q, k, v, mask, dropout_mask):
    """The shared leading (batch, head) shape when q, k, v have it and the mask only
    broadcasts over it (or there is none); None otherwise."""
    lead = q.shape[:-2]
    if not lead or k.shape[:-2] != lead or v.shape[:-2] != lead:
        return None
    if mask is not None and (mask.ndim < 2 or any(m != 1 for m in mask.shape[:-2])):
        return None
    if dropout_mask is not None and dropout_mask.shape[:-2] != lead:
        return None
    return lead


def _attend(q, k, v, mask, scale, dropout_mask):
    """O, P, A and s·Q for one set of slices: the forward equations above."""
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
    return a @ v, p, a, qs


class _Slice:
    """The saved arrays of slices lo:hi, for _attend_backward."""

    def __init__(self, op, lo, hi):
        self.p, self.a, self.qs = op.p[lo:hi], op.a[lo:hi], op.qs[lo:hi]
        self.k, self.v = op.k[lo:hi], op.v[lo:hi]
        self.dropout_mask = None if op.dropout_mask is None else op.dropout_mask.reshape(
            op.p.shape)[lo:hi]  # fmt: skip


def _attend_backward(saved, g_out, g_weights, nq, nk, nv, nm):
    """(∂Q/s, ∂K, ∂V, ∂S) by the backward equations above; unbroadcast by the caller."""
    xp = get_array_module(saved.p)
    p, a, k, v, qs, d = saved.p, saved.a, saved.k, saved.v, saved.qs, saved.dropout_mask
    g_a = gv = None
    if g_out is not None:
        g_a = g_out @ _mT(v)
        if nv:
            gv = _mT(a) @ g_out
    if g_weights is not None:
        g_a = g_weights if g_a is None else g_a + g_weights
    if nv and gv is None:
        gv = xp.zeros(a.shape[:-2] + v.shape[-2:], dtype=v.dtype)
    if g_a is None:  # nothing reached the scores
        zq = xp.zeros(qs.shape, dtype=qs.dtype) if nq else None
        zk = xp.zeros(a.shape[:-2] + k.shape[-2:], dtype=k.dtype) if nk else None
        return zq, zk, gv, None
    g_p = g_a * d if d is not None else g_a
    g_s = g_p * p
    g_s -= p * _row_sum(g_s)
    gq = g_s @ k if nq else None
    gk = _mT(g_s) @ qs if nk else None
    return gq, gk, gv, g_s if nm else None


def _shaped(g, shape, scale=None):
    """g summed back to an operand's shape (it may have broadcast), times scale if given."""
    if g is None:
        return None
    g = unbroadcast(g, shape)
    return g * scale if scale is not None else g
