"""Attention over independent slices with the scores kept keys-major: Sᵀ as (S, n, L).

The same equations as ``attention.py`` (ScaledDotProductAttention's docstring), for n slices
(batch × heads) of queries (L, E), keys (S, E) and values (S, Ev), with one mask (L, S) or
none, and no dropout. Why the transposed layout: the softmax reduces over the keys, and in
NumPy a reduction over short rows runs one row at a time (the max over 64 keys of 48 × 64
rows took 189 µs), while over the first axis of (S, n·L) it is a handful of long
elementwise passes (16 µs). Every product still runs as BLAS on strided 2-D slices:

    Sᵀ_b = K_b·(s·Q_b)ᵀ              written straight into Sᵀ[:, b, :]
    Pᵀ   = softmax of Sᵀ + Mᵀ over the keys (axis 0), stable, blocked rows → 0
    Oᵀ_b = V_bᵀ·Pᵀ_b,                O_b = (Oᵀ_b)ᵀ
    ∂Aᵀ_b = V_b·∂O_bᵀ (+ ∂weightsᵀ)   ∂V_b = Pᵀ_b·∂O_b
    ∂Sᵀ  = Pᵀ ⊙ (∂Aᵀ − Σ_keys ∂Aᵀ ⊙ Pᵀ)
    ∂Q_b = s·(K_bᵀ·∂Sᵀ_b)ᵀ,           ∂K_b = s·∂Sᵀ_b·Q_b
"""

from __future__ import annotations

from ..backend import get_array_module


def softmax_over_keys(s, masked: bool):
    """softmax(s) over axis 0, in place on ``s`` (S, n, L), as masked_softmax_array: a query
    whose keys are all blocked (-∞) gets weights 0, and subnormal weights are flushed to 0
    (they would slow the next product ~100× on x86 and count for nothing)."""
    xp = get_array_module(s)
    if s.shape[0] == 0:  # no keys (S = 0): nothing to normalise, O = 0 as torch
        return s
    m = s.max(axis=0)
    if masked:
        m[~xp.isfinite(m)] = 0
    s -= m
    xp.exp(s, out=s)
    s *= s >= xp.finfo(s.dtype).tiny
    z = s.sum(axis=0)
    if masked:
        z[z == 0] = 1
    s /= z
    return s


def attend_keys_major(q, k, v, mask, scale):
    """O (n, L, Ev) and Pᵀ (S, n, L) for slices q (n, L, E), k (n, S, E), v (n, S, Ev) and
    an additive mask (L, S) or None."""
    xp = get_array_module(q)
    n, length, e = q.shape
    s_len = k.shape[1]
    qs_t = xp.empty((n, e, length), xp.result_type(q, k))
    xp.multiply(q.swapaxes(1, 2), scale, out=qs_t)  # (s·Q_b)ᵀ, contiguous
    p_t = xp.empty((s_len, n, length), qs_t.dtype)
    xp.matmul(k, qs_t, out=p_t.transpose(1, 0, 2))  # Sᵀ_b = K_b·(s·Q_b)ᵀ
    if mask is not None:
        p_t += mask.T[:, None, :]
    softmax_over_keys(p_t, masked=mask is not None)
    v_t = xp.ascontiguousarray(v.swapaxes(1, 2))
    out_t = xp.matmul(v_t, p_t.transpose(1, 0, 2))  # Oᵀ_b = V_bᵀ·Pᵀ_b, (n, Ev, L)
    return xp.ascontiguousarray(out_t.swapaxes(1, 2)), p_t


def attend_keys_major_backward(p_t, q, k, v, scale, g_out, g_weights, nq, nk, nv, nm):
    """(∂Q/s, ∂K, ∂V, ∂S) for one run of attend_keys_major; ∂S as an (n, L, S) view."""
    xp = get_array_module(p_t)
    g_a_t = gv = None
    if g_out is not None:
        g_out_t = xp.ascontiguousarray(g_out.swapaxes(1, 2))  # (n, Ev, L)
        g_a_t = xp.empty(p_t.shape, p_t.dtype)
        xp.matmul(v, g_out_t, out=g_a_t.transpose(1, 0, 2))  # ∂Aᵀ_b = V_b·∂O_bᵀ
        if nv:
            gv = xp.matmul(p_t.transpose(1, 0, 2), g_out)  # ∂V_b = Pᵀ_b·∂O_b
    if g_weights is not None:
        g_w_t = g_weights.transpose(2, 0, 1)  # (S, n, L)
        if g_a_t is None:
            g_a_t = xp.ascontiguousarray(g_w_t, dtype=p_t.dtype)
        else:
            g_a_t += g_w_t
    if nv and gv is None:
        gv = xp.zeros(v.shape, dtype=v.dtype)
    if g_a_t is None:  # nothing reached the scores
        zq = xp.zeros(q.shape, dtype=q.dtype) if nq else None
        zk = xp.zeros(k.shape, dtype=k.dtype) if nk else None
        return zq, zk, gv, None
    g_s_t = g_a_t
    g_s_t *= p_t  # ∂Aᵀ ⊙ Pᵀ
    g_s_t -= p_t * g_s_t.sum(axis=0)  # ∂Sᵀ = Pᵀ ⊙ (∂Aᵀ − Σ_keys ∂Aᵀ ⊙ Pᵀ)
    gq = gk = None
    if nq:
        k_t = xp.ascontiguousarray(k.swapaxes(1, 2))  # (n, E, S)
        gq_t = xp.matmul(k_t, g_s_t.transpose(1, 0, 2))  # K_bᵀ·∂Sᵀ_b, (n, E, L)
        gq = xp.ascontiguousarray(gq_t.swapaxes(1, 2))
    if nk:
        gk = xp.matmul(g_s_t.transpose(1, 0, 2), q)  # ∂Sᵀ_b·Q_b
        gk *= scale
    return gq, gk, gv, g_s_t.transpose(1, 2, 0) if nm else None
