"""The eigendecomposition of a general square matrix: eig and eigvals, as torch.linalg's.

    A·V = V·diag(λ)      A (*, n, n) real or complex; λ (*, n) and V (*, n, n) complex

λ and V are complex even for a real A (complex64 for float32, complex128 for float64), as
torch's; each eigenvector v_i has unit norm and is fixed only up to a phase e^{iφ}, so compare
and build losses on phase-invariant functions of V (|V|², V f(Λ) V⁻¹, …). Gradients are torch's
linalg_eig_backward (ember/ops/linalg_eig.py): defined for distinct eigenvalues, and a
RuntimeError in backward when the loss depends on the phase of an eigenvector.
"""

from __future__ import annotations

from collections import namedtuple

from ..ops import linalg_eig as E
from ..tensor import Tensor, apply
from . import _common as C

EigResult = namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])
# torch's type names (repr, type(r).__name__); the qualified names stay these modules'
# attributes, so that pickle finds the types
EigResult.__qualname__ = "EigResult"


def eig(A) -> EigResult:  # noqa: N803 - torch's name
    """(λ, V) with A·V = V·diag(λ) for A (*, n, n); both complex.

    G = VᴴV̄ − VᴴV diag(Re diag(VᴴV̄)),  E_ij = λ_j − λ_i
    Ā = V⁻ᴴ ((G ⊘ conj(E)) with diag λ̄) Vᴴ      (real part for a real A)
    """
    w, v = apply(E.Eig, C.square("linalg.eig", A))
    return EigResult(w, v)


def eigvals(A) -> Tensor:  # noqa: N803
    """The eigenvalues λ (*, n) of A (*, n, n), complex, in LAPACK's order (as linalg.eig's).

    ∂λ_i/∂A: Ā = V⁻ᴴ diag(λ̄) Vᴴ
    """
    return apply(E.Eigvals, C.square("linalg.eigvals", A))
