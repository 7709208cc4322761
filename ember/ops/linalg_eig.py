"""torch.linalg.eig and eigvals on raw arrays: the eigendecomposition of a general (not
symmetric) square matrix, batched over leading dims, with torch's linalg_eig_backward
(torch/csrc/autograd/FunctionsManual.cpp).

    A·V = V·diag(λ),  λ and V complex (also for a real A), each column v_i of unit norm

Notation: Ā = ∂L/∂A, λ̄ and V̄ the output gradients (the backward's ``gw``, ``gv``), Vᴴ the
conjugate transpose. With E_ij = λ_j − λ_i (1 on the diagonal) and conj(E) its conjugate:

    eigvals only:   Ā = V⁻ᴴ diag(λ̄) Vᴴ
    with V̄:         G = VᴴV̄,  G ← G − Vᴴ V diag(Re diag G)     (the unit-norm constraint)
                    Ā = V⁻ᴴ ((G ⊘ conj(E)) with diag λ̄) Vᴴ

Each eigenvector is fixed only up to a phase e^{iφ}: the loss must not depend on it, which
torch checks as Im diag(VᴴV̄) ≈ 0 (to 1e-2) and raises its RuntimeError otherwise. The
formula divides by λ_j − λ_i, so it holds for distinct eigenvalues.

The outputs are always complex, so the backward is torch's complex formula, called as it is
(the op is in ops/complex.py's OWN); for a real A the engine keeps its real part, as torch's
handle_r_to_c.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from .linalg_decomp import _close, _off_diagonal_ones
from .linalg_more import mH, solve


def eig_arrays(a):
    """λ (*, n) and V (*, n, n) of A, complex of A's precision (NumPy returns a real λ for a
    real A whose eigenvalues are all real: cast, as torch always returns complex)."""
    xp = get_array_module(a)
    w, v = xp.linalg.eig(a)
    c = xp.result_type(a.dtype, xp.complex64)  # float32 → complex64, float64 → complex128
    return w.astype(c, copy=False), v.astype(c, copy=False)


def eig_backward(w, v, gw, gv):
    """Ā for A·V = V·diag(λ) given λ̄ = gw and V̄ = gv (either may be None); see the module."""
    xp = get_array_module(v)
    vh = mH(v)
    if gv is None:
        return solve(vh, gw[..., :, None] * vh, "linalg.eig")
    g = vh @ gv
    d = xp.diagonal(g, 0, -2, -1)
    if not _close(d.imag, 0.0):
        raise RuntimeError(
            "linalg_eig_backward: The eigenvectors in the complex case are specified up to"
            " multiplication by e^{i phi}. The specified loss function depends on this"
            " quantity, so it is ill-defined."
        )
    g = g - vh @ (v * d.real[..., None, :])
    g = g / _off_diagonal_ones(w).conj()
    n = w.shape[-1]
    diag = gw if gw is not None else xp.zeros_like(w)
    g = xp.where(xp.eye(n, dtype=bool), diag[..., None, :], g)
    return solve(vh, g @ vh, "linalg.eig")


class Eig(Function):
    """(λ, V) with A·V = V·diag(λ), complex; backward torch's linalg_eig_backward."""

    multi_output = True

    def forward(self, a):
        self.w, self.v = eig_arrays(a)
        return self.w, self.v

    def backward(self, gw, gv):
        return (eig_backward(self.w, self.v, gw, gv),)


class Eigvals(Function):
    """λ of A (complex); Ā = V⁻ᴴ diag(λ̄) Vᴴ."""

    def forward(self, a):
        xp = get_array_module(a)
        if not any(self.needs_input_grad):
            return xp.linalg.eigvals(a).astype(xp.result_type(a.dtype, xp.complex64))
        self.w, self.v = eig_arrays(a)
        return self.w

    def backward(self, gw):
        return (eig_backward(self.w, self.v, gw, None),)
