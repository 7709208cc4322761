"""torch.linalg's inverses and solvers on raw arrays: det, slogdet, inv, solve, solve_triangular,
cholesky, pinv and lstsq, each batched over leading dims, with the adjoint (reverse-mode)
formulas of Giles, "Collected matrix derivative results for forward and reverse mode AD"
(2008), written as torch writes them (torch/csrc/autograd/FunctionsManual.cpp).

Notation: Ā = ∂L/∂A for the input A and Ȳ (the backward's ``g*``) for an output Y; Aᵀ swaps the
last two axes. The public functions with their shape checks are in ember/linalg.
"""

from __future__ import annotations

from ..backend import get_array_module, lstsq_gelsy
from ..function import Function, unbroadcast


class LinAlgError(RuntimeError):
    """A factorization or solve failed (a singular matrix, one not positive-definite).

    A RuntimeError, as torch.linalg.LinAlgError is, so code catching either works."""


def mT(a):
    """The matrix transpose of a batch: the last two axes swapped."""
    return a.swapaxes(-1, -2)


def batch_broadcast(a, b):
    """a (*, n, n) and b (*, n, k) with their batch dims broadcast to one shape."""
    xp = get_array_module(a, b)
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:])


def solve(a, b, name="linalg.solve"):
    """X = A⁻¹B for a (*, n, n), b (*, n, k), batch dims broadcast; LinAlgError if singular."""
    xp = get_array_module(a, b)
    a, b = batch_broadcast(a, b)
    try:
        return xp.linalg.solve(a, b)
    except xp.linalg.LinAlgError:
        raise LinAlgError(
            f"{name}: The solver failed because the input matrix is singular."
        ) from None


def tri_mask(n, upper, strict, xp):
    """The (n, n) boolean mask of the upper (lower) triangle, without the diagonal if strict."""
    i, j = xp.arange(n)[:, None], xp.arange(n)[None, :]
    d = j - i
    return (d > 0 if strict else d >= 0) if upper else (d < 0 if strict else d <= 0)


def pinv_backward(g, p, a):
    """Ā for P = A⁺ and upstream G = P̄, where A's rank is constant near A (torch's
    pinv_backward). Golub & Pereyra's differential

        dA⁺ = −A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I − AA⁺) + (I − A⁺A) dAᵀ A⁺ᵀA⁺

    in reverse mode, grouped so the intermediates are min(m, n) square (K = GᵀP when m ≤ n):

        Ā = −(P K)ᵀ + K Pᵀ − A P K Pᵀ + Pᵀ P (Gᵀ − K A)
    """
    m, n = a.shape[-2:]
    ph, gh = mT(p), mT(g)
    if m <= n:
        k = gh @ p
        kph = k @ ph
        return -mT(p @ k) + kph - (a @ p) @ kph + (ph @ p) @ (gh - k @ a)
    k = p @ gh
    phk = ph @ k
    return -mT(k @ p) + (gh - a @ k) @ p @ ph + phk - phk @ p @ a


class Det(Function):
    """det(A); ∂det(A)/∂A = cof(A) = det(A)·A⁻ᵀ, so Ā = ḡ·cof(A).

    The cofactor matrix is taken from the SVD A = U Σ Vᵀ, cof(A) = det(U)det(V)·U adj(Σ) Vᵀ
    with adj(Σ) = diag(Π_{j≠i} σ_j): the same as det(A)·A⁻ᵀ where A is invertible, and still the
    true gradient (the cofactors) where A is singular, where det(A)·A⁻ᵀ is 0·∞.
    """

    def forward(self, a):
        xp = get_array_module(a)
        self.a = a
        return xp.linalg.det(a)

    def backward(self, g):
        xp = get_array_module(g)
        u, s, vh = xp.linalg.svd(self.a)
        ones = xp.ones_like(s[..., :1])
        # Π_{j≠i} σ_j as (product of those before i)·(product of those after i): no division
        before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], -1), -1)
        after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(s[..., 1:], -1)], -1), -1), -1)
        sign = xp.linalg.det(u) * xp.linalg.det(vh)
        cof = (sign * g)[..., None, None] * ((u * (before * after)[..., None, :]) @ vh)
        return (cof,)


class SlogDet(Function):
    """(sign, log|det A|); ∂log|det A|/∂A = A⁻ᵀ, so Ā = ḡ·A⁻ᵀ. The sign is piecewise constant:
    no gradient. At a singular A, log|det A| = −∞ and the gradient does not exist (LinAlgError)."""

    multi_output = True

    def forward(self, a):
        xp = get_array_module(a)
        self.a = a
        sign, logabsdet = xp.linalg.slogdet(a)
        return sign, logabsdet

    def backward(self, gsign, glogabsdet):
        xp = get_array_module(self.a)
        if glogabsdet is None:
            return (xp.zeros_like(self.a),)
        try:
            inv = xp.linalg.inv(self.a)
        except xp.linalg.LinAlgError:
            raise LinAlgError(
                "linalg.slogdet: the matrix is singular, the gradient of log|det A| is infinite"
            ) from None
        return (glogabsdet[..., None, None] * mT(inv),)


