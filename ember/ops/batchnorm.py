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

from ..backend import get_array_module
from ..function import Function


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class BatchNorm(Function):
    """Outputs (y, μ_B, σ²_B); the statistics are for the running averages and take no gradient.

    Inputs: x (N, C, ...), γ (C,) or None, β (C,) or None, and in evaluation the running
    mean and variance (C,) as constants.
    """

    multi_output = True

    def forward(self, x, gamma=None, beta=None, running_mean=None, running_var=None,
                use_batch_stats=True, eps=1e-5):  # fmt: skip
        xp = get_array_module(x)
        axes = (0,) + tuple(range(2, x.ndim))
        shape = _channel_shape(x)
        if use_batch_stats:
            mu = x.mean(axis=axes, keepdims=True)
            x_c = x - mu
            var = xp.square(x_c).mean(axis=axes, keepdims=True)
        else:
            mu = running_mean.reshape(shape).astype(x.dtype, copy=False)
            var = running_var.reshape(shape).astype(x.dtype, copy=False)
            x_c = x - mu
        rstd = 1.0 / xp.sqrt(var + eps)
        x_hat = x_c
        x_hat *= rstd
        if gamma is not None:
            y = x_hat * gamma.reshape(shape)
            y += beta.reshape(shape) if beta is not None else 0
        elif beta is not None:
            y = x_hat + beta.reshape(shape)
        else:
            y = x_hat.copy()
        self.x_hat, self.rstd, self.gamma = x_hat, rstd, gamma
        self.axes, self.batch_stats = axes, use_batch_stats
        self.m = x.size // x.shape[1]
        return y, mu.reshape(-1), var.reshape(-1)

    def backward(self, gy, g_mu=None, g_var=None):
        if g_mu is not None or g_var is not None:
            raise RuntimeError("batch_norm: the batch statistics it returns carry no gradient")
        x_hat, rstd, gamma, axes = self.x_hat, self.rstd, self.gamma, self.axes
        need_x, need_g, need_b = (list(self.needs_input_grad) + [False] * 3)[:3]
        g_beta = gy.sum(axis=axes)
        g_gamma = (gy * x_hat).sum(axis=axes)
        gx = None
        if need_x:
            scale = rstd if gamma is None else rstd * gamma.reshape(rstd.shape)
            if self.batch_stats:
                shape = rstd.shape
                gx = gy - (g_beta / self.m).reshape(shape)
                gx -= x_hat * (g_gamma / self.m).reshape(shape)
                gx *= scale
            else:
                gx = gy * scale
        return (gx, g_gamma if need_g else None, g_beta if need_b else None) + (None,) * (
            len(self.needs_input_grad) - 3
        )
