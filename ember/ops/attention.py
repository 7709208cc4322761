"""Scaled dot-product attention as one fused op with a hand-written backward.

The composed version (matmul, add, softmax, dropout, matmul from primitives) is
``ember.functional.scaled_dot_product_attention_composed``; a test holds the two equal.
Over independent (batch, head) slices without dropout the scores are kept keys-major
(``attention_keys_major.py``: the softmax's sums over keys become long passes), elsewhere
query-major as below; a test holds the two equal too.
"""

from __future__ import annotations

import math

from ..backend import get_array_module, parallel_for, parallel_parts
from ..function import Function, half_in_float32, unbroadcast
from .attention_keys_major import attend_keys_major, attend_keys_major_backward
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
    if m.shape[-1] > 1:
        return m.max(axis=-1, keepdims=True)
    # one key from the start: m is s itself, which the caller changes (it sets a fully
    # blocked row's maximum to 0, which would unblock the key): a copy
    return s.copy() if m is s else m


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
    With no keys at all (S = 0) there is nothing to normalise: O = P·V is then 0, as torch.
    """
    xp = get_array_module(s)
    if s.shape[-1] == 0:
        return s
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


@half_in_float32
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
        self.scale, self.shapes = scale, (q.shape, k.shape, v.shape)
        self.given = (q, k, v, mask, dropout_mask)  # references, for recorded derivatives
        self.mask_shape = None if mask is None else mask.shape
        self.chunks = None  # the keys-major path's (lo, hi, Pᵀ) per chunk of slices
        self.lead = lead = _split_lead(q, k, v, mask, dropout_mask)
        if lead is None:  # broadcasting between operands: one call over everything
            self.k, self.v, self.dropout_mask = k, v, dropout_mask
            out, self.p, self.a, self.qs = _attend(q, k, v, mask, scale, dropout_mask)
            return out, self.a
        # every (batch, head) slice is independent: slices are shared among the threads
        g = math.prod(lead)
        q3, self.k, self.v = (x.reshape(g, *x.shape[-2:]) for x in (q, k, v))
        m2 = None if mask is None else mask.reshape(mask.shape[-2:])
        grain = _GRAIN // max(1, q.shape[-2] * k.shape[-2])  # L or S may be 0
        if dropout_mask is None:  # the scores keys-major: faster softmax (attention_keys_major)
            out = self._forward_keys_major(q3, m2, scale, grain)
        else:
            d3 = self.dropout_mask = dropout_mask.reshape(g, *dropout_mask.shape[-2:])

            def slices(lo, hi):
                return _attend(q3[lo:hi], self.k[lo:hi], self.v[lo:hi], m2, scale, d3[lo:hi])

            out, self.p, self.a, self.qs = _by_slices(slices, g, grain)
        return out.reshape(lead + out.shape[1:]), self.a.reshape(lead + self.a.shape[1:])

    def _forward_keys_major(self, q3, m2, scale, grain):
        """O (g, L, Ev), the slices in chunks (one per thread), each with its scores
        keys-major; the weights output ``self.a`` is a (g, L, S) view of Pᵀ."""
        xp = get_array_module(q3)
        self.q3, by_start = q3, {}

        def run(lo, hi):
            by_start[lo] = (lo, hi, *attend_keys_major(q3[lo:hi], self.k[lo:hi], self.v[lo:hi],
                                                    m2, scale))  # fmt: skip

        parallel_for(run, q3.shape[0], max(1, grain))
        parts = [by_start[lo] for lo in sorted(by_start)]
        self.chunks = [(lo, hi, p_t) for lo, hi, _, p_t in parts]
        if len(parts) == 1:
            out, p_t = parts[0][2:]
        else:
            out = xp.concatenate([part[2] for part in parts])
            p_t = xp.concatenate([part[3] for part in parts], axis=1)
        self.a = p_t.transpose(1, 2, 0)
        return out

    def _backward_keys_major(self, g_out, g_weights, nq, nk, nv, nm):
        xp = get_array_module(self.q3)
        results = [None] * len(self.chunks)

        def part(i):
            lo, hi, p_t = self.chunks[i]
            go = None if g_out is None else g_out[lo:hi]
            gw = None if g_weights is None else g_weights[lo:hi]
            q, k, v = self.q3[lo:hi], self.k[lo:hi], self.v[lo:hi]
            results[i] = attend_keys_major_backward(p_t, q, k, v, self.scale, go, gw, nq, nk,
                                                    nv, nm)  # fmt: skip

        parallel_parts(part, len(self.chunks))
        if len(results) == 1:
            return results[0]
        return tuple(None if r[0] is None else xp.concatenate(r) for r in zip(*results))

    def backward(self, g_out, g_weights):
        nq, nk, nv, *nm = self.needs_input_grad
        nm = bool(nm and nm[0])
        lead = self.lead
        if lead is None:
            gq, gk, gv, g_s = _attend_backward(self, g_out, g_weights, nq, nk, nv, nm)
        else:
            g = math.prod(lead)
            g_out = None if g_out is None else g_out.reshape(g, *g_out.shape[-2:])
            g_weights = None if g_weights is None else g_weights.reshape(g, *self.a.shape[-2:])
            if self.chunks is not None:
                grads = self._backward_keys_major(g_out, g_weights, nq, nk, nv, nm)
            else:

                def slices(lo, hi):
                    go = None if g_out is None else g_out[lo:hi]
                    gw = None if g_weights is None else g_weights[lo:hi]
                    return _attend_backward(_Slice(self, lo, hi), go, gw, nq, nk, nv, nm)

                grads = _by_slices(slices, g, _GRAIN // max(1, self.p[0].size))
            gq, gk, gv, g_s = (None if x is None else x.reshape(lead + x.shape[1:]) for x in grads)
        q_shape, k_shape, v_shape = self.shapes
        gm = unbroadcast(g_s, self.mask_shape) if nm and g_s is not None else None
        return _shaped(gq, q_shape, self.scale), _shaped(gk, k_shape), _shaped(gv, v_shape), gm


_GRAIN = 1 << 14  # score elements per thread below which splitting does not pay


def _by_slices(fn, g: int, grain: int):
    """fn(lo, hi) → a tuple of arrays (or None) for slices lo:hi of the leading axis, run over
    chunks of range(g) in parallel; the chunks' results joined along that axis (the arrays
    themselves, no copy, when one chunk ran)."""
    parts = {}
    parallel_for(lambda lo, hi: parts.__setitem__(lo, fn(lo, hi)), g, max(1, grain))
    if len(parts) == 1:
        return parts[0]
    xp = get_array_module(*[a for a in parts[0] if a is not None])
    chunks = [parts[lo] for lo in sorted(parts)]
    return tuple(None if c[0] is None else xp.concatenate(c) for c in zip(*chunks))


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
        self.dropout_mask = None if op.dropout_mask is None else op.dropout_mask[lo:hi]


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
    if scale is not None:
        g *= scale  # g is fresh: a product or a sum made by this op
    return g
