"""Recorded derivatives (autograd_higher.py) of qr, matrix_exp, pinv, lstsq and the LU
factorization (ember.lu; lu_solve and lu_unpack are made of recorded ops already). Each rule is
the op's first-order backward (torch's formulas) written with recorded ops, the decomposition
itself recomputed with ``apply`` so that its outputs carry their graph, so every order is
recorded:

    Y = exp(A):    Ā = [exp([[Aᵀ, Ȳ], [0, Aᵀ]])]₁₂   (the Fréchet derivative at Aᵀ along Ȳ)
    A = QR, m ≥ n: M = R R̄ᵀ − Q̄ᵀQ,  Ā = (Q̄ + Q copyltu(M)) R⁻ᵀ,  copyltu(M) = tril(M) + tril(M, −1)ᵀ
           m < n:  A = [X | Y], R = [U | V]:  Ȳ = Q V̄,  X̄ = the m ≥ n case with Q̄ + Y V̄ᵀ for Q̄
    P = A⁺:        Ā = −(P K)ᵀ + K Pᵀ − A P K Pᵀ + Pᵀ P (P̄ᵀ − K A),  K = P̄ᵀP   (m ≤ n)
                   Ā = −(K P)ᵀ + (P̄ᵀ − A K) P Pᵀ + Pᵀ K − Pᵀ K P A,  K = P P̄ᵀ  (m > n)
    X = A⁺B:       B̄ = Pᵀ X̄,  Ā = the pinv Ā with P̄ = X̄ Bᵀ
    A = P L U:     X = PᵀA,  L̄ = tril(Ḡ, −1), Ū = triu(Ḡ)  (Ḡ the packed LU's gradient)
           m = n:  X̄ = L⁻ᵀ [tril(Lᵀ L̄, −1) + triu(Ū Uᵀ)] U⁻ᵀ
           m < n:  U = [U₁ U₂]:  X̄₂ = L⁻ᵀ Ū₂,  X̄₁ = the square case with L̄ − X̄₂ U₂ᵀ for L̄
           m > n:  L = [L₁; L₂]: X̄₂ = L̄₂ U⁻ᵀ,  X̄₁ = the square case with Ū − L₂ᵀ X̄₂ for Ū
                   Ā = P X̄

The inverses are triangular solves (recorded SolveTriangular, reading R, U or the unit L from
the packed LU). The pseudo-inverse is recorded as :class:`PinvAt`, the forward's own A⁺ kept
with pinv's derivative (Lstsq's is A⁺ at pinv's default tolerance, as torch's backward takes
it): Pinv and Lstsq keep no atol/rtol/hermitian to recompute it with, and the derivatives are
all taken at this same A, where the rank is assumed constant (as torch's). The p-norm for
p < 0 (NegativePNorm) has its rule in autograd_higher_special.py.
"""

from __future__ import annotations

from .autograd_higher import _input, rule, sum_to
from .backend import xp
from .ops import linalg_decomp as D
from .ops import linalg_more as M
from .ops import shape as S
from .ops.linalg_funcs import LuFactor
from .tensor import Tensor, apply


def _cat(parts, axis: int) -> Tensor:
    """Recorded concatenation; the axis made non-negative (Cat's rule slices with it)."""
    return apply(S.Cat, *parts, axis=axis % parts[0].ndim)


def _zeros(shape, like: Tensor) -> Tensor:
    return Tensor(xp.zeros(tuple(shape), dtype=like.dtype))


def _solve_upper(t: Tensor, b: Tensor, unit: bool = False) -> Tensor:
    """T⁻¹B for the upper triangle of t (its diagonal taken as ones if unit), recorded."""
    return apply(M.SolveTriangular, t, b, upper=True, unitriangular=unit)


# ---------------------------------------------------------------- matrix_exp


@rule(D.MatrixExp)
def _matrix_exp(fn, g):
    a = _input(fn, 0, "a")
    n, at = a.shape[-1], a.transpose(-1, -2)
    top = _cat([at, g], -1)
    bottom = _cat([_zeros(a.shape, g), at], -1)
    # exp of the block matrix again: its own rule makes every further order a larger block
    return (apply(D.MatrixExp, _cat([top, bottom], -2))[..., :n, n:],)


# ---------------------------------------------------------------- qr


def _qr_tall(q: Tensor, r: Tensor, gq, gr) -> Tensor:
    """Ā for A = QR with m ≥ n (R square upper triangular), as Qr's _qr_backward_tall."""
    m = None
    if gr is not None:
        m = r @ gr.transpose(-1, -2)
    if gq is not None:
        qtgq = gq.transpose(-1, -2) @ q
        m = -qtgq if m is None else m - qtgq
    b = q @ (m.tril() + m.tril(-1).transpose(-1, -2))
    if gq is not None:
        b = b + gq
    return _solve_upper(r, b.transpose(-1, -2)).transpose(-1, -2)  # b R⁻ᵀ = (R⁻¹ bᵀ)ᵀ


