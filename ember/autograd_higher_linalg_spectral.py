"""Recorded derivatives (autograd_higher.py) of the spectral decompositions: eigh, eigvalsh, svd
and svdvals, real case. Each rule is the op's first-order backward (ops/linalg_decomp.py,
torch's formulas) written with recorded ops on the decomposition's outputs, themselves recorded
as functions of A, so every order is recorded. With 1 the identity, ⊘ elementwise division,
skew(X) = X − Xᵀ and σ_row, σ_col σ as a row (scaling columns) and as a column:

    A = V diag(λ) Vᵀ:     Ā = V (diag(λ̄) + ½ skew(VᵀV̄) ⊘ (E + 1)) Vᵀ,   E_ij = λ_j − λ_i
    λ = eigvalsh A:       Ā = V diag(λ̄) Vᵀ
    A = U diag(σ) Vh:     core = (skew(UᵀŪ) σ_row + σ_col skew(Vh V̄hᵀ)) ⊘ (E + 1) + diag(σ̄),
                          E_ij = σ_j² − σ_i²,   Ā = U core Vh
                          (+ (1 − UUᵀ) Ū σ⁻¹ Vh if m > n,  + U σ⁻¹ V̄h (1 − VhᵀVh) if m < n)
    σ = svdvals A:        Ā = U diag(σ̄) Vh

The numerators have a zero diagonal, so the +1 only keeps the division finite there (as the
first-order backward does), and adding diag(λ̄), diag(σ̄) stands for writing them there. In
eigh's, skew(VᵀV̄) and E are both antisymmetric: the quotient, and Ā, are symmetric, as torch's
(whichever triangle UPLO read). U, Vh are the reduced factors (k = min(m, n) columns of U, rows
of Vh); with full_matrices the extra ones get no gradient, as in torch.

The factors are not recomputed: :class:`EighOutputs` and :class:`SvdOutputs` hand back the ones
the forward made, as outputs of A whose backward is the op's own. Recomputing would need the
UPLO triangle eigh read, which Eigh does not keep, and could pick other signs for the vectors
than the ones the incoming V̄ (Ū, V̄h) refer to. All of it holds for distinct eigenvalues
(distinct non-zero singular values), as the first-order formulas do.
"""

from __future__ import annotations

from .autograd_higher import rule
from .backend import xp
from .ops import linalg_decomp as D
from .tensor import Tensor, apply


class EighOutputs(D.Eigh):
    """(λ, V) of an eigh already computed, as a recorded function of A: Eigh's backward."""

    def forward(self, a, w=None, v=None):
        self.w, self.v = w, v
        return w, v


class SvdOutputs(D.Svd):
    """The reduced (U, σ, Vh) of an SVD already computed, as a recorded function of A: Svd's
    backward."""

    def forward(self, a, u=None, s=None, vh=None):
        self.u, self.s, self.vh = u, s, vh
        return u, s, vh


def _eye(n: int, dtype) -> Tensor:
    return Tensor(xp.eye(n, dtype=dtype))


def _mT(x: Tensor) -> Tensor:
    return x.transpose(-1, -2)


def _gaps(d: Tensor) -> Tensor:
    """E + 1: E_ij = d_j − d_i off the diagonal, 1 on it (E's diagonal is 0)."""
    return d.unsqueeze(-2) - d.unsqueeze(-1) + _eye(d.shape[-1], d.dtype)


def _eigh_input_grad(w: Tensor, v: Tensor, gw, gv) -> Tensor:
    n = w.shape[-1]
    inner = None
    if gv is not None:
        vtgv = _mT(v) @ gv
        inner = (vtgv - _mT(vtgv)) * 0.5 / _gaps(w)
    if gw is not None:
        diag = gw.unsqueeze(-1) * _eye(n, gw.dtype)
        inner = diag if inner is None else inner + diag
    if inner is None:  # neither output got a gradient
        return Tensor(xp.zeros(v.shape, dtype=v.dtype))
    return v @ inner @ _mT(v)


@rule(D.Eigh, EighOutputs)
def _eigh(fn, gys):
    w, v = apply(EighOutputs, fn.parents[0], w=fn.w, v=fn.v)
    return (_eigh_input_grad(w, v, gys[0], gys[1]),)


@rule(D.EigvalsH)
def _eigvalsh(fn, g):
    _, v = apply(EighOutputs, fn.parents[0], w=fn.w, v=fn.v)
    return ((v * g.unsqueeze(-2)) @ _mT(v),)


def _svd_input_grad(u: Tensor, s: Tensor, vh: Tensor, gu, gs, gvh) -> Tensor:
    m, n, k = u.shape[-2], vh.shape[-1], s.shape[-1]
    if gu is None and gvh is None:  # the singular values alone: U diag(σ̄) Vh
        return (u * gs.unsqueeze(-2)) @ vh
    core = None
    if gu is not None:
        utgu = _mT(u) @ gu
        core = (utgu - _mT(utgu)) * s.unsqueeze(-2)
    if gvh is not None:
        vhgv = vh @ _mT(gvh)
        term = s.unsqueeze(-1) * (vhgv - _mT(vhgv))
        core = term if core is None else core + term
    core = core / _gaps(s * s)
    if gs is not None:
        core = core + gs.unsqueeze(-1) * _eye(k, gs.dtype)
    if m > n and gu is not None:  # Ū's part outside U's columns: (1 − UUᵀ) Ū σ⁻¹
        gu_sinv = gu / s.unsqueeze(-2)
        return (u @ core + gu_sinv - u @ (_mT(u) @ gu_sinv)) @ vh
    if m < n and gvh is not None:  # and V̄h's outside Vh's rows: σ⁻¹ V̄h (1 − VhᵀVh)
        sinv_gvh = gvh / s.unsqueeze(-1)
        return u @ (core @ vh + sinv_gvh - (sinv_gvh @ _mT(vh)) @ vh)
    return u @ core @ vh


@rule(D.Svd, SvdOutputs)
def _svd(fn, gys):
    gu, gs, gvh = gys
    k = fn.s.shape[-1]
    # with full_matrices, only the first k columns of U (rows of Vh) are unique
    if gu is not None and gu.shape[-1] != k:
        gu = gu[..., :, :k]
    if gvh is not None and gvh.shape[-2] != k:
        gvh = gvh[..., :k, :]
    u, s, vh = apply(SvdOutputs, fn.parents[0], u=fn.u, s=fn.s, vh=fn.vh)
    return (_svd_input_grad(u, s, vh, gu, gs, gvh),)


@rule(D.SvdVals)
def _svdvals(fn, g):
    u, _, vh = apply(SvdOutputs, fn.parents[0], u=fn.u, s=fn.s, vh=fn.vh)
    return ((u * g.unsqueeze(-2)) @ vh,)
