"""torch.linalg's inverses and solvers on raw arrays: det, slogdet, inv, solve, solve_triangular,
cholesky, pinv and lstsq, each batched over leading dims, with the adjoint (reverse-mode)
formulas of Giles, "Collected matrix derivative results for forward and reverse mode AD"
(2008), written as torch writes them (torch/csrc/autograd/FunctionsManual.cpp).

Notation: Ā = ∂L/∂A for the input A and Ȳ (the backward's ``g*``) for an output Y; Aᵀ swaps the
last two axes, Aᴴ = conj(Aᵀ). The public functions with their shape checks are in ember/linalg.

Complex matrices (torch's convention, ops/complex.py): det, inv, solve and solve_triangular are
holomorphic, so their backward is written with Aᵀ, as the derivative itself, and the engine's
conj(B(conj Ḡ)) turns it into torch's Aᴴ form (inv: Ā = −Yᴴ Ȳ Yᴴ). slogdet, cholesky, pinv and
lstsq are not holomorphic (they read Aᴴ, or |det A|): their backward is torch's, written with
Aᴴ (``mH``), which is Aᵀ for real matrices, and is called as it is.
"""

from __future__ import annotations

import math

from ..backend import get_array_module, lstsq_gelsy
from ..function import Function, unbroadcast
from .linalg_funcs import getrf, trsm
from .linalg_nan import cholesky_info, nan_matrices, nan_pivot, without_nan_matrices


class LinAlgError(RuntimeError):
    """A factorization or solve failed (a singular matrix, one not positive-definite).

    A RuntimeError, as torch.linalg.LinAlgError is, so code catching either works."""


def mT(a):
    """The matrix transpose of a batch: the last two axes swapped."""
    return a.swapaxes(-1, -2)


def mH(a):
    """The conjugate transpose of a batch (the transpose of a real one)."""
    t = a.swapaxes(-1, -2)
    return t.conj() if t.dtype.kind == "c" else t


def batch_broadcast(a, b):
    """a (*, n, n) and b (*, n, k) with their batch dims broadcast to one shape."""
    xp = get_array_module(a, b)
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:])


def solve(a, b, name="torch.linalg.solve"):
    """X = A⁻¹B for a (*, n, n), b (*, n, k), batch dims broadcast; LinAlgError if singular,
    with torch's message (naming the first singular batch element)."""
    xp = get_array_module(a, b)
    a, b = batch_broadcast(a, b)
    nan = nan_matrices(a)
    if nan.any():  # NaN solutions there, as torch's LU gives (NumPy calls them singular)
        x = solve(without_nan_matrices(a, nan), b, name)
        return xp.where(nan[..., None, None], xp.nan, x)
    try:
        return xp.linalg.solve(a, b)
    except xp.linalg.LinAlgError:
        prefix, _ = first_failure(getrf(a)[3].reshape(a.shape[:-2]))
        raise LinAlgError(
            f"{name}: {prefix}The solver failed because the input matrix is singular."
        ) from None


def first_failure(info):
    """(torch's "(Batch element i): " prefix, or "" for one matrix; the info there) for the
    first non-zero LAPACK info of a batch (info (*,)), ("", 0) if none."""
    flat = info.reshape(-1)
    bad = flat.nonzero()[0]
    if bad.size == 0:
        return "", 0
    k = int(bad[0])
    return (f"(Batch element {k}): " if info.ndim > 0 else ""), int(flat[k])


def tri_mask(n, upper, strict, xp):
    """The (n, n) boolean mask of the upper (lower) triangle, without the diagonal if strict."""
    i, j = xp.arange(n)[:, None], xp.arange(n)[None, :]
    d = j - i
    return (d > 0 if strict else d >= 0) if upper else (d < 0 if strict else d <= 0)


def pinv_backward(g, p, a):
    """Ā for P = A⁺ and upstream G = P̄, where A's rank is constant near A (torch's
    pinv_backward). Golub & Pereyra's differential

        dA⁺ = −A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I − AA⁺) + (I − A⁺A) dAᵀ A⁺ᵀA⁺

    in reverse mode, grouped so the intermediates are min(m, n) square (K = GᴴP when m ≤ n):

        Ā = −(P K)ᴴ + K Pᴴ − A P K Pᴴ + Pᴴ P (Gᴴ − K A)

    (ᴴ: the conjugate transpose, the transpose for real matrices, as torch writes it)
    """
    m, n = a.shape[-2:]
    ph, gh = mH(p), mH(g)
    if m <= n:
        k = gh @ p
        kph = k @ ph
        return -mH(p @ k) + kph - (a @ p) @ kph + (ph @ p) @ (gh - k @ a)
    k = p @ gh
    phk = ph @ k
    return -mH(k @ p) + (gh - a @ k) @ p @ ph + phk - phk @ p @ a


