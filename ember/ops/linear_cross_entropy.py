"""Linear + cross-entropy fused over chunks of the batch: the (N, C) logits never exist whole.

For a vocabulary head (C in the tens of thousands, N tokens in the thousands) the logits
z = x·Wᵀ + b are by far the largest tensor of the step; the reference path keeps them (and
their log-softmax) alive from forward to backward. This op keeps one (B, C) chunk at a time,
saves the per-row log-sum-exp, and recomputes each chunk's logits in backward.
"""

from __future__ import annotations

from ..backend import errstate, get_array_module
from ..function import Function
from .loss import reduce_cross_entropy


class LinearCrossEntropy(Function):
    """Cross-entropy of the logits z = x·Wᵀ + b against class indices t, chunk by chunk.

    x (N, D), W (C, D), b (C,) or None, t (N,) int64. For each row n:

        z_n = W·x_n + b,   lse_n = logsumexp(z_n) = m + log Σ_c exp(z_{n,c} − m),  m = max z_n
        ℓ_n = (1−ε)·w_{t_n}·(lse_n − z_{n,t_n}) + (ε/C)·Σ_c w_c·(lse_n − z_{n,c})

    with w the class weights (1 when None), ε the label smoothing, and ℓ_n = 0 where
    t_n = ignore_index. 'mean' divides Σℓ_n by Σ_n w_{t_n} over the counted rows (0/0 = NaN
    when every row is ignored, as torch's); 'sum' and 'none' as usual.

    Backward, with p_n = softmax(z_n) = exp(z_n − lse_n) recomputed from the saved lse and
    s_n the upstream gradient of row n (gy, gy/Σw or gy_n):

        ∂L/∂z_n = s_n·[(1−ε)·w_{t_n}·(p_n − onehot(t_n)) + (ε/C)·(p_n·Σ_c w_c − w)]
        ∂L/∂x_n = ∂L/∂z_n · W,   ∂L/∂W = Σ_n ∂L/∂z_nᵀ·x_n,   ∂L/∂b = Σ_n ∂L/∂z_n

    accumulated chunk by chunk. Memory: a (B, C) chunk of logits in each pass and the (N,)
    log-sum-exp between them, instead of the (N, C) logits and their (N, C) log-softmax that
    the reference path holds from forward to backward: N·C floats saved (twice that counting
    the log-softmax), at the price of a second x·Wᵀ in backward.
    """

    def forward(
        self, x, w, b, t, weight=None, ignore_index=-100, label_smoothing=0.0,
        reduction="mean", chunk=None,
    ):  # fmt: skip
        xp = get_array_module(x)
        n, c = x.shape[0], w.shape[0]
        chunk = max(1, int(chunk or n))
        keep = t != ignore_index
        all_kept = bool(keep.all())
        tt = t if all_kept else xp.where(keep, t, 0)
        if weight is not None:
            w_t = weight[tt] if all_kept else weight[tt] * keep
        else:
            w_t = None if all_kept else keep.astype(x.dtype)
        eps = float(label_smoothing)
        lse = xp.empty(n, dtype=x.dtype)
        nll = xp.empty(n, dtype=x.dtype)
        smooth = xp.empty(n, dtype=x.dtype) if eps else None
        for s in range(0, n, chunk):
            e = min(s + chunk, n)
            z = x[s:e] @ w.T
            if b is not None:
                z += b
            m = z.max(axis=1, keepdims=True)
            z -= m
            row_lse = xp.log(xp.exp(z).sum(axis=1, keepdims=True))
            z -= row_lse  # z is now this chunk's log-softmax
            lse[s:e] = (row_lse + m)[:, 0]
            nll[s:e] = -z[xp.arange(e - s), tt[s:e]]
            if eps:
                smooth[s:e] = -(z @ weight if weight is not None else z.sum(axis=1))
        if w_t is not None:
            nll *= w_t
        if eps and not all_kept:
            smooth *= keep
        self.x, self.w, self.b, self.lse, self.tt, self.keep = x, w, b, lse, tt, keep
        self.weight, self.w_t, self.eps, self.chunk = weight, w_t, eps, chunk
        self.reduction, self.all_kept = reduction, all_kept
        return reduce_cross_entropy(self, nll, smooth, eps, c, n, w_t, reduction, x.dtype)

    def _row_coefficients(self, gy):
        """a_n = s_n·(1−ε)·w_{t_n} and k_n = s_n·ε/C, zero on ignored rows (even where s_n is
        NaN or inf because every weight summed to 0)."""
        xp = get_array_module(gy)
        n, dtype = self.lse.shape[0], self.lse.dtype
        with errstate(invalid="ignore", divide="ignore"):
            if self.reduction == "none":
                s = gy.astype(dtype, copy=False)
            else:
                scale = gy / self.denom if self.reduction == "mean" else gy
                s = xp.full(n, scale, dtype=dtype)
            a = s * (1 - self.eps)
            if self.w_t is not None:
                a = a * self.w_t
            k = s * (self.eps / self.w.shape[0]) if self.eps else None
        if not self.all_kept:
            a = xp.where(self.keep, a, 0)
            k = xp.where(self.keep, k, 0) if k is not None else None
        return a, k

    def backward(self, gy):
        xp = get_array_module(gy)
        x, w, b, weight = self.x, self.w, self.b, self.weight
        nx, nw, nb = self.needs_input_grad[:3]
        n, c = x.shape[0], w.shape[0]
        a, k = self._row_coefficients(gy)
        w_sum = weight.sum() if weight is not None else c
        gx = xp.empty_like(x) if nx else None
        gw = xp.zeros_like(w) if nw else None
        gb = xp.zeros_like(b) if nb and b is not None else None
        for s in range(0, n, self.chunk):
            e = min(s + self.chunk, n)
            z = x[s:e] @ w.T
            if b is not None:
                z += b
            z -= self.lse[s:e, None]
            g = xp.exp(z, out=z)  # p: this chunk's softmax, recomputed
            a_c = a[s:e]
            g *= (a_c + k[s:e] * w_sum)[:, None] if k is not None else a_c[:, None]
            g[xp.arange(e - s), self.tt[s:e]] -= a_c
            if k is not None:
                g -= k[s:e, None] * weight if weight is not None else k[s:e, None]
            if nx:
                gx[s:e] = g @ w
            if nw:
                gw += g.T @ x[s:e]
            if gb is not None:
                gb += g.sum(axis=0)
        return gx, gw, gb, None
