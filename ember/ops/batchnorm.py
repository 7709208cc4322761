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

from ..backend import get_array_module, subtract_c, vecdot
from ..function import Function


def channel_rows(a):
    """a (N, C, ...) as the matrix (C, M) of its channels, a view when a is channel-major."""
    return a.swapaxes(0, 1).reshape(a.shape[1], -1)


class BatchNorm(Function):
    """Outputs (y, μ_B, σ²_B); the statistics are for the running averages and take no gradient.

    Inputs: x (N, C, ...), γ (C,) or None, β (C,) or None, and in evaluation the running
    mean and variance (C,) as constants.

    Works on the channel rows X (C, M) of x: every sum is along a contiguous row, Σ x̂·∂L/∂y
    is one dot product per row, and y comes out channel-major (C, N, ...) in memory, the
    layout convolutions read and write, whatever the layout of x. Keeps X − μ and
    1/√(σ² + ε) for the backward; x̂ is their product and is never stored.
    """

    multi_output = True

    def forward(self, x, gamma=None, beta=None, running_mean=None, running_var=None,
                use_batch_stats=True, eps=1e-5):  # fmt: skip
        xp = get_array_module(x)
        c = x.shape[1]
        m = x.size // c
        x_cm = x.swapaxes(0, 1)  # (C, N, ...)
        col = (slice(None),) + (None,) * (x.ndim - 1)  # a (C,) vector against (C, N, ...)
        if use_batch_stats:
            mu = x_cm.sum(axis=tuple(range(1, x.ndim))) / m
            x_c = subtract_c(x_cm, mu[col]).reshape(c, m)  # X − μ_B, (C, M)
            var = vecdot(x_c, x_c) / m
        else:
            mu = running_mean.astype(x.dtype, copy=False)
            var = running_var.astype(x.dtype, copy=False)
            x_c = subtract_c(x_cm, mu[col]).reshape(c, m)
        rstd = 1.0 / xp.sqrt(var + eps)
        # y = x̂·γ + β with x̂ = (x − μ)·rstd folded into one scale per channel: x̂ itself is
        # never stored (backward reads x − μ and rstd), which saves a pass over x
        y = x_c * (rstd if gamma is None else rstd * gamma)[:, None]
        if beta is not None:
            y += beta[:, None]
        self.x_c, self.rstd, self.gamma = x_c, rstd, gamma
        self.batch_stats, self.m, self.eps = use_batch_stats, m, eps
        y = y.reshape(x_cm.shape).swapaxes(0, 1)  # (N, C, ...), memory (C, N, ...)
        return y, mu, var

    def backward(self, gy, g_mu=None, g_var=None):
        if g_mu is not None or g_var is not None:
            raise RuntimeError("batch_norm: the batch statistics it returns carry no gradient")
        x_c, rstd, gamma, m = self.x_c, self.rstd, self.gamma, self.m
        need_x, need_g, need_b = (list(self.needs_input_grad) + [False] * 3)[:3]
        G = channel_rows(gy)  # ∂L/∂y as (C, M): a copy only when gy is not channel-major
        g_beta = G.sum(axis=1)
        g_gamma = vecdot(G, x_c) * rstd  # Σ ∂L/∂y · x̂
        gx = None
        if need_x:
            scale = rstd if gamma is None else rstd * gamma
            if self.batch_stats:  # scale · (G − ∂L/∂β / M − x̂ · ∂L/∂γ / M)
                gx = x_c * (-rstd * g_gamma / m)[:, None]
                gx += G
                gx -= (g_beta / m)[:, None]
                gx *= scale[:, None]
            else:
                gx = G * scale[:, None]
            gx = gx.reshape((gy.shape[1], gy.shape[0]) + gy.shape[2:]).swapaxes(0, 1)
        return (gx, g_gamma if need_g else None, g_beta if need_b else None) + (None,) * (
            len(self.needs_input_grad) - 3
        )