class Det(Function):
    """det(A); ∂det(A)/∂A = cof(A) = det(A)·A⁻ᵀ, so Ā = ḡ·cof(A).

    The cofactor matrix is taken from the SVD A = U Σ Vh, cof(A) = det(U)det(Vh)·Ū adj(Σ) V̄h
    with adj(Σ) = diag(Π_{j≠i} σ_j) (Ū = U for real A): the same as det(A)·A⁻ᵀ where A is
    invertible, and still the true gradient (the cofactors) where A is singular, where
    det(A)·A⁻ᵀ is 0·∞. det is holomorphic: for complex A the engine conjugates this into
    torch's Ā = ḡ·conj(det A)·A⁻ᴴ.
    """

    def forward(self, a):
        xp = get_array_module(a)
        self.a = a
        d = xp.linalg.det(a)
        nan = nan_matrices(a)
        return xp.where(nan, xp.nan, d) if nan.any() else d  # NumPy gives 0 there

    def backward(self, g):
        xp = get_array_module(g)
        u, s, vh = xp.linalg.svd(self.a)
        ones = xp.ones_like(s[..., :1])
        # Π_{j≠i} σ_j as (product of those before i)·(product of those after i): no division
        before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], -1), -1)
        after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(s[..., 1:], -1)], -1), -1), -1)
        sign = xp.linalg.det(u) * xp.linalg.det(vh)
        if u.dtype.kind == "c":  # A⁻ᵀ = Ū Σ⁻¹ V̄h for A = U Σ Vh
            u, vh = u.conj(), vh.conj()
        cof = (sign * g)[..., None, None] * ((u * (before * after)[..., None, :]) @ vh)
        return (cof,)


class SlogDet(Function):
    """(sign, log|det A|); ∂log|det A|/∂A = A⁻ᵀ, so Ā = ḡ·A⁻ᵀ. A real sign is piecewise
    constant: no gradient. At a singular A, log|det A| = −∞ and the gradient is torch's inf/NaN
    (its lu_solve on the singular LU), not an error.

    Complex A (torch's slogdet_backward): d log det A = tr(A⁻¹dA) = dt moves log|det| by Re dt
    and the sign e^{iθ} by i·sign·Im dt, so with c = ḡ_logabsdet − i·Im(conj(ḡ_sign)·sign),
    Ā = c·A⁻ᴴ."""

    multi_output = True

    def forward(self, a):
        xp = get_array_module(a)
        self.a = a
        sign, logabsdet = xp.linalg.slogdet(a)
        nan = nan_matrices(a)
        if nan.any():  # torch: sign 0, log|det| NaN (NumPy: 0 and −∞, a singular matrix's)
            logabsdet = xp.where(nan, xp.nan, logabsdet)
            sign = xp.where(nan, sign * 0, sign)
        self.sign = sign
        return sign, logabsdet

    def backward(self, gsign, glogabsdet):
        xp = get_array_module(self.a)
        if self.a.dtype.kind == "c":
            c = xp.zeros(self.a.shape[:-2], self.a.dtype)
            if glogabsdet is not None:
                c += glogabsdet
            if gsign is not None:
                c -= 1j * (gsign.conj() * self.sign).imag
            glogabsdet = c
        elif glogabsdet is None:
            return (xp.zeros_like(self.a),)
        return (_inv_h_times(self.a, glogabsdet),)


def _inv_h_times(a, c):
    """c·A⁻ᴴ (c of A's batch shape) as torch's slogdet_backward computes it: lu_solve on the
    LU of Aᵀ (real A; of A with adjoint for complex A) against c·I, so a singular A gives
    LAPACK's inf/NaN pattern, not an error."""
    xp = get_array_module(a)
    n = a.shape[-1]
    d = xp.broadcast_to(c[..., None, None] * xp.eye(n, dtype=a.dtype), a.shape)
    d = d.reshape((math.prod(a.shape[:-2]), n, n))  # not -1: nothing to infer from if n = 0
    if a.dtype.kind != "c":  # Aᵀ = P L U:  X = U⁻¹ L⁻¹ Pᵀ d = A⁻ᵀ d
        lu, _, perm, _ = getrf(mT(a))
        y = trsm(lu, xp.take_along_axis(d, perm[:, :, None], axis=-2), upper=False, unit=True)
        return trsm(lu, y, upper=True).reshape(a.shape)
    lu, _, perm, _ = getrf(a)  # A = P L U:  X = P L⁻ᴴ U⁻ᴴ d = A⁻ᴴ d
    z = trsm(mH(lu), trsm(mH(lu), d, upper=False), upper=True, unit=True)
    return xp.take_along_axis(z, xp.argsort(perm, axis=-1)[:, :, None], axis=-2).reshape(a.shape)