class Inv(Function):
    """Y = A⁻¹; dY = −Y dA Y, so Ā = −Yᵀ Ȳ Yᵀ."""

    def forward(self, a):
        xp = get_array_module(a)
        try:
            self.y = xp.linalg.inv(a)
        except xp.linalg.LinAlgError:
            raise LinAlgError(
                "linalg.inv: The inversion could not be completed because the input matrix is"
                " singular."
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
    triangle that was read (the strict one if unitriangular)."""

    def forward(self, a, b, upper=False, unitriangular=False):
        xp = get_array_module(a, b)
        n = a.shape[-1]
        self.mask = tri_mask(n, upper, unitriangular, xp)
        t = xp.where(self.mask, a, 0)
        if unitriangular:
            t = t + xp.eye(n, dtype=a.dtype)
        self.a_shape, self.b_shape = a.shape, b.shape
        self.a, self.b, self.upper, self.unitriangular = a, b, upper, unitriangular  # create_graph
        self.t, self.x = t, solve(t, b, "linalg.solve_triangular")
        return self.x

    def backward(self, g):
        xp = get_array_module(g)
        gb = solve(mT(self.t), g, "linalg.solve_triangular")
        ga = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(xp.where(self.mask, -(gb @ mT(self.x)), 0), self.a_shape)
        return ga, unbroadcast(gb, self.b_shape) if self.needs_input_grad[1] else None


class Cholesky(Function):
    """A = L Lᵀ (L lower, or U = Lᵀ if ``upper``), reading A's lower triangle.

    Ā = L⁻ᵀ Φ L⁻¹ with Φ = ½(T + tril(T, −1)ᵀ), T = tril(Lᵀ L̄): the symmetric gradient, as
    torch's cholesky_backward (A is taken as symmetric, so Ā is too).
    """

    def forward(self, a, upper=False):
        xp = get_array_module(a)
        try:
            self.l = xp.linalg.cholesky(a)
        except xp.linalg.LinAlgError:
            raise LinAlgError(
                "linalg.cholesky: The factorization could not be completed because the input is"
                " not positive-definite."
            ) from None
        self.upper = upper
        return mT(self.l) if upper else self.l

    def backward(self, g):
        xp = get_array_module(g)
        l = self.l
        gl = mT(g) if self.upper else g
        t = xp.tril(mT(l) @ gl)
        phi = 0.5 * (t + mT(xp.tril(t, -1)))
        x = solve(mT(l), phi, "linalg.cholesky")  # L⁻ᵀ Φ
        return (mT(solve(mT(l), mT(x), "linalg.cholesky")),)  # (L⁻ᵀ (L⁻ᵀΦ)ᵀ)ᵀ = L⁻ᵀ Φ L⁻¹


def pinv_array(a, atol, rtol, hermitian):
    """A⁺ from the SVD (the eigendecomposition if hermitian), singular values σ ≤
    max(atol, rtol·σ_max) taken as zero; atol, rtol arrays broadcasting with the batch."""
    xp = get_array_module(a)
    if hermitian:
        w, v = xp.linalg.eigh(a)
        tol = xp.maximum(atol[..., None], rtol[..., None] * xp.abs(w).max(-1, keepdims=True))
        w_inv = xp.where(xp.abs(w) > tol, 1 / xp.where(w == 0, 1, w), 0).astype(a.dtype)
        return (v * w_inv[..., None, :]) @ mT(v)
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    tol = xp.maximum(atol[..., None], rtol[..., None] * s[..., :1])
    s_inv = xp.where(s > tol, 1 / xp.where(s == 0, 1, s), 0).astype(a.dtype)
    return (mT(vh) * s_inv[..., None, :]) @ mT(u)


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
    (σ > max(m, n)·ε·σ_max), whatever rcond the solution used: B̄ = Pᵀ X̄, Ā = pinv_backward(X̄ Bᵀ).
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
        x = mT(vh) @ (s_inv[..., :, None] * (mT(u) @ b))
        if driver == "gelsy" and not kept.all():
            x = _gelsy_where_cut(a, b, rcond, x, kept.all(-1))
        default = xp.finfo(a.dtype).eps * max(a.shape[-2:])
        if rcond != default:
            s_inv = s_inverse(default)[1]
        self.p = (mT(vh) * s_inv[..., None, :]) @ mT(u)
        return x

    def backward(self, g):
        na, nb = self.needs_input_grad
        ga = pinv_backward(g @ mT(self.b), self.p, self.a) if na else None
        gb = mT(self.p) @ g if nb else None
        return (
            None if ga is None else unbroadcast(ga, self.a_shape),
            None if gb is None else unbroadcast(gb, self.b_shape),
        )
