"""Recorded derivatives (autograd_higher.py) of the basic linear-algebra ops: inv, solve,
solve_triangular, det, slogdet and cholesky. Each rule writes the op's backward with recorded
ops of the same family (an inverse is differentiated with an inverse again), so every order is
recorded:

    Y = A⁻¹:          Ā = −Yᵀ Ȳ Yᵀ
    X = A⁻¹B:         B̄ = A⁻ᵀ X̄,   Ā = −B̄ Xᵀ
    X = T⁻¹B:         the same, Ā kept on the triangle T reads (T of A, triangular)
    d = det A:        Ā = d̄ · d · A⁻ᵀ          (A invertible)
    l = log|det A|:   Ā = l̄ · A⁻ᵀ
    A = L Lᵀ:         Ā = L⁻ᵀ Φ L⁻¹,  Φ = ½(T + tril(T, −1)ᵀ),  T = tril(Lᵀ L̄)   (as torch)

The first-order det backward stays right at a singular A (cofactors from the SVD); the
recorded one needs A⁻¹ and says so there. eigh, eigvalsh, svd and svdvals have theirs in
autograd_higher_linalg_spectral.py; qr, matrix_exp, pinv, lstsq and lu in
autograd_higher_linalg_decomp.py.
"""

from __future__ import annotations

from .autograd_higher import _input, rule, sum_to
from .backend import xp
from .ops import linalg_funcs as LF
from .ops import linalg_more as M
from .ops.linalg_more import LinAlgError
from .tensor import Tensor, apply


def _inverse_transposed(a: Tensor, what: str) -> Tensor:
    try:
        return apply(M.Inv, a).transpose(-1, -2)
    except LinAlgError:
        raise LinAlgError(
            f"create_graph=True: the recorded derivative of {what} needs A⁻¹, and A is singular"
        ) from None


@rule(LF.NoGradient)
def _no_gradient(fn, g):
    return (None,) * len(fn.parents)


@rule(M.Inv)
def _inv(fn, g):
    a = fn.parents[0]
    yt = apply(M.Inv, a).transpose(-1, -2)
    return (-(yt @ g @ yt),)


@rule(M.Solve)
def _solve(fn, g):
    a, b = _input(fn, 0, "a"), _input(fn, 1, "b")
    gb = apply(M.Solve, a.transpose(-1, -2), g, vector=fn.vector)
    ga = None
    if fn.parents[0] is not None:
        x = apply(M.Solve, a, b, vector=fn.vector)  # X again, recorded: Ā depends on it
        gb2, x2 = (gb.unsqueeze(-1), x.unsqueeze(-1)) if fn.vector else (gb, x)
        ga = sum_to(-(gb2 @ x2.transpose(-1, -2)), fn.a_shape)
    return ga, sum_to(gb, fn.b_shape)


@rule(M.SolveTriangular)
def _solve_triangular(fn, g):
    a, b, unit = _input(fn, 0, "a"), _input(fn, 1, "b"), fn.unitriangular
    # Tᵀ is the other triangle of Aᵀ, so B̄ = T⁻ᵀX̄ is a triangular solve again
    gb = apply(M.SolveTriangular, a.transpose(-1, -2), g, upper=not fn.upper, unitriangular=unit)
    ga = None
    if fn.parents[0] is not None:
        x = apply(M.SolveTriangular, a, b, upper=fn.upper, unitriangular=unit)  # X, recorded
        read = Tensor(fn.mask.astype(g.dtype))  # the entries of A that T is made of
        ga = sum_to(-(gb @ x.transpose(-1, -2)) * read, fn.a_shape)
    return ga, sum_to(gb, fn.b_shape)


@rule(M.Det)
def _det(fn, g):
    a = fn.parents[0]
    d = apply(M.Det, a)
    return ((g * d).unsqueeze(-1).unsqueeze(-1) * _inverse_transposed(a, "det"),)


@rule(M.SlogDet)
def _slogdet(fn, gys):
    a = fn.parents[0]
    g = gys[1]
    if g is None:
        return (Tensor(xp.zeros(a.shape, dtype=a.dtype)),)
    return (g.unsqueeze(-1).unsqueeze(-1) * _inverse_transposed(a, "slogdet"),)


def _upper_solve(u: Tensor, b: Tensor) -> Tensor:
    """U⁻¹B for an upper-triangular U, recorded."""
    return apply(M.SolveTriangular, u, b, upper=True, unitriangular=False)


@rule(M.Cholesky)
def _cholesky(fn, g):
    a = fn.parents[0]
    lt = apply(M.Cholesky, a).transpose(-1, -2)  # Lᵀ, upper triangular
    gl = g.transpose(-1, -2) if fn.upper else g  # L̄
    t = (lt @ gl).tril()
    phi = (t + t.tril(-1).transpose(-1, -2)) * 0.5
    x = _upper_solve(lt, phi)  # L⁻ᵀ Φ
    return (_upper_solve(lt, x.transpose(-1, -2)).transpose(-1, -2),)  # L⁻ᵀ Φ L⁻¹
