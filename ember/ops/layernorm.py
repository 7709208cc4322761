"""Layer normalisation as one fused op with a hand-written backward.

The composed version (mean, var, sqrt, divide from primitives) is
``ember.functional.layer_norm_composed``; a test holds the two equal.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


class LayerNorm(Function):
    """y = γ ⊙ (x - μ) / √(σ² + ε) + β, statistics over the last ``n_axes`` axes.

    μ = mean(x),  σ² = mean((x - μ)²)           (biased variance, as torch)
    x̂ = (x - μ)·r,  r = 1/√(σ² + ε)
    y = γ ⊙ x̂ + β

    Backward, N the number of normalised elements per row:
    ∂x̂ = ∂y ⊙ γ
    ∂x = r·(∂x̂ - mean(∂x̂) - x̂ ⊙ mean(∂x̂ ⊙ x̂))
    ∂γ = Σ_rows ∂y ⊙ x̂,   ∂β = Σ_rows ∂y

    Shapes: x (..., *normalized_shape); γ, β normalized_shape or None.
    Ba, Kiros & Hinton 2016, "Layer Normalization".
    """

    def forward(self, x, weight=None, bias=None, n_axes=1, eps=1e-5):
        xp = get_array_module(x)
        axes = tuple(range(x.ndim - n_axes, x.ndim))
        mu = x.mean(axis=axes, keepdims=True)
        xhat = x - mu
        var = xp.mean(xhat * xhat, axis=axes, keepdims=True)
        var += eps
        r = xp.sqrt(var, out=var)
        xp.reciprocal(r, out=r)
        xhat *= r
        self.xhat, self.r, self.weight, self.axes = xhat, r, weight, axes
        self.has_bias = bias is not None
        if weight is None:
            y = xhat.copy() if bias is None else xhat + bias
        else:
            y = xhat * weight
            if bias is not None:
                y += bias
        return y

    def backward(self, gy):
        nx, nw, *nb = self.needs_input_grad
        xhat, r, w, axes = self.xhat, self.r, self.weight, self.axes
        lead = tuple(range(xhat.ndim - len(axes)))
        gw = (gy * xhat).sum(axis=lead) if nw else None
        gb = gy.sum(axis=lead) if (nb and nb[0]) else None
        gx = None
        if nx:
            gxhat = gy * w if w is not None else gy
            mean_g = gxhat.mean(axis=axes, keepdims=True)
            mean_gx = (gxhat * xhat).mean(axis=axes, keepdims=True)
            gx = xhat * mean_gx
            gx += mean_g
            gx = gxhat - gx  # fresh array: the incoming gradient is never written into
            gx *= r
        return gx, gw, gb
