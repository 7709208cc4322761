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
        n = 1
        for k in x.shape[x.ndim - n_axes :]:
            n *= k
        x2 = x.reshape(-1, n)  # rows × normalised features
        # row sums as matrix-vector products: BLAS GEMV beats NumPy's reductions ~3–5× here
        ones = _ones(xp, n, x.dtype)
        mu = x2 @ ones
        mu *= 1.0 / n
        xhat = x2 - mu[:, None]
        var = xp.einsum("ij,ij->i", xhat, xhat)
        var *= 1.0 / n
        var += eps
        r = xp.sqrt(var, out=var)
        xp.reciprocal(r, out=r)
        xhat *= r[:, None]
        self.xhat, self.r, self.shape, self.n = xhat, r, x.shape, n
        w = None if weight is None else weight.reshape(n)
        b = None if bias is None else bias.reshape(n)
        self.weight, self.w_shape = w, None if weight is None else weight.shape
        self.b_shape = None if bias is None else bias.shape
        if w is None:
            y = xhat.copy() if b is None else xhat + b
        else:
            y = xhat * w
            if b is not None:
                y += b
        return y.reshape(x.shape)

    def backward(self, gy):
        xp = get_array_module(gy)
        nx, nw, *nb = self.needs_input_grad
        xhat, r, w, n = self.xhat, self.r, self.weight, self.n
        g2 = gy.reshape(-1, n)
        gw = gb = gx = None
        if nw:
            gw = xp.einsum("ij,ij->j", g2, xhat).reshape(self.w_shape)
        if nb and nb[0]:
            gb = (_ones(xp, g2.shape[0], g2.dtype) @ g2).reshape(self.b_shape)
        if nx:
            gxhat = g2 * w if w is not None else g2.copy()  # fresh: written into below
            mean_g = gxhat @ _ones(xp, n, gxhat.dtype)
            mean_g *= 1.0 / n
            mean_gx = xp.einsum("ij,ij->i", gxhat, xhat)
            mean_gx *= 1.0 / n
            gxhat -= mean_g[:, None]
            gxhat -= xhat * mean_gx[:, None]
            gxhat *= r[:, None]
            gx = gxhat.reshape(self.shape)
        return gx, gw, gb


_ONES: dict = {}


def _ones(xp, n: int, dtype):
    """A cached vector of n ones (the summing vector of the GEMV reductions)."""
    key = (n, xp.dtype(dtype).str)
    v = _ONES.get(key)
    if v is None:
        v = _ONES[key] = xp.ones(n, dtype=dtype)
    return v
