"""Connectionist Temporal Classification loss, forward (α) and backward (β) in log space.

Graves, Fernández, Gomez & Schmidhuber, "Connectionist Temporal Classification:
Labelling Unsegmented Sequence Data with Recurrent Neural Networks", ICML 2006.
"""

from __future__ import annotations

from ..backend import errstate, get_array_module
from ..function import Function


def _lse3(a, b, c):
    """log(eᵃ + eᵇ + eᶜ) elementwise, shifted by the max; -inf in all three gives -inf."""
    xp = get_array_module(a)
    m = xp.maximum(xp.maximum(a, b), c)
    finite = xp.isfinite(m)
    ms = xp.where(finite, m, 0.0)
    with errstate(divide="ignore"):
        s = xp.log(xp.exp(a - ms) + xp.exp(b - ms) + xp.exp(c - ms)) + ms
    return xp.where(finite, s, m)


def _shift(a, k, fill):
    """a[..., s-k] at position s (k > 0) or a[..., s+|k|] (k < 0), ``fill`` where out of range."""
    xp = get_array_module(a)
    out = xp.full_like(a, fill)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


class CTCLoss(Function):
    """Per-sample CTC loss −log p(l|x) from log-probabilities y (T, N, C).

    The label l (length S) is extended with blanks: l' = (b, l_1, b, l_2, …, l_S, b),
    |l'| = 2S + 1. With y_t^k the log-probability of class k at time t (log space
    throughout, ⊕ = log-sum-exp):

        α_1(1) = y_1^b,   α_1(2) = y_1^{l_1},   α_1(s) = −∞ for s > 2
        α_t(s) = y_t^{l'_s} + [α_{t-1}(s) ⊕ α_{t-1}(s-1)]          if l'_s = b or l'_{s-2} = l'_s
        α_t(s) = y_t^{l'_s} + [α_{t-1}(s) ⊕ α_{t-1}(s-1) ⊕ α_{t-1}(s-2)]   otherwise
        log p(l|x) = α_T(|l'|) ⊕ α_T(|l'|-1)

        β_T(|l'|) = y_T^b,   β_T(|l'|-1) = y_T^{l_S},   β_T(s) = −∞ otherwise
        β_t(s) = y_t^{l'_s} + [β_{t+1}(s) ⊕ β_{t+1}(s+1) (⊕ β_{t+1}(s+2) when l'_{s+2} ≠ l'_s ≠ b)]

    Both α and β include y_t at t (torch's convention), so α_t(s) + β_t(s) − y_t^{l'_s}
    − log p(l|x) = log γ_t(s), the posterior probability of being at s at time t, and
    Σ_s γ_t(s) = 1. The gradient is torch's (it treats y as log-softmax outputs, i.e.
    it is the gradient w.r.t. the logits, and equals the true one after log_softmax's
    backward because Σ_k of it is 0 at every t):

        ∂ℓ/∂y_t^k = e^{y_t^k} − Σ_{s: l'_s = k} γ_t(s)      for t < T_n, 0 after

    An impossible alignment (T too short) gives ℓ = ∞ and, as in torch, NaN gradients,
    unless ``zero_infinity`` turns both into 0.

    Shapes: y (T, N, C); targets (N, S_max) as int, rows padded; input_lengths and
    target_lengths (N,). Returns the per-sample losses (N,). Vectorised over the batch
    and the label positions; the recursions loop over t only.
    """

    def forward(self, y, targets, input_lengths, target_lengths, blank=0, zero_infinity=False):
        xp = get_array_module(y)
        tmax, n, _ = y.shape
        smax = targets.shape[1] if targets.ndim == 2 else 0
        width = 2 * smax + 1
        rows = xp.arange(n)
        ninf = -xp.inf
        # l' (N, 2S+1): blanks at even positions, the labels at odd ones
        lx = xp.full((n, width), blank, dtype=xp.int64)
        if smax:
            lx[:, 1::2] = targets
        pos = xp.arange(width)
        valid = pos[None, :] < (2 * target_lengths + 1)[:, None]  # (N, 2S+1)
        # the skip s-2 → s is allowed where l'_s ≠ b and l'_s ≠ l'_{s-2}
        skip = xp.zeros((n, width), dtype=bool)
        if smax:
            skip[:, 2:] = (lx[:, 2:] != blank) & (lx[:, 2:] != lx[:, :-2])
        # y gathered along l': yx[t, n, s] = y_t^{l'_s}, −∞ past each sample's l'
        yx = xp.take_along_axis(y, xp.broadcast_to(lx[None], (tmax, n, width)), axis=2)
        yx = xp.where(valid[None], yx, ninf)

        alpha = xp.full((tmax, n, width), ninf, dtype=y.dtype)
        if tmax:
            alpha[0, :, :2] = yx[0, :, :2]
        for t in range(1, tmax):
            a = alpha[t - 1]
            a2 = xp.where(skip, _shift(a, 2, ninf), ninf)
            alpha[t] = yx[t] + _lse3(a, _shift(a, 1, ninf), a2)

        # log p(l|x) = α_{T_n}(2S_n+1) ⊕ α_{T_n}(2S_n), read at each sample's own length
        tl = input_lengths
        last = alpha[xp.maximum(tl - 1, 0), rows]  # (N, 2S+1)
        end = 2 * target_lengths
        a_end = last[rows, end]
        a_pen = xp.where(target_lengths > 0, last[rows, xp.maximum(end - 1, 0)], ninf)
        logp = xp.logaddexp(a_end, a_pen)
        # no frames at all: the empty label has p = 1, any other p = 0
        logp = xp.where(tl > 0, logp, xp.where(target_lengths == 0, 0.0, ninf))
        nll = -logp
        self.y, self.yx, self.alpha, self.lx, self.skip, self.nll = y, yx, alpha, lx, skip, nll
        self.tl, self.target_lengths, self.zero_infinity = tl, target_lengths, zero_infinity
        if zero_infinity:
            nll = xp.where(xp.isinf(nll), 0.0, nll)
        return nll.astype(y.dtype, copy=False)

    def backward(self, gy):
        xp = get_array_module(gy)
        y, yx, alpha, lx, skip, nll = self.y, self.yx, self.alpha, self.lx, self.skip, self.nll
        tl, tgl = self.tl, self.target_lengths
        tmax, n, c = y.shape
        width = lx.shape[1]
        rows = xp.arange(n)
        ninf = -xp.inf
        # β_{T_n}: the two end positions of each sample's l' may be reached, nothing else
        end_mask = xp.full((n, width), ninf, dtype=y.dtype)
        end_mask[rows, 2 * tgl] = 0.0
        has_pen = tgl > 0
        end_mask[rows[has_pen], 2 * tgl[has_pen] - 1] = 0.0
        skip_up = _shift(skip, -2, False)  # s → s+2 allowed where s+2 may be skipped to
        log_gamma = xp.full((tmax, n, width), ninf, dtype=y.dtype)
        beta = xp.full((n, width), ninf, dtype=y.dtype)
        for t in range(tmax - 1, -1, -1):
            b2 = xp.where(skip_up, _shift(beta, -2, ninf), ninf)
            nxt = _lse3(beta, _shift(beta, -1, ninf), b2)
            at_end = (t == tl - 1)[:, None]
            nxt = xp.where(at_end, end_mask, xp.where((t < tl - 1)[:, None], nxt, ninf))
            beta = yx[t] + nxt
            # log γ_t(s) = α_t(s) + β_t(s) − y_t^{l'_s} − log p(l|x)
            with errstate(invalid="ignore"):  # −∞ past each l' (yx = −∞) stays −∞
                lg = alpha[t] + beta - yx[t] + nll[:, None]
            log_gamma[t] = xp.where(yx[t] > ninf, lg, ninf)
        # Σ_{s: l'_s = k} γ_t(s): one bincount over flat (t, n, k) indices
        flat = (xp.arange(tmax)[:, None, None] * n + rows[None, :, None]) * c + lx[None]
        with errstate(invalid="ignore"):
            gamma = xp.exp(log_gamma)
        occ = xp.bincount(flat.ravel(), weights=gamma.ravel(), minlength=tmax * n * c)
        g = xp.exp(y) - occ.reshape(tmax, n, c).astype(y.dtype, copy=False)
        inf_loss = xp.isinf(nll)
        # torch: an infinite loss leaves NaN everywhere in its sample (−∞ + ∞) ...
        g = xp.where(inf_loss[None, :, None], xp.nan, g)
        # ... and nothing flows from frames past each sample's input length
        live = xp.arange(tmax)[:, None] < tl[None, :]  # (T, N)
        keep = live if not self.zero_infinity else live & ~inf_loss[None, :]
        g = xp.where(keep[:, :, None], g, 0.0) * gy[None, :, None]
        return (g.astype(y.dtype, copy=False), None, None, None)
