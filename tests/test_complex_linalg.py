"""Complex linear algebra as torch.linalg does it: inv, solve (and solve_triangular), det,
slogdet, cholesky, qr, eigh/eigvalsh, svd/svdvals, pinv, lstsq, lu, matrix_exp, the norms, dist,
cov and corrcoef,
in complex64 and complex128, forwards and gradients against torch (two real losses: Σ|f(A)|²,
and the real part of a random complex linear functional Re Σ conj(W)·f(A)), gradcheck in
complex128, and torch's phase-invariance errors for eigenvectors and singular vectors.

Eigenvectors and singular vectors are fixed only up to a phase e^{iφ} each, so their cases go
through gauge-invariant functions of them (V f(Λ) Vᴴ, U e^{S} Vh, |U|², u_i v_iᴴ)."""

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(7)


def _c(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


A3 = _c(3, 3)
B32 = _c(3, 2)
TALL = _c(4, 3)
WIDE = _c(2, 4)
HPD = A3 @ A3.conj().T + 3 * np.eye(3)  # Hermitian positive-definite, distinct eigenvalues
BATCH = _c(2, 3, 3)
RHS = _c(4, 2)  # lstsq's B, independent of A's columns (a residual, and no zero in X)
PIVOT = A3.copy()
PIVOT[:, 0] = [3.0, 2.0 + 2.0j, 0.5]  # |2 + 2i| < 3 < |2| + |2|: LAPACK pivots on row 1


def _la(lib):
    return lib.linalg


def _herm(lib, a):  # the Hermitian part, so that finite differences stay Hermitian
    return (a + a.mH) * 0.5


def _eye(lib, a):
    return lib.eye(a.shape[-1], dtype=a.dtype)


def _eigh_fn(lib, a):  # V cos(Λ) Vᴴ: invariant under v_i → v_i e^{iφ}
    w, v = _la(lib).eigh(_herm(lib, a))
    return (v * w.cos().unsqueeze(-2)) @ v.mH


def _svd_fn(lib, a, full=False):  # U e^{S} Vh
    u, s, vh = _la(lib).svd(a, full_matrices=full)
    k = s.shape[-1]
    return (u[..., :k] * s.exp().unsqueeze(-2)) @ vh[..., :k, :]


# name → (f(lib, *tensors), inputs)
CASES = {
    "inv": (lambda lib, a: _la(lib).inv(a), (A3,)),
    "inv_batch": (lambda lib, a: _la(lib).inv(a), (BATCH,)),
    "inverse_method": (lambda lib, a: a.inverse(), (A3,)),
    "solve": (lambda lib, a, b: _la(lib).solve(a, b), (A3, B32)),
    "solve_vector": (lambda lib, a, b: _la(lib).solve(a, b[:, 0]), (A3, B32)),
    "solve_right": (lambda lib, a, b: _la(lib).solve(a, b.mT, left=False), (A3, B32)),
    "solve_triangular": (lambda lib, a, b: _la(lib).solve_triangular(
        a + 3 * _eye(lib, a), b, upper=False), (A3, B32)),
    "det": (lambda lib, a: _la(lib).det(a), (A3,)),
    "det_batch": (lambda lib, a: lib.det(a), (BATCH,)),
    "slogdet": (lambda lib, a: tuple(_la(lib).slogdet(a)), (A3,)),
    "slogdet_logabsdet": (lambda lib, a: _la(lib).slogdet(a)[1], (BATCH,)),
    "logdet": (lambda lib, a: lib.logdet(a), (A3,)),
    "cholesky": (lambda lib, a: _la(lib).cholesky(a @ a.mH + 3 * _eye(lib, a)), (A3,)),
    "cholesky_upper": (lambda lib, a: _la(lib).cholesky(
        a @ a.mH + 3 * _eye(lib, a), upper=True), (BATCH,)),
    "cholesky_solve": (lambda lib, a, b: lib.cholesky_solve(
        b, _la(lib).cholesky(a @ a.mH + 3 * _eye(lib, a))), (A3, B32)),
    "qr_tall": (lambda lib, a: tuple(_la(lib).qr(a)), (TALL,)),
    "qr_wide": (lambda lib, a: tuple(_la(lib).qr(a)), (WIDE,)),
    "qr_square": (lambda lib, a: tuple(_la(lib).qr(a)), (A3,)),
    "eigvalsh": (lambda lib, a: _la(lib).eigvalsh(_herm(lib, a)), (HPD,)),
    "eigh_values": (lambda lib, a: _la(lib).eigh(_herm(lib, a))[0], (HPD,)),
    "eigh_invariant": (_eigh_fn, (HPD,)),
    "eigh_abs_vectors": (lambda lib, a: _la(lib).eigh(_herm(lib, a), UPLO="U")[1].abs(), (HPD,)),
    "svdvals": (lambda lib, a: _la(lib).svdvals(a), (TALL,)),
    "svd_values": (lambda lib, a: _la(lib).svd(a)[1], (WIDE,)),
    "svd_tall": (_svd_fn, (TALL,)),
    "svd_wide": (_svd_fn, (WIDE,)),
    "svd_full": (lambda lib, a: _svd_fn(lib, a, True), (TALL,)),
    "svd_abs_u": (lambda lib, a: _la(lib).svd(a, full_matrices=False)[0].abs() ** 2, (A3,)),
    "svd_outer": (lambda lib, a: (lambda u, s, vh: u[:, :1] @ vh[:1])(*_la(lib).svd(a)), (A3,)),
    "pinv_tall": (lambda lib, a: _la(lib).pinv(a), (TALL,)),
    "pinv_wide": (lambda lib, a: _la(lib).pinv(a), (WIDE,)),
    "pinv_hermitian": (lambda lib, a: _la(lib).pinv(_herm(lib, a), hermitian=True), (HPD,)),
    "lstsq": (lambda lib, a, b: _la(lib).lstsq(a, b).solution, (TALL, RHS)),
    "lu": (lambda lib, a: tuple(lib.lu(a)), (PIVOT,)),
    "lu_tall": (lambda lib, a: lib.lu(a)[0], (TALL,)),
    "lu_wide": (lambda lib, a: lib.lu(a)[0], (WIDE,)),
    "lu_batch": (lambda lib, a: lib.lu(a)[0], (BATCH,)),
    "cov": (lambda lib, a: lib.cov(a), (TALL,)),
    "cov_weights": (lambda lib, a: lib.cov(a, fweights=lib.tensor([1, 2, 1]),
                                           aweights=lib.tensor([0.5, 1.0, 2.0])), (TALL,)),
    "corrcoef": (lambda lib, a: lib.corrcoef(a), (WIDE,)),
    "matrix_exp": (lambda lib, a: _la(lib).matrix_exp(a * 0.5), (A3,)),
    "matrix_power": (lambda lib, a: _la(lib).matrix_power(a, -2), (A3,)),
    "matrix_norm_fro": (lambda lib, a: _la(lib).matrix_norm(a), (TALL,)),
    "matrix_norm_nuc": (lambda lib, a: _la(lib).matrix_norm(a, "nuc"), (TALL,)),
    "matrix_norm_2": (lambda lib, a: _la(lib).matrix_norm(a, 2), (TALL,)),
    "matrix_norm_1": (lambda lib, a: _la(lib).matrix_norm(a, 1), (TALL,)),
    "matrix_norm_inf": (lambda lib, a: _la(lib).matrix_norm(a, float("inf")), (TALL,)),
    "vector_norm_2": (lambda lib, a: _la(lib).vector_norm(a), (TALL,)),
    "vector_norm_3": (lambda lib, a: _la(lib).vector_norm(a, 3, dim=1), (TALL,)),
    "vector_norm_neg": (lambda lib, a: _la(lib).vector_norm(a, -1.5), (TALL,)),
    "vector_norm_inf": (lambda lib, a: _la(lib).vector_norm(a, float("inf"), dim=0), (TALL,)),
    "cond": (lambda lib, a: _la(lib).cond(a), (A3,)),
    "vecdot": (lambda lib, a, b: _la(lib).vecdot(a, b), (A3, A3[::-1].copy())),
    "dist": (lambda lib, a, b: lib.dist(a, b), (A3, A3.T.copy())),
    "dist_1": (lambda lib, a, b: lib.dist(a, b, 1), (A3, A3.T.copy())),
    "dist_3": (lambda lib, a, b: a.dist(b, 3), (A3, A3.T.copy())),
    "dist_inf": (lambda lib, a, b: lib.dist(a, b, float("inf")), (A3, A3.T.copy())),
    "dist_real_other": (lambda lib, a, b: lib.dist(a, b.real.detach()), (A3, A3.T.copy())),
}  # fmt: skip


def _np(t):
    t = t.detach()
    return t.resolve_conj().resolve_neg().numpy() if hasattr(t, "resolve_conj") else t.numpy()


def _outputs(y):
    return y if isinstance(y, tuple) else (y,)


def _loss(lib, ys, kind):
    total = 0
    for y in ys:
        if not y.requires_grad:
            continue
        if kind == "abs2":
            total = total + (y.abs() ** 2).sum()
            continue
        n = int(np.prod(tuple(y.shape)))
        w = np.cos(np.arange(n) * 0.7) + 1j * np.sin(np.arange(n) * 1.3)
        w = w.reshape(tuple(y.shape))
        if not y.is_complex():
            w = w.real
        total = total + (y * lib.tensor(w.astype(_np(y).dtype))).real.sum()
    return total


TOL = {np.complex64: dict(rtol=2e-3, atol=2e-4), np.complex128: dict(rtol=1e-8, atol=1e-10)}


@pytest.mark.parametrize("loss", ["abs2", "linear"])
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(torch, name, dtype, loss):
    f, arrays = CASES[name]
    es = [ember.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    got, want = _outputs(f(ember, *es)), _outputs(f(torch, *ts))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert _np(g).dtype == _np(w).dtype, (name, _np(g).dtype, _np(w).dtype)
        np.testing.assert_allclose(_np(g), _np(w), **TOL[dtype], err_msg=name)
    _loss(ember, got, loss).backward()
    _loss(torch, want, loss).backward()
    for e, t in zip(es, ts):
        if t.grad is None:  # an input the case detaches
            assert e.grad is None, name
            continue
        assert e.grad is not None and e.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(e.grad.numpy(), _np(t.grad), **TOL[dtype], err_msg=name)


GRADCHECK = ["inv", "solve", "solve_vector", "solve_triangular", "det", "slogdet", "logdet",
             "cholesky", "cholesky_upper", "qr_tall", "qr_wide", "eigvalsh", "eigh_invariant",
             "svdvals", "svd_tall", "svd_wide", "svd_outer", "pinv_tall", "pinv_wide", "lstsq",
             "lu", "lu_tall", "lu_wide", "cov", "matrix_exp", "matrix_norm_nuc", "matrix_norm_2",
             "vector_norm_3", "vector_norm_neg", "dist", "dist_3"]  # fmt: skip


@pytest.mark.parametrize("name", GRADCHECK)
def test_gradcheck_complex128(name):
    f, arrays = CASES[name]
    xs = tuple(ember.tensor(a, requires_grad=True) for a in arrays)
    assert ember.gradcheck(lambda *t: f(ember, *t), xs)


def test_eigh_phase_dependent_loss_is_refused_as_torch(torch):
    for lib in (torch, ember):
        a = lib.tensor(HPD, requires_grad=True)
        w, v = lib.linalg.eigh(a)
        with pytest.raises(RuntimeError, match=r"^linalg_eigh_backward: The eigenvectors in the"):
            (v.real.sum() + w.sum()).backward()


def test_svd_phase_dependent_loss_is_refused_as_torch(torch):
    for lib in (torch, ember):
        for pick in (lambda u, vh: u.real.sum(), lambda u, vh: vh.imag.sum(),
                     lambda u, vh: (u[:, 0] * vh[1, :]).real.sum()):  # fmt: skip
            a = lib.tensor(A3, requires_grad=True)
            u, s, vh = lib.linalg.svd(a)
            with pytest.raises(RuntimeError, match=r"^svd_backward: The singular vectors in"):
                pick(u, vh).backward()


def test_a_phase_invariant_vector_loss_still_differentiates(torch):
    # u_0 vh_0 is invariant under (u_0, vh_0) → (u_0 e^{iφ}, e^{−iφ} vh_0): no error, torch's grad
    grads = []
    for lib in (torch, ember):
        a = lib.tensor(A3, requires_grad=True)
        u, s, vh = lib.linalg.svd(a)
        (u[:, 0] * vh[0, :]).real.sum().backward()
        grads.append(_np(a.grad))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9, atol=1e-12)


def test_singular_complex_det_gradient_is_the_cofactor(torch):
    # a rank-1 complex matrix: det = 0, and its gradient the (non-zero) conjugate cofactors
    a0 = np.outer(_c(3), _c(3))[:2, :2]
    a, t = ember.tensor(a0, requires_grad=True), torch.tensor(a0, requires_grad=True)
    ember.linalg.det(a).real.backward()
    torch.linalg.det(t).real.backward()
    np.testing.assert_allclose(a.grad.numpy(), _np(t.grad), rtol=1e-9, atol=1e-12)
    cof = np.array([[a0[1, 1], -a0[1, 0]], [-a0[0, 1], a0[0, 0]]])
    np.testing.assert_allclose(a.grad.numpy(), cof.conj(), rtol=1e-12)


def test_matrix_rank_and_tolerances_in_complex(torch):
    low = _c(4, 2) @ _c(2, 4)
    for kw in ({}, {"hermitian": True}, {"atol": 1e-3}, {"rtol": 0.5}):
        m = low @ low.conj().T if kw.get("hermitian") else low
        got = ember.linalg.matrix_rank(ember.tensor(m), **kw)
        want = torch.linalg.matrix_rank(torch.tensor(m), **kw)
        assert int(got) == int(want), kw
    got = ember.linalg.pinv(ember.tensor(low), atol=1e-3)
    np.testing.assert_allclose(got.numpy(), _np(torch.linalg.pinv(torch.tensor(low), atol=1e-3)),
                               rtol=1e-9, atol=1e-12)  # fmt: skip


def test_complex_slogdet_sign_keeps_its_gradient_real_sign_does_not():
    sign, _ = ember.linalg.slogdet(ember.tensor(A3, requires_grad=True))
    assert sign.requires_grad
    sign, _ = ember.linalg.slogdet(ember.tensor(A3.real, requires_grad=True))
    assert not sign.requires_grad


REAL_INPUT = ["inv", "det", "cholesky", "qr_tall", "eigh_invariant", "svd_tall", "pinv_wide",
              "lu", "matrix_exp", "slogdet_logabsdet", "lstsq"]  # fmt: skip


@pytest.mark.parametrize("name", REAL_INPUT)
def test_real_input_under_a_complex_loss(torch, name):
    # a real matrix whose result meets complex numbers downstream: the real part of the complex
    # gradient reaches it, as in torch (HOLOMORPHIC and OWN ops alike)
    f, arrays = CASES[name]
    arrays = [(a.real + a.real.T + 3 * np.eye(a.shape[-1])) if name in ("cholesky",
              "eigh_invariant") else a.real.copy() for a in arrays]  # fmt: skip
    grads = []
    for lib in (torch, ember):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = _outputs(f(lib, *xs))[0]
        n = int(np.prod(tuple(y.shape)))
        w = (np.cos(np.arange(n)) + 1j * np.sin(np.arange(n))).reshape(tuple(y.shape))
        (y * lib.tensor(w)).abs().sum().backward()
        grads.append([_np(x.grad) for x in xs])
    for want, got in zip(*grads):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10, err_msg=name)