class Inv(Function):
    """Y = A⁻¹; dY = −Y dA Y, so Ā = −Yᵀ Ȳ Yᵀ (holomorphic: −Yᴴ Ȳ Yᴴ for complex A).
    ``name`` heads the singular-matrix error, as torch's caller names it."""

    def forward(self, a, name="linalg.inv"):
        xp = get_array_module(a)
        nan = nan_matrices(a)
        if nan.any():  # NaN inverses there, as torch's LU gives (NumPy calls them singular)
            y = Inv.forward(self, without_nan_matrices(a, nan), name)
            self.y = xp.where(nan[..., None, None], xp.nan, y)
            return self.y
        try:
            self.y = xp.linalg.inv(a)
        except xp.linalg.LinAlgError:
            prefix, j = first_failure(getrf(a)[3].reshape(a.shape[:-2]))
            raise LinAlgError(
                f"{name}: {prefix}The diagonal element {j} is zero, the inversion could not"
                " be completed because the input matrix is singular."
            ) from None
        return self.y

    def backward(self, g):
        yt = mT(self.y)
        return (-(yt @ g @ yt),)


class Solve(Function):
    """X = A⁻¹B (AX = B), batch dims broadcast; B̄ = A⁻ᵀX̄, Ā = −B̄ Xᵀ.

    ``vector``: B is a (batch of) vector(s) (*, n), solved as the (*, n, 1) matrix.
    """

    def forward(self, a, b, vector=False):
        self.a_shape, self.b_shape, self.vector = a.shape, b.shape, vector
        b2 = b[..., None] if vector else b
        self.a, self.b, self.x = a, b, solve(a, b2)  # b kept (a reference) for create_graph
        return self.x[..., 0] if vector else self.x

    def backward(self, g):
        g2 = g[..., None] if self.vector else g
        gb = solve(mT(self.a), g2)
        ga = unbroadcast(-(gb @ mT(self.x)), self.a_shape) if self.needs_input_grad[0] else None
        if self.vector:
            gb = gb[..., 0]
        return ga, unbroadcast(gb, self.b_shape) if self.needs_input_grad[1] else None


class SolveTriangular(Function):
    """X = T⁻¹B with T the upper (lower) triangle of A, its diagonal taken as ones if
    ``unitriangular``; the other entries of A are never read. B̄ = T⁻ᵀX̄, Ā = −B̄ Xᵀ kept on the
    triangle that was read (the strict one if unitriangular). A zero on T's diagonal gives
    torch's (LAPACK trsm's) inf/NaN, forward and backward, not an error."""

    def forward(self, a, b, upper=False, unitriangular=False):
        xp = get_array_module(a, b)
        n = a.shape[-1]
        self.mask = tri_mask(n, upper, unitriangular, xp)
        t = xp.where(self.mask, a, 0)
        if unitriangular:
            t = t + xp.eye(n, dtype=a.dtype)
        self.a_shape, self.b_shape = a.shape, b.shape
        self.a, self.b, self.upper, self.unitriangular = a, b, upper, unitriangular  # create_graph
        self.t, self.x = t, trsm(t, b, upper, unitriangular)  # inf/NaN if singular, as torch
        return self.x

    def backward(self, g):
        xp = get_array_module(g)
        gb = trsm(mT(self.t), g, not self.upper, self.unitriangular)
        ga = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(xp.where(self.mask, -(gb @ mT(self.x)), 0), self.a_shape)
        return ga, unbroadcast(gb, self.b_shape) if self.needs_input_grad[1] else None


class Cholesky(Function):
    """A = L Lᵀ (L lower, or U = Lᵀ if ``upper``), reading A's lower triangle.

    Ā = L⁻ᴴ Φ L⁻¹ with Φ = ½(T + tril(T, −1)ᴴ), T = tril(Lᴴ L̄): the symmetric gradient, as
    torch's cholesky_backward (A is taken as symmetric, so Ā is too); Hermitian A alike, with
    ᴴ the conjugate transpose (torch's formula, whose diagonal keeps ½ diag(T)).
    """

    def forward(self, a, upper=False):
        xp = get_array_module(a)
        try:
            self.l = xp.linalg.cholesky(a)
            failed = bool(nan_pivot(self.l).any()) if self.l.size else False
        except xp.linalg.LinAlgError:
            failed = True
        if failed:
            prefix, j = first_failure(cholesky_info(a))
            raise LinAlgError(
                f"linalg.cholesky: {prefix}The factorization could not be completed because the"
                f" input is not positive-definite (the leading minor of order {j} is not"
                " positive-definite)."
            ) from None
        self.upper = upper
        return mH(self.l) if upper else self.l

    def backward(self, g):
        xp = get_array_module(g)
        l = self.l
        gl = mH(g) if self.upper else g
        t = xp.tril(mH(l) @ gl)
        phi = 0.5 * (t + mH(xp.tril(t, -1)))
        x = trsm(mH(l), phi, upper=True)  # L⁻ᴴ Φ
        return (mH(trsm(mH(l), mH(x), upper=True)),)  # (L⁻ᴴ (L⁻ᴴΦ)ᴴ)ᴴ = L⁻ᴴ Φ L⁻¹


