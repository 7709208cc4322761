"""Primitives for torch's legacy linear algebra and float decomposition on raw arrays: the LU
factorization with partial pivoting (torch.lu) and frexp's mantissa, each with its adjoint.

Notation: Ā = ∂L/∂A for the input A and Ȳ (the backward's ``g``) for an output Y; Aᵀ swaps the
last two axes. The public functions are in ember/torch_linalg_funcs.py.
"""

from __future__ import annotations

import math

from ..backend import get_array_module
from ..function import Function


def _mT(a):
    return a.swapaxes(-1, -2)


class LuFactor(Function):
    """A = P L U by Gaussian elimination with partial pivoting (LAPACK getrf), A (*, m, n).

    Forward returns the packed LU (L's strict lower part, unit diagonal implied, over U) and
    LAPACK's 1-based int32 pivots (row k was swapped with row pivots[k] at step k) and the info
    (the first k with U_kk = 0, 1-based, else 0). Backward as torch's linalg_lu_backward, with
    L̄ = tril(LŪ, −1) and Ū = triu(LŪ), for a square A

        Ā = P L⁻ᵀ [tril(Lᵀ L̄, −1) + triu(Ū Uᵀ)] U⁻ᵀ

    and for a wide (tall) A the extra block U₂ = L⁻¹(PᵀA)₂ (L₂ = (PᵀA)₂U⁻¹) pulled back first.

    Complex A: the pivot is the largest |Re| + |Im| in the column (LAPACK's izamax, so the
    pivots are torch's), and L, U are holomorphic in A: the engine conjugates this backward
    into torch's, with Lᴴ and Uᴴ.
    """

    multi_output = True

    def forward(self, a):
        m, n = a.shape[-2:]
        batch = a.shape[:-2]
        k_max = min(m, n)
        lu, piv, perm, info = getrf(a)
        self.lu, self.perm = lu, perm
        self.shape = a.shape
        return (
            lu.reshape(a.shape),
            piv.reshape(batch + (k_max,)),
            info.reshape(batch),
        )

    def backward(self, g, gpiv=None, ginfo=None):
        xp = get_array_module(self.lu)
        lu = self.lu
        if g is None:  # only the pivots or the info were used
            return (xp.zeros(self.shape, dtype=lu.dtype),)
        g = g.reshape(lu.shape)
        m, n = lu.shape[-2:]
        k = min(m, n)
        L = xp.tril(lu[..., :k], -1) + xp.eye(m, k, dtype=lu.dtype)  # (m, k)
        U = xp.triu(lu[..., :k, :])  # (k, n)
        gL, gU = xp.tril(g[..., :k], -1), xp.triu(g[..., :k, :])
        # torch's grouping (so a singular U gives its inf/NaN): for a wide A, U = [U₁ U₂],
        #   X̄ = L⁻ᵀ [tril(LᵀL̄ − ŪUᵀ, −1) U₁⁻ᵀ + triu(Ū₁), Ū₂]
        # and for a tall A, L = [L₁; L₂],
        #   X̄ = [L₁⁻ᵀ triu(ŪUᵀ − LᵀL̄) + tril(L̄₁, −1); L̄₂] U⁻ᵀ
        if m < n:
            gx = xp.tril(_mT(L) @ gL - gU @ _mT(U), -1)
            gx = _mT(trsm(U[..., :k], _mT(gx), upper=True)) + gU[..., :k]  # · U₁⁻ᵀ
            gx = trsm(_mT(L), xp.concatenate([gx, gU[..., k:]], -1), upper=True, unit=True)
        elif m > n:
            gx = trsm(_mT(L[..., :k, :]), xp.triu(gU @ _mT(U) - _mT(L) @ gL), True, unit=True)
            gx = xp.concatenate([gx + gL[..., :k, :], gL[..., k:, :]], -2)
            gx = _mT(trsm(U, _mT(gx), upper=True))  # · U⁻ᵀ
        else:
            gx = _square_backward(xp, L, U, gL, gU)
        # Ā = P X̄ (row i of X = PᵀA is row perm[i] of A) as a product, as torch's: an inf or
        # NaN in a column of X̄ meets P's zeros and makes that whole column NaN, as in torch
        P = (self.perm[:, None, :] == xp.arange(m)[None, :, None]).astype(gx.dtype)  # noqa: N806
        return ((P @ gx).reshape(self.shape),)


def _square_backward(xp, L, U, gL, gU):
    """X̄ for X = L U square (torch's linalg_lu_backward, m = n):

    X̄ = L⁻ᵀ [tril(Lᵀ L̄, −1) + triu(Ū Uᵀ)] U⁻ᵀ

    A singular U (some U_kk = 0) gives torch's inf/NaN, not an error (trsm below).
    """
    gx = xp.tril(_mT(L) @ gL, -1) + xp.triu(gU @ _mT(U))
    gx = _mT(trsm(U, _mT(gx), upper=True))  # · U⁻ᵀ
    return trsm(_mT(L), gx, upper=True, unit=True)  # L⁻ᵀ ·


