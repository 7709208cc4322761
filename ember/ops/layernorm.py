"""Layer normalisation as one fused op with a hand-written backward.

The composed version (mean, var, sqrt, divide from primitives) is
``ember.functional.layer_norm_composed``; a test holds the two equal.
"""

from __future__ import annotations

from ..backend import get_array_module, parallel_for
from ..function import Function, half_in_float32
from .complex_refuse import refuse_complex


@half_in_float32
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
        if x.dtype.kind == "c":  # torch has no complex LayerNorm kernel
            refuse_complex(x, "layer_norm", NotImplementedError, "normalise z.real and z.imag")
        xp = get_array_module(x)
        n = 1
        for k in x.shape[x.ndim - n_axes :]:
            n *= k
        rows_n = 1
        for k in x.shape[: x.ndim - n_axes]:
            rows_n *= k
        x2 = x.reshape(rows_n, n)  # rows × normalised features (no -1: n may be 0)
        w = None if weight is None else weight.reshape(n)
        b = None if bias is None else bias.reshape(n)
        xhat = xp.empty(x2.shape, dtype=x.dtype)
        r = xp.empty(x2.shape[0], dtype=x.dtype)
        y = xp.empty(x2.shape, dtype=x.dtype)
        ones = _ones(xp, n, x.dtype)

        def rows(lo, hi):  # rows are independent: shared among the threads
            x_r, xhat_r, r_r, y_r = x2[lo:hi], xhat[lo:hi], r[lo:hi], y[lo:hi]
            # row sums as matrix-vector products: BLAS GEMV beats NumPy's reductions ~3–5×
            mu = x_r @ ones
            mu *= 1.0 / n
            xp.subtract(x_r, mu[:, None], out=xhat_r)
            var = xp.einsum("ij,ij->i", xhat_r, xhat_r)
            var *= 1.0 / n
            var += eps
            xp.sqrt(var, out=r_r)
            xp.reciprocal(r_r, out=r_r)
            xhat_r *= r_r[:, None]
            if w is None:
                y_r[...] = xhat_r if b is None else xhat_r + b
            else:
                xp.multiply(xhat_r, w, out=y_r)
                if b is not None:
                    y_r += b

        if n:  # no features (a 0 in normalized_shape): y is empty, nothing to compute
            parallel_for(_quiet(rows, xp, eps), x2.shape[0], max(16, _GRAIN // n), align=16)
        self.xhat, self.r, self.shape, self.n = xhat, r, x.shape, n
        self.n_axes, self.eps = n_axes, eps  # for recorded derivatives
        self.weight, self.w_shape = w, None if weight is None else weight.shape
        self.b_shape = None if bias is None else bias.shape
        return y.reshape(x.shape)

    def backward(self, gy):
        xp = get_array_module(gy)
        nx, nw, *nb = self.needs_input_grad
        xhat, r, w, n = self.xhat, self.r, self.weight, self.n
        g2 = gy.reshape(xhat.shape)
        gw = gb = gx = None
        if nw:
            gw = xp.einsum("ij,ij->j", g2, xhat).reshape(self.w_shape)
        if nb and nb[0]:
            gb = (_ones(xp, g2.shape[0], g2.dtype) @ g2).reshape(self.b_shape)
        if nx:
            gxhat = xp.empty(g2.shape, dtype=g2.dtype)
            ones = _ones(xp, n, g2.dtype)

            def rows(lo, hi):
                g_r, gxhat_r, xhat_r = g2[lo:hi], gxhat[lo:hi], xhat[lo:hi]
                if w is not None:
                    xp.multiply(g_r, w, out=gxhat_r)
                else:
                    gxhat_r[...] = g_r
                mean_g = gxhat_r @ ones
                mean_g *= 1.0 / n
                mean_gx = xp.einsum("ij,ij->i", gxhat_r, xhat_r)
                mean_gx *= 1.0 / n
                gxhat_r -= mean_g[:, None]
                gxhat_r -= xhat_r * mean_gx[:, None]
                gxhat_r *= r[lo:hi, None]

            if n:
                parallel_for(
                    _quiet(rows, xp, self.eps), g2.shape[0], max(16, _GRAIN // n), align=16
                )
            gx = gxhat.reshape(self.shape)
        return gx, gw, gb


def _quiet(rows, xp, eps):
    """rows itself, or with ε ≤ 0 rows without NumPy's warnings: a constant row is then 1/0
    and 0·∞, nan as torch's, which warns of nothing (errstate is per thread: set in the call)."""
    if eps > 0:
        return rows

    def quietly(lo, hi):
        with xp.errstate(divide="ignore", invalid="ignore"):
            rows(lo, hi)

    return quietly


_GRAIN = 1 << 16  # elements per thread below which splitting costs more than it saves
# (shorter ufunc calls leave the two threads queueing for the GIL between calls)


_ONES: dict = {}


def _ones(xp, n: int, dtype):
    """A cached vector of n ones (the summing vector of the GEMV reductions)."""
    key = (n, xp.dtype(dtype).str)
    v = _ONES.get(key)
    if v is None:
        v = _ONES[key] = xp.ones(n, dtype=dtype)
    return v
