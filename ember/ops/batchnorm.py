"""Batch normalisation, forward and backward fused per channel.

    μ_B  = (1/M) Σ_i x_i                   mean over the batch (and pixels) of one channel
    σ²_B = (1/M) Σ_i (x_i − μ_B)²          biased variance
    x̂_i  = (x_i − μ_B) / √(σ²_B + ε)
    y_i  = γ · x̂_i + β

M = N·H·W for (N, C, H, W), N·L for (N, C, L), N for (N, C). Backward, with the sums
over the same M positions:

    ∂L/∂β = Σ_i ∂L/∂y_i        ∂L/∂γ = Σ_i ∂L/∂y_i · x̂_i
    ∂L/∂x_i = γ / √(σ²_B + ε) · (∂L/∂y_i − ∂L/∂β / M − x̂_i · ∂L/∂γ / M)

In evaluation the running statistics stand in for μ_B and σ²_B, and they are constants:
y = γ·(x − μ)/√(σ² + ε) + β, so ∂L/∂x = γ/√(σ² + ε) · ∂L/∂y.

Ioffe & Szegedy 2015, "Batch Normalization".
"""

from __future__ import annotations

from ..backend import get_array_module, split_run, vecdot
from ..function import Function, half_in_float32

#: From this many elements on, the channels are shared between the cores, a contiguous range
#: each (a BasicBlock's 32×64×32×32 batch norm, forward + backward: 2.3 → 1.4–1.8 ms). Cache-
#: sized blocks of channels within a range were measured too: slower (more calls), not kept.
PARALLEL_ELEMENTS = 1 << 20


def channel_rows(a):
    """a (N, C, ...) as the matrix (C, M) of its channels, a view when a is channel-major."""
    return a.swapaxes(0, 1).reshape(a.shape[1], -1)


def by_channel_ranges(fn, c: int, m: int) -> None:
    """fn(lo, hi) over the channel rows [0, c): one call, or for a large tensor one range of
    channels per core (backend.split_run); every channel's sums are the same bits either way."""
    split_run(lambda _, lo, hi: fn(lo, hi), c, min_part=1 if c * m >= PARALLEL_ELEMENTS else c + 1)


@half_in_float32
class BatchNorm(Function):
    """Outputs (y, μ_B, σ²_B); the statistics are for the running averages and take no gradient.

    Inputs: x (N, C, ...), γ (C,) or None, β (C,) or None, and in evaluation the running
    mean and variance (C,) as constants.

    Works on the channel rows X (C, M) of x: every sum is along a contiguous row, Σ x̂·∂L/∂y
    is one dot product per row, and y comes out channel-major (C, N, ...) in memory, the
    layout convolutions read and write, whatever the layout of x. Keeps X − μ and
    1/√(σ² + ε) for the backward; x̂ is their product and is never stored. A large tensor's
    channels are shared between the cores (by_channel_ranges).
    """

    multi_output = True

    def forward(self, x, gamma=None, beta=None, running_mean=None, running_var=None,
                use_batch_stats=True, eps=1e-5):  # fmt: skip
        xp = get_array_module(x)
        c, dt = x.shape[1], x.dtype
        m = x.size // c
        x_cm = x.swapaxes(0, 1)  # (C, N, ...)
        x_c, y = xp.empty((c, m), dt), xp.empty((c, m), dt)  # X − μ, y as channel rows
        if use_batch_stats:
            mu, var = xp.empty(c, dt), xp.empty(c, dt)
        else:
            mu = running_mean.astype(dt, copy=False)
            var = running_var.astype(dt, copy=False)
        rstd = xp.empty(c, dt)

        def rows(lo, hi):
            # the range's rows, a view when x is channel-major (a copy otherwise): sums along
            # contiguous rows give every channel the same bits whatever the ranges
            xs, xc = x_cm[lo:hi].reshape(hi - lo, m), x_c[lo:hi]
            if use_batch_stats:
                mu[lo:hi] = xs.sum(axis=1) / m
            xp.subtract(xs, mu[lo:hi, None], out=xc)  # X − μ
            if use_batch_stats:
                var[lo:hi] = vecdot(xc, xc) / m
            rstd[lo:hi] = 1.0 / xp.sqrt(var[lo:hi] + eps)
            # y = x̂·γ + β with x̂ = (x − μ)·rstd folded into one scale per channel: x̂ itself
            # is never stored (backward reads x − μ and rstd), which saves a pass over x
            scale = rstd[lo:hi] if gamma is None else rstd[lo:hi] * gamma[lo:hi]
            xp.multiply(xc, scale[:, None], out=y[lo:hi])
            if beta is not None:
                y[lo:hi] += beta[lo:hi, None]

        by_channel_ranges(rows, c, m)
        self.x_c, self.rstd, self.gamma, self.mu = x_c, rstd, gamma, mu  # μ: recorded rule
        self.batch_stats, self.m, self.eps = use_batch_stats, m, eps
        y = y.reshape(x_cm.shape).swapaxes(0, 1)  # (N, C, ...), memory (C, N, ...)
        return y, mu, var

    def backward(self, gy, g_mu=None, g_var=None):
        if g_mu is not None or g_var is not None:
            raise RuntimeError("batch_norm: the batch statistics it returns carry no gradient")
        xp = get_array_module(gy)
        x_c, rstd, gamma, m = self.x_c, self.rstd, self.gamma, self.m
        need_x, need_g, need_b = (list(self.needs_input_grad) + [False] * 3)[:3]
        c, dt = x_c.shape[0], x_c.dtype
        G = channel_rows(gy)  # ∂L/∂y as (C, M): a copy only when gy is not channel-major
        g_beta, g_gamma = xp.empty(c, dt), xp.empty(c, dt)
        gx = xp.empty((c, m), dt) if need_x else None

        def rows(lo, hi):
            gs, xc, r = G[lo:hi], x_c[lo:hi], rstd[lo:hi]
            g_beta[lo:hi] = gs.sum(axis=1)
            g_gamma[lo:hi] = vecdot(gs, xc) * r  # Σ ∂L/∂y · x̂
            if not need_x:
                return
            scale = r if gamma is None else r * gamma[lo:hi]
            out = gx[lo:hi]
            if self.batch_stats:  # scale · (G − ∂L/∂β / M − x̂ · ∂L/∂γ / M)
                xp.multiply(xc, (-r * g_gamma[lo:hi] / m)[:, None], out=out)
                out += gs
                out -= (g_beta[lo:hi] / m)[:, None]
                out *= scale[:, None]
            else:
                xp.multiply(gs, scale[:, None], out=out)

        by_channel_ranges(rows, c, m)
        if need_x:
            gx = gx.reshape((gy.shape[1], gy.shape[0]) + gy.shape[2:]).swapaxes(0, 1)
        return (gx, g_gamma if need_g else None, g_beta if need_b else None) + (None,) * (
            len(self.needs_input_grad) - 3
        )