def trsm(t, b, upper, unit=False):
    """X = T⁻¹B for T (*, n, n) triangular, B (*, n, k), by back (forward) substitution in
    BLAS trsm's order, all matrices and columns at once (a regular, finite T: one LAPACK solve
    on its triangle). Never raises: a zero on T's diagonal gives the inf/NaN that torch's
    OpenBLAS trsm gives (it skips nothing: 0/0 is NaN, and NaN
    and ∞ spread through 0·x into the rows solved after).

        upper:  x_k = (b_k − Σ_{j>k} t_kj x_j) / t_kk,  k = n−1 … 0
    """
    xp = get_array_module(t, b)
    dtype = xp.result_type(t, b)
    batch = xp.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    n, complex_ = t.shape[-1], xp.dtype(dtype).kind == "c"
    if n > 1 and xp.isfinite(t).all() and (unit or (xp.diagonal(t, 0, -2, -1) != 0).all()):
        # regular T: one LAPACK solve on the triangle (the loop below is n Python steps; it
        # is kept for a zero on the diagonal, where LAPACK's solve would raise)
        tri = xp.triu(t) if upper else xp.tril(t)
        if unit:
            tri = tri.copy()
            idx = xp.arange(n)
            tri[..., idx, idx] = 1
        tri = xp.broadcast_to(tri, batch + (n, n)).astype(dtype, copy=False)
        return xp.linalg.solve(tri, xp.broadcast_to(b, batch + b.shape[-2:]).astype(dtype))
    x = xp.broadcast_to(b, batch + b.shape[-2:]).astype(dtype, copy=True)
    with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for k in range(n - 1, -1, -1) if upper else range(n):
            xk = x[..., k, :]
            if not unit:
                d = t[..., k, k, None]
                xk = xk / d
                if complex_:  # BLAS's complex x/0 is NaN+NaNj (NumPy's may be ∞+NaNj)
                    xk = xp.where(d == 0, xp.asarray(complex(xp.nan, xp.nan), dtype), xk)
                x[..., k, :] = xk
            tk = t[..., :k, k, None] if upper else t[..., k + 1 :, k, None]
            step = tk * xk[..., None, :]
            if upper:
                x[..., :k, :] -= step
            else:
                x[..., k + 1 :, :] -= step
    return x


def getrf(a):
    """Packed LU of A (*, m, n) by partial pivoting (LAPACK getrf's pivots, izamax for complex):
    (lu (b, m, n), pivots (b, k) 1-based int32, perm (b, m) with row i of PᵀA = row perm[i]
    of A, info (b,)), the batch flattened. A zero pivot is left in place (info = its step)."""
    xp = get_array_module(a)
    m, n = a.shape[-2:]
    # the batch's size spelled out, not -1: an empty A leaves NumPy nothing to infer it from
    lu = a.reshape((math.prod(a.shape[:-2]), m, n)).copy()
    b = xp.arange(lu.shape[0])
    k_max = min(m, n)
    piv = xp.zeros((lu.shape[0], k_max), dtype=xp.int32)
    perm = xp.broadcast_to(xp.arange(m), (lu.shape[0], m)).copy()
    info = xp.zeros(lu.shape[0], dtype=xp.int32)
    for k in range(k_max):  # one elimination step per column, all matrices at once
        col = lu[:, k:, k]
        size = xp.abs(col.real) + xp.abs(col.imag) if col.dtype.kind == "c" else xp.abs(col)
        p = xp.argmax(size, axis=-1) + k
        piv[:, k] = p + 1
        row_k, row_p = lu[b, k].copy(), lu[b, p].copy()
        lu[b, p], lu[b, k] = row_k, row_p
        perm_k, perm_p = perm[b, k].copy(), perm[b, p].copy()
        perm[b, p], perm[b, k] = perm_k, perm_p
        pivot = lu[:, k, k]
        zero = pivot == 0
        info = xp.where(zero & (info == 0), k + 1, info).astype(xp.int32)
        scale = xp.where(zero, 1, pivot)
        lu[:, k + 1 :, k] /= scale[:, None]
        lu[:, k + 1 :, k + 1 :] -= lu[:, k + 1 :, k : k + 1] * lu[:, k : k + 1, k + 1 :]
    return lu, piv, perm, info


class NoGradient(Function):
    """y = ``value``, computed elsewhere, recorded on the inputs but sending them no gradient:
    torch's outputs whose backward returns undefined gradients (linalg.vector_norm with ord 0,
    householder_product with no reflectors or an empty result) require grad, and backward
    through them leaves the inputs' .grad None."""

    def forward(self, *inputs, value=None):
        return value

    def backward(self, g):
        return (None,) * len(self.needs_input_grad)


class FrexpMantissa(Function):
    """The mantissa m of x = m·2ᵉ, 0.5 ≤ |m| < 1 (e an int32 array held as ``self.exponent``);

    x̄ = m̄·2⁻ᵉ   (e is piecewise constant)
    """

    def forward(self, x):
        xp = get_array_module(x)
        m, e = xp.frexp(x)
        self.exponent = e.astype(xp.int32)
        return m

    def backward(self, g):
        xp = get_array_module(g)
        return (xp.ldexp(g, -self.exponent).astype(g.dtype),)
