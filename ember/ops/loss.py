"""Fused, numerically stable losses with hand-written backward.

The composed versions (log_softmax then gather, sigmoid then log) are in
``ember.functional`` beside these; tests hold the two equal.
"""

from __future__ import annotations

from ..backend import errstate, get_array_module
from ..function import Function, unbroadcast
from .reduce import log_softmax_array


def reduce_cross_entropy(fn, nll, smooth, eps, c: int, n: int, w_t, reduction, dtype):
    """The loss from each row's weighted nll and smoothing terms, torch's way: for 'mean'
    (1-ε)·Σnll/Σw + (ε/C)·Σsmooth/Σw (0/0 gives NaN), with Σw kept as ``fn.denom`` for
    backward; 'sum' and 'none' of (1-ε)·nll + (ε/C)·smooth. CrossEntropy and the chunked
    linear_cross_entropy share it."""
    xp = get_array_module(nll)
    if reduction == "mean":
        fn.denom = n if w_t is None else w_t.sum()
        with errstate(invalid="ignore", divide="ignore"):
            loss = nll.sum() / fn.denom
            if eps:
                loss = (1 - eps) * loss + (eps / c) * (smooth.sum() / fn.denom)
        return xp.asarray(loss, dtype=dtype)
    loss = nll if not eps else (1 - eps) * nll + (eps / c) * smooth
    if reduction == "none":
        return loss.astype(dtype, copy=False)
    return xp.asarray(loss.sum(), dtype=dtype)


