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
    (the first k with U_kk = 0, 1-based, else 0). Backward, square A only (torch's
    linalg_lu_backward), with L̄ = tril(LŪ, −1) and Ū = triu(LŪ):

        Ā = P L⁻ᵀ [tril(Lᵀ L̄, −1) + triu(Ū Uᵀ)] U⁻ᵀ
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
            p = xp.argmax(xp.abs(lu[:, k:, k]), axis=-1) + k
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
        m, n = self.shape[-2:]
        if m != n:
            raise NotImplementedError(
                "lu: the gradient is implemented for square matrices only in ember, got"
                f" {m} by {n} matrices"
            )
        lu = self.lu
        if g is None:  # only the pivots or the info were used
            return (xp.zeros(self.shape, dtype=lu.dtype),)
        g = g.reshape(lu.shape)
        eye = xp.eye(n, dtype=lu.dtype)
        L = xp.tril(lu, -1) + eye
        U = xp.triu(lu)
        gL, gU = xp.tril(g, -1), xp.triu(g)
        ga = xp.tril(_mT(L) @ gL, -1) + xp.triu(gU @ _mT(U))
        ga = _mT(xp.linalg.solve(U, _mT(ga)))  # · U⁻ᵀ
        ga = xp.linalg.solve(_mT(L), ga)  # L⁻ᵀ ·
        out = xp.empty_like(ga)  # P · : row i of L U is row perm[i] of A
        idx = xp.broadcast_to(self.perm[:, :, None], ga.shape)
        xp.put_along_axis(out, idx, ga, axis=-2)
        return (out.reshape(self.shape),)


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