@rule(D.Qr)
def _qr(fn, gys):
    gq, gr = gys
    a = fn.parents[0]
    m, n = a.shape[-2:]
    if fn.mode == "r" or (m > n and fn.mode == "complete"):
        # not differentiable (Q not computed; Q's extra columns not unique): the first-order
        # backward raises torch's message
        fn.backward(*(None if t is None else t.array for t in gys))
    q, r = apply(D.Qr, a, mode=fn.mode)  # Q and R again, recorded
    if m >= n:
        return (_qr_tall(q, r, gq, gr),)
    y = a[..., :, m:]
    gu = None if gr is None else gr[..., :, :m]
    gv = None if gr is None else gr[..., :, m:]
    if gv is not None:
        ygv = y @ gv.transpose(-1, -2)
        gq = ygv if gq is None else gq + ygv
    gx = _qr_tall(q, r[..., :, :m], gq, gu)
    gy = _zeros(y.shape, gx) if gv is None else q @ gv
    return (_cat([gx, gy], -1),)


# ---------------------------------------------------------------- pinv and lstsq


class PinvAt(M.Pinv):
    """P = A⁺ given as the forward computed it (``p``), recorded with pinv's derivative: the
    pseudo-inverse at this A for the rule below (its backward is Pinv's)."""

    def forward(self, a, p=None):
        self.a, self.p = a, p
        return p


def _pinv_backward(g: Tensor, p: Tensor, a: Tensor) -> Tensor:
    """Ā for P = A⁺ and P̄ = g (linalg_more.pinv_backward, recorded)."""
    m, n = a.shape[-2:]
    ph, gh = p.transpose(-1, -2), g.transpose(-1, -2)
    if m <= n:
        k = gh @ p
        kph = k @ ph
        return -(p @ k).transpose(-1, -2) + kph - (a @ p) @ kph + (ph @ p) @ (gh - k @ a)
    k = p @ gh
    phk = ph @ k
    return -(k @ p).transpose(-1, -2) + (gh - a @ k) @ p @ ph + phk - phk @ p @ a


@rule(M.Pinv, PinvAt)
def _pinv(fn, g):
    a = fn.parents[0]
    return (_pinv_backward(g, apply(PinvAt, a, p=fn.p), a),)


def _broadcast(fn, i: int, saved: str) -> Tensor:
    """Input i expanded to the batch shape the forward broadcast it to (fn.<saved>)."""
    t = _input(fn, i, saved)
    shape = getattr(fn, saved).shape
    return t if tuple(t.shape) == tuple(shape) else t.expand(*shape)


@rule(M.Lstsq)
def _lstsq(fn, g):
    a, b = _broadcast(fn, 0, "a"), _broadcast(fn, 1, "b")
    p = apply(PinvAt, a, p=fn.p)  # A⁺ at pinv's default tolerance, as the first derivative
    ga = gb = None
    if fn.parents[0] is not None:
        ga = sum_to(_pinv_backward(g @ b.transpose(-1, -2), p, a), fn.a_shape)
    if fn.parents[1] is not None:
        gb = sum_to(p.transpose(-1, -2) @ g, fn.b_shape)
    return ga, gb


# ---------------------------------------------------------------- lu (LuFactor)


def _lu_square(lu: Tensor, gl: Tensor, gu: Tensor) -> Tensor:
    """X̄ = L⁻ᵀ [tril(Lᵀ L̄, −1) + triu(Ū Uᵀ)] U⁻ᵀ for the square packed LU (unit L below, U
    on and above the diagonal)."""
    k = lu.shape[-1]
    lower = lu.tril(-1) + Tensor(xp.eye(k, dtype=lu.dtype))
    upper = lu.triu()
    y = (lower.transpose(-1, -2) @ gl).tril(-1) + (gu @ upper.transpose(-1, -2)).triu()
    z = _solve_upper(lu, y.transpose(-1, -2)).transpose(-1, -2)  # Y U⁻ᵀ
    return _solve_upper(lu.transpose(-1, -2), z, unit=True)  # L⁻ᵀ Z, Lᵀ unit upper


@rule(LuFactor)
def _lu_factor(fn, gys):
    g = gys[0]
    a = fn.parents[0]
    if g is None:  # only the pivots or the info were used: piecewise constant
        return (_zeros(a.shape, a),)
    lu = apply(LuFactor, a)[0]  # the same pivots again (same A), the packed LU recorded
    m, n = a.shape[-2:]
    k = min(m, n)
    gl, gu = g[..., :, :k].tril(-1), g[..., :k, :].triu()
    if m < n:  # U = [U₁ U₂], U₂ = L⁻¹X₂
        left = lu[..., :, :k]
        gx2 = _solve_upper(left.transpose(-1, -2), gu[..., :, k:], unit=True)
        gl = gl - gx2 @ lu[..., :, k:].transpose(-1, -2)
        gx = _cat([_lu_square(left, gl, gu[..., :, :k]), gx2], -1)
    elif m > n:  # L = [L₁; L₂], L₂ = X₂U⁻¹
        top = lu[..., :k, :]
        gx2 = _solve_upper(top, gl[..., k:, :].transpose(-1, -2)).transpose(-1, -2)
        gu = gu - lu[..., k:, :].transpose(-1, -2) @ gx2
        gx = _cat([_lu_square(top, gl[..., :k, :], gu), gx2], -2)
    else:
        gx = _lu_square(lu, gl, gu)
    # Ā = P X̄, P[r, i] = [perm[i] = r]: row i of X = PᵀA is row perm[i] of A (a constant)
    perm = fn.perm.reshape(tuple(a.shape[:-2]) + (m,))
    p = perm[..., None, :] == xp.arange(m)[:, None]
    return (Tensor(p.astype(gx.dtype)) @ gx,)