class CrossEntropy(Function):
    """Cross-entropy from logits z (N, C) and class indices t (N,).

    ℓ_n = -(1-ε)·log p_{n,t_n} - (ε/C)·Σ_c log p_{n,c},   log p = log_softmax(z)
    ∂ℓ_n/∂z_n = p_n - (1-ε)·onehot(t_n) - ε/C

    ``weight`` (C,) scales each class's term as in torch; samples whose target
    equals ``ignore_index`` count for nothing, and get a zero gradient even when every sample
    is ignored (the mean is then 0/0 = NaN, as torch's). reduction ∈ {mean, sum, none}; mean
    divides each of the two terms by the summed weights of the counted samples, as torch.
    """

    def forward(self, z, t, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
        xp = get_array_module(z)
        n, c = z.shape
        logp = log_softmax_array(z, axis=1)
        keep = t != ignore_index
        all_kept = bool(keep.all())
        tt = t if all_kept else xp.where(keep, t, 0)
        rows = xp.arange(n)
        if weight is not None:
            w_t = weight[tt] if all_kept else weight[tt] * keep
        else:  # unit weights: the common case, kept as plain numbers where possible
            w_t = None if all_kept else keep.astype(z.dtype)
        nll = -logp[rows, tt]
        if w_t is not None:
            nll *= w_t
        eps = label_smoothing
        smooth = None
        if eps:
            smooth = -(logp * weight if weight is not None else logp).sum(axis=1)
            if not all_kept:
                smooth *= keep
        self.logp, self.rows, self.tt, self.w_t, self.keep = logp, rows, tt, w_t, keep
        self.weight, self.eps, self.reduction, self.all_kept = weight, eps, reduction, all_kept
        return reduce_cross_entropy(self, nll, smooth, eps, c, n, w_t, reduction, z.dtype)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = xp.exp(self.logp)  # p
        c = g.shape[1]
        eps, w, w_t = self.eps, self.weight, self.w_t
        # d(w_t·nll)/dz = w_t·(p - onehot);  d(smooth)/dz = Σ_c w_c·p - w   (unit weights: C·p - 1)
        if eps:
            p = g.copy()
        if w_t is None:
            g[self.rows, self.tt] -= 1
            if eps:
                g *= 1 - eps
        else:
            g *= (w_t * (1 - eps))[:, None]
            g[self.rows, self.tt] -= w_t * (1 - eps)
        if eps:
            smooth = p * w.sum() - w if w is not None else p * c - 1
            if not self.all_kept:
                smooth *= self.keep[:, None]
            g += (eps / c) * smooth
        if self.reduction == "none":
            g *= gy[:, None]
        elif self.reduction == "sum":
            g *= gy
        else:
            with errstate(invalid="ignore", divide="ignore"):
                g *= gy / self.denom
        if not self.all_kept:
            g[~self.keep] = 0  # an ignored sample: no gradient, even where Σw = 0 made NaN
        return (g.astype(self.logp.dtype, copy=False), None)


class NLLLoss(Function):
    """ℓ_n = -w_{t_n}·x_{n,t_n} for log-probabilities x (N, C)."""

    def forward(self, x, t, weight=None, ignore_index=-100, reduction="mean"):
        xp = get_array_module(x)
        n = x.shape[0]
        keep = t != ignore_index
        tt = xp.where(keep, t, 0)
        rows = xp.arange(n)
        w_t = (weight[tt] if weight is not None else xp.ones(n, dtype=x.dtype)) * keep
        loss = -x[rows, tt] * w_t
        self.shape, self.rows, self.tt, self.w_t, self.reduction = x.shape, rows, tt, w_t, reduction
        self.keep = keep
        self.dtype = x.dtype
        if reduction == "none":
            return loss.astype(x.dtype, copy=False)
        if reduction == "sum":
            return xp.asarray(loss.sum(), dtype=x.dtype)
        self.denom = w_t.sum()
        with errstate(invalid="ignore"):  # every sample ignored: 0/0 = NaN, as torch
            return xp.asarray(loss.sum() / self.denom, dtype=x.dtype)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = xp.zeros(self.shape, dtype=self.dtype)
        with errstate(invalid="ignore", divide="ignore"):
            scale = gy if self.reduction != "mean" else gy / self.denom
            gk = -self.w_t * scale
        g[self.rows, self.tt] = xp.where(self.keep, gk, 0)  # ignored: 0, not 0·inf
        return (g, None)


class BCEWithLogits(Function):
    """ℓ = -w·[p·y·log σ(z) + (1-y)·log(1-σ(z))], computed as
    (1-y)·z + (1 + (p-1)·y)·softplus(-z) so that it never overflows;
    ∂ℓ/∂z = w·[(1 + (p-1)·y)·σ(z) - p·y];   ∂ℓ/∂y = w·[(p-1)·softplus(-z) - z]."""

    def forward(self, z, y, weight=None, pos_weight=None, reduction="mean"):
        xp = get_array_module(z)
        sp = xp.logaddexp(0, -z)  # softplus(-z) = -log σ(z)
        if pos_weight is not None:
            lw = 1 + (pos_weight - 1) * y
            loss = (1 - y) * z + lw * sp
        else:
            lw = None
            loss = (1 - y) * z + sp
        if weight is not None:
            loss = loss * weight
        self.z, self.y, self.weight, self.pos_weight, self.lw = z, y, weight, pos_weight, lw
        self.sp, self.n = sp, loss.size
        self.reduction = reduction
        if reduction == "none":
            return loss
        if reduction == "sum":
            return xp.asarray(loss.sum(), dtype=z.dtype)
        return xp.asarray(loss.mean(), dtype=z.dtype)

    def backward(self, gy):
        from ..backend import expit

        xp = get_array_module(gy)
        s = expit(self.z)
        y = self.y
        if self.pos_weight is not None:
            g = self.lw * s - self.pos_weight * y
        else:
            g = s - y
        if self.weight is not None:
            g = g * self.weight
        if self.reduction == "mean":
            g = g * (gy / g.size)
        else:
            g = g * gy
        g = xp.broadcast_to(g, self.z.shape) if g.shape != self.z.shape else g
        gyy = None
        if self.needs_input_grad[1]:  # a target that requires grad (soft labels from a model)
            gyy = -self.z if self.pos_weight is None else (self.pos_weight - 1) * self.sp - self.z
            if self.weight is not None:
                gyy = gyy * self.weight
            gyy = gyy * (gy / self.n if self.reduction == "mean" else gy)
            gyy = unbroadcast(gyy, y.shape).astype(y.dtype, copy=False)
        return (g.astype(self.z.dtype, copy=False), gyy)


class BCE(Function):
    """Binary cross-entropy on probabilities x, each log clamped at -100 as in torch:

    ℓ = -w·[y·max(log x, -100) + (1-y)·max(log(1-x), -100)]
    ∂ℓ/∂x = w·(x - y) / max(x·(1-x), ε)        ε = 1e-12 in float32 (torch's), finite at 0 and 1
    ∂ℓ/∂y = -w·logit(x) = w·[log(1-x) - log x]
    """

    def forward(self, x, y, weight=None, reduction="mean"):
        xp = get_array_module(x)
        with errstate(divide="ignore"):  # log 0 = -inf is clamped just below
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = -(y * log_x + (1 - y) * log_1mx)
        if weight is not None:
            loss = loss * weight
        self.x, self.y, self.weight, self.reduction = x, y, weight, reduction
        if reduction == "none":
            return loss
        total = loss.sum() if reduction == "sum" else loss.mean()
        return xp.asarray(total, dtype=x.dtype)

    def backward(self, gy):
        xp = get_array_module(gy)
        x, y, w = self.x, self.y, self.weight
        n = x.size if self.reduction == "mean" else 1
        nx, ny = self.needs_input_grad[:2]
        gx = gyy = None
        if nx:  # torch's order of operations, so that float64 results agree to the last bits
            gx = gy * (x - y) / xp.maximum(x * (1 - x), float(xp.float32(1e-12)))
            gx = (gx * w if w is not None else gx) / n
            gx = xp.broadcast_to(gx, x.shape).astype(x.dtype, copy=False)
        if ny:
            with errstate(divide="ignore"):  # -logit(x), unclamped as torch's
                gyy = gy * (xp.log1p(-x) - xp.log(x))
            gyy = (gyy * w if w is not None else gyy) / n
            gyy = unbroadcast(gyy, y.shape).astype(y.dtype, copy=False)
        return gx, gyy
