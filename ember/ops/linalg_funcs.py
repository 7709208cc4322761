"""Primitives for torch's legacy linear algebra and float decomposition on raw arrays: the LU
factorization with partial pivoting (torch.lu) and frexp's mantissa, each with its adjoint.

Notation: Ā = ∂L/∂A for the input A and Ȳ (the backward's ``g``) for an output Y; Aᵀ swaps the
last two axes. The public functions are in ember/torch_linalg_funcs.py.
"""

from __future__ import annotations

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
        xp = get_array_module(a)
        m, n = a.shape[-2:]
        batch = a.shape[:-2]
        lu = a.reshape((-1, m, n)).copy()
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
        if m < n:  # wide: U = [U₁ U₂], U₂ = L⁻¹X₂ (X = PᵀA), so X̄₂ = L⁻ᵀŪ₂, L̄ −= X̄₂U₂ᵀ
            gx2 = xp.linalg.solve(_mT(L), gU[..., k:])
            gx1 = _square_backward(xp, L, U[..., :k], gL - gx2 @ _mT(U[..., k:]), gU[..., :k])
            gx = xp.concatenate([gx1, gx2], axis=-1)
        elif m > n:  # tall: L = [L₁; L₂], L₂ = X₂U⁻¹, so X̄₂ = L̄₂U⁻ᵀ, Ū −= L₂ᵀX̄₂
            gx2 = _mT(xp.linalg.solve(U, _mT(gL[..., k:, :])))
            gu = gU - _mT(L[..., k:, :]) @ gx2
            gx1 = _square_backward(xp, L[..., :k, :], U, gL[..., :k, :], gu)
            gx = xp.concatenate([gx1, gx2], axis=-2)
        else:
            gx = _square_backward(xp, L, U, gL, gU)
        # Ā = P X̄: row i of X = PᵀA is row perm[i] of A
        inv = xp.argsort(self.perm, axis=-1)
        ga = xp.take_along_axis(gx, inv[:, :, None], axis=-2)
        return (ga.reshape(self.shape),)


def _square_backward(xp, L, U, gL, gU):
    """X̄ for X = L U square (torch's linalg_lu_backward, m = n):

    X̄ = L⁻ᵀ [tril(Lᵀ L̄, −1) + triu(Ū Uᵀ)] U⁻ᵀ
    """
    gx = xp.tril(_mT(L) @ gL, -1) + xp.triu(gU @ _mT(U))
    gx = _mT(xp.linalg.solve(U, _mT(gx)))  # · U⁻ᵀ
    return xp.linalg.solve(_mT(L), gx)  # L⁻ᵀ ·


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
