"""Matrix decompositions: cholesky, qr, eigh, eigvalsh, svd (svdvals is in norms.py), with
torch.linalg's arguments, named-tuple results and gradients.

Eigenvectors and singular vectors are unique only up to sign: compare them, and build losses
on them, in ways that do not depend on the sign (|U|², U diag(λ) Uᵀ, …). Their gradients divide
by λ_j − λ_i (σ_j² − σ_i²): they are finite only for distinct eigenvalues (singular values), or
when the loss does not depend on the basis chosen within a repeated one (torch's convention).
"""

from __future__ import annotations

from collections import namedtuple

from ..ops import linalg_decomp as D
from ..ops import linalg_more as M
from ..tensor import Tensor, apply
from . import _common as C

QRResult = namedtuple("linalg_qr", ["Q", "R"])
EighResult = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("linalg_svd", ["U", "S", "Vh"])
# torch's type names (repr, type(r).__name__); the qualified names stay these modules'
# attributes, so that pickle finds the types
QRResult.__qualname__ = "QRResult"
EighResult.__qualname__ = "EighResult"
SVDResult.__qualname__ = "SVDResult"


def cholesky(A, *, upper=False) -> Tensor:
    """L lower triangular with A = L Lᵀ (U = Lᵀ with A = Uᵀ U if upper), for symmetric
    positive-definite A (*, n, n), of which only the lower triangle is read.

        Ā = L⁻ᵀ Φ L⁻¹,  Φ = ½(T + tril(T, −1)ᵀ),  T = tril(Lᵀ L̄)    (symmetric, as torch's)

    LinAlgError (a RuntimeError) if A is not positive-definite.
    """
    return apply(M.Cholesky, C.square("linalg.cholesky", A), upper=bool(upper))


def qr(A, mode="reduced") -> QRResult:
    """A = QR for A (*, m, n): Q (*, m, k) with orthonormal columns and R (*, k, n) upper
    triangular, k = min(m, n) ('reduced'); k = m for 'complete'; 'r' gives R and an empty Q.

        m ≥ n:  M = R R̄ᵀ − Q̄ᵀQ,  Ā = (Q̄ + Q copyltu(M)) R⁻ᵀ,  copyltu(M) = tril(M) + tril(M, −1)ᵀ

    (m < n splits A = [X | Y]; see ember/ops/linalg_decomp.py). Not differentiable for mode 'r',
    nor for 'complete' with m > n (the extra columns of Q are not unique), as in torch.
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default),"
            " 'r', or 'complete'"
        )
    q, r = apply(D.Qr, C.matrices("linalg.qr", A), mode=mode)
    return QRResult(q.detach() if mode == "r" else q, r)


def _uplo(uplo: str) -> str:
    """'L' or 'U', in either case as torch takes it."""
    if not isinstance(uplo, str) or uplo.upper() not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")
    return uplo.upper()


def eigh(A, UPLO="L") -> EighResult:  # noqa: N803 - torch's name
    """A = V diag(λ) Vᵀ for symmetric A (*, n, n), only its UPLO triangle read; eigenvalues λ
    ascending, eigenvectors V the columns.

        Ā = V (diag(λ̄) + ½(VᵀV̄ − V̄ᵀV) ⊘ E) Vᵀ,  E_ij = λ_j − λ_i  (i ≠ j)

    — defined for distinct eigenvalues (see the module's note).
    """
    w, v = apply(D.Eigh, C.square("linalg.eigh", A), uplo=_uplo(UPLO))
    return EighResult(w, v)


def eigvalsh(A, UPLO="L") -> Tensor:  # noqa: N803
    """The eigenvalues λ (ascending) of symmetric A (*, n, n); ∂λ_i/∂A = v_i v_iᵀ."""
    return apply(D.EigvalsH, C.square("linalg.eigvalsh", A), uplo=_uplo(UPLO))


def svd(A, full_matrices=True, *, driver=None) -> SVDResult:
    """A = U diag(S) Vh for A (*, m, n), S descending (k = min(m, n) of them); U (*, m, m) and
    Vh (*, n, n) with full_matrices, else (*, m, k) and (*, k, n). ``driver`` is accepted for
    torch's signature (it picks a CUDA solver there) and ignored.

    With skew(X) = X − Xᵀ and E_ij = σ_j² − σ_i² (torch's svd_backward):

        core = (skew(UᵀŪ) diag(σ) + diag(σ) skew(Vh V̄hᵀ)) ⊘ E + diag(S̄)
        Ā = U core Vh  (+ (I − UUᵀ) Ū σ⁻¹ Vh when m > n, + U σ⁻¹ V̄h (I − VVᵀ) when m < n)

    — defined for distinct non-zero singular values; with full_matrices, the gradients of the
    extra columns of U (rows of Vh), which are not unique, are ignored as in torch.
    """
    u, s, vh = apply(D.Svd, C.matrices("linalg.svd", A), full_matrices=bool(full_matrices))
    return SVDResult(u, s, vh)