def pinv_array(a, atol, rtol, hermitian):
    """A⁺ from the SVD (the eigendecomposition if hermitian), singular values σ ≤
    max(atol, rtol·σ_max) taken as zero; atol, rtol arrays broadcasting with the batch."""
    xp = get_array_module(a)
    if hermitian:
        w, v = xp.linalg.eigh(a)
        tol = xp.maximum(atol[..., None], rtol[..., None] * xp.abs(w).max(-1, keepdims=True))
        w_inv = xp.where(xp.abs(w) > tol, 1 / xp.where(w == 0, 1, w), 0).astype(a.dtype)
        return (v * w_inv[..., None, :]) @ mH(v)
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    tol = xp.maximum(atol[..., None], rtol[..., None] * s[..., :1])
    s_inv = xp.where(s > tol, 1 / xp.where(s == 0, 1, s), 0).astype(a.dtype)
    return (mH(vh) * s_inv[..., None, :]) @ mH(u)


class Pinv(Function):
    """P = A⁺, the Moore–Penrose pseudo-inverse; Ā by :func:`pinv_backward` (the gradient of A⁺
    where the rank is constant near A, as torch's)."""

    def forward(self, a, atol=None, rtol=None, hermitian=False):
        self.a = a
        self.p = pinv_array(a, atol, rtol, hermitian)
        return self.p

    def backward(self, g):
        return (pinv_backward(g, self.p, self.a),)


def _gelsy_where_cut(a, b, rcond, x, full_rank):
    """x with LAPACK gelsy's solution in place of the SVD's for every matrix of the batch
    whose rank the cut lowered (full_rank False there); x unchanged where gelsy is missing."""
    xp = get_array_module(x)
    batch = a.shape[:-2]
    flat_a, flat_b = a.reshape(-1, *a.shape[-2:]), b.reshape(-1, *b.shape[-2:])
    flat_x = x.reshape(-1, *x.shape[-2:]).copy()
    for i in xp.flatnonzero(~full_rank.reshape(-1)):  # the few cut ones: a LAPACK call each
        solved = lstsq_gelsy(flat_a[i], flat_b[i], rcond)
        if solved is None:
            return x
        flat_x[i] = solved
    return flat_x.reshape(*batch, *x.shape[-2:])


class Lstsq(Function):
    """X = A⁺B, the minimum-norm least-squares solution of AX ≈ B (A of shape (*, m, n), B of
    (*, m, k)), from the SVD with singular values ≤ rcond·σ_max dropped (LAPACK's gelsd). With
    driver "gelsy" (torch's CPU default), a matrix whose rank that cut lowers is solved by
    LAPACK's gelsy itself: its rank-revealing QR cuts A otherwise than the SVD does.

    Gradients as torch's linalg_lstsq_backward, through P = A⁺ at pinv's default tolerance
    (σ > max(m, n)·ε·σ_max), whatever rcond the solution used: B̄ = Pᴴ X̄, Ā = pinv_backward(X̄ Bᴴ)
    (ᴴ the transpose for real matrices, the conjugate transpose for complex ones).
    """

    def forward(self, a, b, rcond=None, driver=None):
        xp = get_array_module(a, b)
        self.a_shape, self.b_shape = a.shape, b.shape
        a, b = batch_broadcast(a, b)
        self.a, self.b = a, b
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        self.s = s

        def s_inverse(rtol):
            kept = s > rtol * s[..., :1]
            return kept, xp.where(kept, 1 / xp.where(s == 0, 1, s), 0).astype(a.dtype)

        kept, s_inv = s_inverse(rcond)
        x = mH(vh) @ (s_inv[..., :, None] * (mH(u) @ b))
        if driver == "gelsy" and not kept.all():
            x = _gelsy_where_cut(a, b, rcond, x, kept.all(-1))
        default = xp.finfo(a.dtype).eps * max(a.shape[-2:])
        if rcond != default:
            s_inv = s_inverse(default)[1]
        self.p = (mH(vh) * s_inv[..., None, :]) @ mH(u)
        return x

    def backward(self, g):
        na, nb = self.needs_input_grad
        ga = pinv_backward(g @ mH(self.b), self.p, self.a) if na else None
        gb = mH(self.p) @ g if nb else None
        return (
            None if ga is None else unbroadcast(ga, self.a_shape),
            None if gb is None else unbroadcast(gb, self.b_shape),
        )
