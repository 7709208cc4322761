"""ember.linalg: torch.linalg's commonly used functions, differentiable, batched over leading dims.

Same names, arguments, defaults and results as torch.linalg (named tuples where torch returns
them); gradients are torch's, hand-written in ember/ops/linalg_more.py and linalg_decomp.py
(the adjoint formulas of Giles 2008, and torch's for eigh / svd / qr) or, for the norms,
matrix_power, multi_dot and vecdot, compositions of differentiable ops.

    norms          vector_norm, matrix_norm, norm, cond, matrix_rank, svdvals
    solvers        det, slogdet, inv, solve, solve_triangular, lstsq, pinv
    products       matrix_power, matrix_exp, multi_dot, vecdot, matmul
    factorizations cholesky, qr, eigh, eigvalsh, svd, eig, eigvals (A·V = V·diag(λ)),
                   lu_factor, lu_factor_ex, lu (A = P·L·U), lu_solve
                   ldl_factor, ldl_factor_ex (A = L·D·Lᵀ, Bunch–Kaufman), ldl_solve
    with info      inv_ex, cholesky_ex, solve_ex (no raise unless check_errors)
    arrays         cross, diagonal, vander, tensorinv, tensorsolve, householder_product

Errors follow torch: RuntimeError for bad shapes and dtypes (the message names the shape) and
:class:`LinAlgError`, a RuntimeError, for a singular or non-positive-definite matrix.
Real (float32 / float64) and complex (complex64 / complex128) tensors, as torch: complex
gradients follow torch's convention and formulas (Aᴴ where torch's has it; the phase checks of
eigh and svd), see ember/ops/linalg_more.py and linalg_decomp.py.
"""

from ..ops.linalg_more import LinAlgError
from .decompositions import EighResult, QRResult, SVDResult, cholesky, eigh, eigvalsh, qr, svd
from .eig import EigResult, eig, eigvals
from .ex import CholeskyExResult, InvExResult, SolveExResult, cholesky_ex, inv_ex, solve_ex
from .ldl import LDLFactorExResult, LDLFactorResult, ldl_factor, ldl_factor_ex, ldl_solve
from .lu import LUFactorExResult, LUFactorResult, LUResult, lu, lu_factor, lu_factor_ex, lu_solve
from .misc import cross, diagonal, householder_product, tensorinv, tensorsolve, vander
from .norms import cond, matrix_norm, matrix_rank, norm, svdvals, vector_norm
from .solvers import (
    LstsqResult,
    SlogdetResult,
    det,
    inv,
    lstsq,
    matmul,
    matrix_exp,
    matrix_power,
    multi_dot,
    pinv,
    slogdet,
    solve,
    solve_triangular,
    vecdot,
)

__all__ = [
    "LinAlgError",
    "cholesky",
    "cond",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "lstsq",
    "matmul",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
    "eig",
    "eigvals",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "ldl_factor",
    "ldl_factor_ex",
    "ldl_solve",
    "inv_ex",
    "cholesky_ex",
    "solve_ex",
    "cross",
    "diagonal",
    "vander",
    "tensorinv",
    "tensorsolve",
    "householder_product",
    "EigResult",
    "LUFactorResult",
    "LUFactorExResult",
    "LUResult",
    "LDLFactorResult",
    "LDLFactorExResult",
    "InvExResult",
    "CholeskyExResult",
    "SolveExResult",
    "EighResult",
    "LstsqResult",
    "QRResult",
    "SVDResult",
    "SlogdetResult",
]
