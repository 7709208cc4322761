"""torch.linalg's decompositions on raw arrays: eigh, svd, qr, plus matrix_exp and the p-norm for
p < 0, batched over leading dims, with torch's backward formulas (FunctionsManual.cpp).

Eigenvectors and singular vectors are fixed only up to sign (real case): a loss that depends on
that sign has no gradient. The formulas divide by λ_j − λ_i (σ_j² − σ_i²), so they hold for
distinct eigenvalues (singular values); at a repeated one the gradient is infinite or NaN unless
the loss does not depend on the choice of basis of that eigenspace, as torch documents.

Complex matrices: every formula is torch's, written with the conjugate transpose ᴴ (``mH``,
the transpose for real matrices), and called as it is (none of these is holomorphic). Complex
eigenvectors and singular vectors are fixed only up to a phase e^{iφ} each; as torch, the
backward checks that the loss does not depend on it (the imaginary part of diag(VᴴV̄) is 0 for
eigh, diag(UᴴŪ) + diag(VᴴV̄) for svd, to 1e-2) and raises torch's RuntimeError otherwise.
matrix_exp is holomorphic: its backward, with Aᵀ, is conjugated by the engine.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from .linalg_funcs import trsm
from .linalg_more import mH, mT


def _close(a, b):
    """torch's allclose(a, b, rtol=1e-2, atol=1e-2): |a − b| ≤ 1e-2 + 1e-2·|b| (NaN fails)."""
    xp = get_array_module(a)
    return bool(xp.all(xp.abs(a - b) <= 1e-2 + 1e-2 * xp.abs(b)))


def _off_diagonal_ones(d):
    """E_ij = d_j − d_i with a 1 on the diagonal (where the formulas put no division)."""
    xp = get_array_module(d)
    e = d[..., None, :] - d[..., :, None]
    n = d.shape[-1]
    return xp.where(xp.eye(n, dtype=bool), 1, e)


def eigh_backward(w, v, gw, gv):
    """Ā = V (diag(λ̄) + ½(VᴴV̄ − V̄ᴴV) / E) Vᴴ, E_ij = λ_j − λ_i (torch's linalg_eig_backward,
    Hermitian case). Symmetric (Hermitian), as A is taken to be."""
    xp = get_array_module(w)
    if gv is None:
        inner = xp.zeros(w.shape + w.shape[-1:], dtype=v.dtype)
    else:
        vtgv = mH(v) @ gv
        if vtgv.dtype.kind == "c" and not _close(xp.diagonal(vtgv, 0, -2, -1).imag, 0.0):
            raise RuntimeError(
                "linalg_eigh_backward: The eigenvectors in the complex case are specified up to"
                " multiplication by e^{i phi}. The specified loss function depends on this"
                " quantity, so it is ill-defined."
            )
        inner = 0.5 * (vtgv - mH(vtgv)) / _off_diagonal_ones(w)
    if gw is not None:
        n = w.shape[-1]
        inner = xp.where(xp.eye(n, dtype=bool), gw[..., None, :], inner)
    return v @ inner @ mH(v)


class Eigh(Function):
    """A = V diag(λ) Vᵀ for symmetric A (its UPLO triangle read), λ ascending."""

    multi_output = True

    def forward(self, a, uplo="L"):
        xp = get_array_module(a)
        self.w, self.v = xp.linalg.eigh(a, UPLO=uplo)
        return self.w, self.v

    def backward(self, gw, gv):
        return (eigh_backward(self.w, self.v, gw, gv),)


class EigvalsH(Function):
    """λ of symmetric (Hermitian) A, ascending; Ā = V diag(λ̄) Vᴴ."""

    def forward(self, a, uplo="L"):
        xp = get_array_module(a)
        if not any(self.needs_input_grad):
            return xp.linalg.eigvalsh(a, UPLO=uplo)
        self.w, self.v = xp.linalg.eigh(a, UPLO=uplo)
        return self.w

    def backward(self, gw):
        return (eigh_backward(self.w, self.v, gw, None),)


def svd_backward(u, s, vh, gu, gs, gvh):
    """Ā for the reduced SVD A = U diag(σ) Vᴴ (U: m×k, Vh: k×n, k = min(m, n)), torch's
    svd_backward: with skew(X) = X − Xᴴ and E_ij = σ_j² − σ_i²,

        core = (skew(UᴴŪ) σ_row + σ_col skew(Vh V̄hᴴ)) / E + diag(σ̄)
               (+ diag(skew(UᴴŪ)) / 2σ for complex A: the phase of each pair u_i, v_i)
        Ā = U core Vh  (+ (I − UUᴴ) Ū σ⁻¹ Vh if m > n, + U σ⁻¹ V̄h (I − VVᴴ) if m < n)

    For real A the diagonal of each skew part is exactly 0; for complex A it is i·2·Im, and
    torch's gauge condition (Im diag(UᴴŪ) = −Im diag(VᴴV̄)) makes the two cancel there.
    """
    xp = get_array_module(s)
    m, n = u.shape[-2], vh.shape[-1]
    if gu is None and gvh is None:  # svdvals: U diag(σ̄) Vh
        return (u * gs[..., None, :]) @ vh
    k = s.shape[-1]
    e = _off_diagonal_ones(s * s)
    core = xp.zeros(s.shape + (k,), dtype=u.dtype)
    utgu = vhgv = None
    if gu is not None:
        utgu = mH(u) @ gu
        utgu = utgu - mH(utgu)
        core = core + utgu * s[..., None, :]
    if gvh is not None:
        vhgv = vh @ mH(gvh)
        vhgv = vhgv - mH(vhgv)
        core = core + s[..., :, None] * vhgv
    complex_ = u.dtype.kind == "c"
    if complex_:
        zero = xp.zeros_like(s)
        im_u = zero if utgu is None else xp.diagonal(utgu, 0, -2, -1).imag
        im_v = zero if vhgv is None else xp.diagonal(vhgv, 0, -2, -1).imag
        if not _close(im_u, -im_v):
            raise RuntimeError(
                "svd_backward: The singular vectors in the complex case are specified up to"
                " multiplication by e^{i phi}. The specified loss function depends on this"
                " phase term, making it ill-defined."
            )
    core = core / e
    eye = xp.eye(k, dtype=bool)
    if not complex_:  # exactly 0 there already, as the real skew parts are
        core = xp.where(eye, 0, core)
    if gs is not None:
        core = core + xp.where(eye, gs[..., None, :], 0)
    if complex_ and utgu is not None:
        core = core + xp.where(eye, (xp.diagonal(utgu, 0, -2, -1) / (2 * s))[..., None, :], 0)
    if m > n and gu is not None:
        gu_sinv = gu / s[..., None, :]
        ga = u @ core + gu_sinv - u @ (mH(u) @ gu_sinv)
        return ga @ vh
    if m < n and gvh is not None:
        sinv_gvh = gvh / s[..., :, None]
        ga = core @ vh + sinv_gvh - (sinv_gvh @ mH(vh)) @ vh
        return u @ ga
    return u @ core @ vh


class Svd(Function):
    """A = U diag(σ) Vh, σ descending. With full_matrices the extra columns of U (rows of Vh)
    are not unique: their gradients are dropped, as torch does."""

    multi_output = True

    def forward(self, a, full_matrices=True):
        xp = get_array_module(a)
        u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        k = s.shape[-1]
        self.u, self.s, self.vh = u[..., :, :k], s, vh[..., :k, :]
        return u, s, vh

    def backward(self, gu, gs, gvh):
        k = self.s.shape[-1]
        gu = None if gu is None else gu[..., :, :k]
        gvh = None if gvh is None else gvh[..., :k, :]
        return (svd_backward(self.u, self.s, self.vh, gu, gs, gvh),)


class SvdVals(Function):
    """σ of A, descending; Ā = U diag(σ̄) Vh."""

    def forward(self, a):
        xp = get_array_module(a)
        if not any(self.needs_input_grad):
            return xp.linalg.svd(a, compute_uv=False)
        self.u, self.s, self.vh = xp.linalg.svd(a, full_matrices=False)
        return self.s

    def backward(self, gs):
        return (svd_backward(self.u, self.s, self.vh, None, gs, None),)


def _qr_backward_tall(q, r, gq, gr):
    """m ≥ n: M = R R̄ᴴ − Q̄ᴴQ, Ā = (Q̄ + Q copyltu(M)) R⁻ᴴ, copyltu(M) = tril(M, −1) + tril(M, −1)ᴴ
    + Re diag(M) (torch's syminvadj of triu(Mᴴ); for real M, tril(M) + tril(M, −1)ᵀ)."""
    xp = get_array_module(q)
    m = 0
    if gr is not None:
        m = r @ mH(gr)
    if gq is not None:
        m = m - mH(gq) @ q
    low = xp.tril(m, -1)
    sym = low + mH(low)
    d = xp.diagonal(m, 0, -2, -1)
    sym = sym + xp.where(xp.eye(m.shape[-1], dtype=bool), d.real[..., None, :], 0)
    b = q @ sym
    if gq is not None:
        b = b + gq
    # b R⁻ᴴ = (R⁻¹ bᴴ)ᴴ by substitution: a rank-deficient R (some R_kk = 0) gives torch's
    # inf/NaN, not an error
    return mH(trsm(r, mH(b), upper=True))


class Qr(Function):
    """A = Q R, Q with orthonormal columns, R upper triangular (mode 'reduced', 'complete' or
    'r', the last returning an empty Q).

    Backward (m ≥ n) as :func:`_qr_backward_tall`; for m < n, A = [X | Y], R = [U | V] with
    X = QU square: Ȳ = Q V̄ and X̄ is the square case with Q̄ + Y V̄ᵀ in place of Q̄.
    """

    multi_output = True

    def forward(self, a, mode="reduced"):
        xp = get_array_module(a)
        self.mode = mode
        if mode == "r":
            self.q = None
            return xp.zeros((0,), dtype=a.dtype), xp.linalg.qr(a, mode="r")
        self.a = a
        self.q, self.r = xp.linalg.qr(a, mode=mode)
        return self.q, self.r

    def backward(self, gq, gr):
        xp = get_array_module(gr if gq is None else gq)
        if self.q is None:
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'."
                " Please use linalg.qr(A, mode='reduced') if you are going to differentiate"
                " through linalg.qr."
            )
        q, r = self.q, self.r
        m, n = self.a.shape[-2:]
        if m > n and self.mode == "complete":
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
            )
        if m >= n:
            return (_qr_backward_tall(q, r, gq, gr),)
        y = self.a[..., :, m:]
        gv = None if gr is None else gr[..., :, m:]
        gu = None if gr is None else gr[..., :, :m]
        gq2 = gq if gv is None else (y @ mH(gv) if gq is None else gq + y @ mH(gv))
        gx = _qr_backward_tall(q, r[..., :, :m], gq2, gu)
        gy = xp.zeros_like(y) if gv is None else q @ gv
        return (xp.concatenate([gx, gy], -1),)


# Padé (13, 13) coefficients and the θ₁₃ bound of Higham, "The scaling and squaring method for
# the matrix exponential revisited" (2005)
_PADE13 = (
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
    40840800.0, 960960.0, 16380.0, 182.0, 1.0,
)  # fmt: skip
_THETA13 = 5.371920351148152


def expm_array(a):
    """exp(A) by scaling and squaring with the Padé (13, 13) approximant: A/2ˢ with ‖A/2ˢ‖₁ ≤
    θ₁₃, r = q⁻¹p at that matrix, then squared s times (s per matrix of the batch)."""
    xp = get_array_module(a)
    n = a.shape[-1]
    if n == 0:  # exp of a 0×0 matrix is 0×0 (and has no 1-norm to take)
        return a.copy()
    norm1 = xp.abs(a).sum(-2).max(-1)  # the 1-norm: the largest column sum
    s = xp.maximum(0, xp.ceil(xp.log2(xp.maximum(norm1, 1e-300) / _THETA13))).astype(int)
    x = a / (2.0**s).astype(a.dtype)[..., None, None]
    b = _PADE13
    eye = xp.broadcast_to(xp.eye(n, dtype=a.dtype), a.shape)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2
             + b[1] * eye)  # fmt: skip
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye
    r = xp.linalg.solve(v - u, v + u)
    for k in range(int(s.max()) if s.size else 0):
        r = xp.where((s > k)[..., None, None], r @ r, r)
    return r


class MatrixExp(Function):
    """Y = exp(A) = Σ Aᵏ/k!. Ā = the upper-right block of exp([[Aᵀ, Ȳ], [0, Aᵀ]]) (the Fréchet
    derivative of exp at Aᵀ in the direction Ȳ, as torch computes it)."""

    def forward(self, a):
        self.a = a
        return expm_array(a)

    def backward(self, g):
        xp = get_array_module(g)
        at = mT(self.a)
        n = at.shape[-1]
        at, g = xp.broadcast_arrays(at, g)
        top = xp.concatenate([at, g], -1)
        bottom = xp.concatenate([xp.zeros_like(at), at], -1)
        return (expm_array(xp.concatenate([top, bottom], -2))[..., :n, n:],)


class NegativePNorm(Function):
    """‖x‖_p = (Σ|x_i|^p)^{1/p} over axes for p < 0 (finite): 0 where some x_i = 0.

    ∂‖x‖_p/∂x_i = sign(x_i)·|x_i|^{p−1}·‖x‖_p^{1−p}, taken as 0 at x_i = 0 (torch's); for
    complex x, sign(z) = z/|z| makes it torch's complex gradient as it stands."""

    def forward(self, x, p=-1.0, axes=(), keepdim=False):
        xp = get_array_module(x)
        a = xp.abs(x)
        zero = a == 0
        safe = xp.where(zero, 1, a)
        y = (safe**p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        y = xp.where(zero.any(axis=axes, keepdims=True), 0, y).astype(a.dtype)  # |x|'s: real
        self.x, self.safe, self.y, self.p = x, safe, y, p
        self.axes, self.keepdim = axes, keepdim
        return y if keepdim else y.squeeze(axes)

    def backward(self, g):
        xp = get_array_module(g)
        if not self.keepdim:
            g = xp.expand_dims(g, self.axes)
        p = self.p
        d = xp.sign(self.x) * self.safe ** (p - 1)  # sign(0) = 0: x_i = 0 gets no gradient
        return (d * self.y ** (1 - p) * g,)
