"""ember.linalg's decompositions (cholesky, qr, eigh, eigvalsh, svd) against torch.linalg in
float64: values, and gradients of losses that do not depend on the sign of each eigenvector or
singular-vector pair (|V|², |U|², eigen/singular values), as torch's own tests take them;
gradcheck on symmetric inputs with distinct eigenvalues and on matrices with distinct singular
values; the non-differentiable modes and the error cases."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.linalg as LA
from tests.core_reference import check_gradients
from tests.linalg.linalg_reference import compare, randn, spd, symmetric, with_singular_values

TOL = dict(rtol=1e-9, atol=1e-11)  # two LAPACK builds: a few ulps more than one computation


def sym(a):
    """The symmetric part: finite differences then move A along symmetric directions only, the
    ones a factorization that reads one triangle (and torch's symmetric gradient) describes."""
    return (a + a.mT) / 2


# ------------------------------------------------------------ cholesky
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("batch", [(), (2, 3)], ids=str)
def test_cholesky_matches_torch_and_gradcheck(torch, upper, batch):
    a = spd(*batch, n=4, seed=1)
    compare(torch, lambda m, t: m.cholesky(t, upper=upper), [a], **TOL)
    compare(torch, lambda m, t: m.cholesky(sym(t), upper=upper), [a], **TOL)
    check_gradients(lambda t: LA.cholesky(sym(t), upper=upper), [a])


def test_cholesky_reads_the_lower_triangle_and_rebuilds_a():
    a = spd(n=4, seed=2)
    junk = a + np.triu(randn(4, 4, seed=3), 1)  # the upper triangle is never read
    l = LA.cholesky(ember.tensor(junk))
    np.testing.assert_allclose((l @ l.mT).array, a, rtol=1e-12)
    np.testing.assert_array_equal(np.triu(l.array, 1), 0)


def test_cholesky_of_an_indefinite_matrix_raises_linalg_error(torch):
    a = np.diag([1.0, -1.0, 2.0])
    with pytest.raises(torch.linalg.LinAlgError):
        torch.linalg.cholesky(torch.tensor(a))
    with pytest.raises(LA.LinAlgError, match="not positive-definite"):
        LA.cholesky(ember.tensor(a))


# ------------------------------------------------------------ qr
QR_SHAPES = [(5, 3), (4, 4), (3, 5), (2, 3, 6, 4), (2, 3, 3, 6)]


@pytest.mark.parametrize("shape", QR_SHAPES, ids=str)
@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_qr_matches_torch_and_gradcheck(torch, shape, mode):
    a = randn(*shape, seed=4)
    differentiable = mode == "reduced" or shape[-2] <= shape[-1]
    compare(torch, lambda m, t: tuple(m.qr(t, mode=mode)), [a], grad=differentiable, **TOL)
    if differentiable:
        single = a.reshape(-1, *shape[-2:])[0]
        check_gradients(lambda t: tuple(LA.qr(t, mode=mode)), [single])
    q, r = LA.qr(ember.tensor(a), mode=mode)
    np.testing.assert_allclose((q @ r).array, a, atol=1e-12)
    eye = np.broadcast_to(np.eye(q.shape[-1]), q.shape[:-2] + (q.shape[-1],) * 2)
    np.testing.assert_allclose((q.mT @ q).array, eye, atol=1e-12)
    np.testing.assert_array_equal(np.tril(r.array, -1), 0)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)], ids=str)
def test_qr_only_r(torch, shape):
    a = randn(*shape, seed=5)
    q, r = LA.qr(ember.tensor(a), mode="r")
    qt, rt = torch.linalg.qr(torch.tensor(a), mode="r")
    assert q.shape == tuple(qt.shape) == (0,)
    np.testing.assert_allclose(r.array, rt.numpy(), **TOL)


@pytest.mark.parametrize(
    "mode, shape, message", [("r", (4, 3), "mode='r'"), ("complete", (5, 3), "nrows > ncols")]
)
def test_qr_backward_raises_where_torchs_does(torch, mode, shape, message):
    a = randn(*shape, seed=6)
    t = torch.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match=message):
        torch.linalg.qr(t, mode=mode).R.sum().backward()
    e = ember.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match=message):
        LA.qr(e, mode=mode).R.sum().backward()


# ------------------------------------------------------------ eigh / eigvalsh
def _eigh_invariant(m, t, uplo="L"):
    w, v = m.eigh(t, UPLO=uplo)
    return w, v * v  # |v_i|²: the same whichever sign LAPACK picked for each eigenvector


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("batch", [(), (2, 3)], ids=str)
def test_eigh_matches_torch(torch, uplo, batch):
    a = symmetric(*batch, n=4, seed=7)
    compare(torch, lambda m, t: _eigh_invariant(m, t, uplo), [a], **TOL)
    # a non-symmetric input: only the UPLO triangle is read, by both
    junk = a + (np.triu if uplo == "L" else np.tril)(randn(*batch, 4, 4, seed=8), 1)
    compare(torch, lambda m, t: _eigh_invariant(m, t, uplo), [junk], **TOL)
    compare(torch, lambda m, t: m.eigvalsh(t, UPLO=uplo), [junk], **TOL)


def test_eigh_gradcheck_and_named_result():
    a = symmetric(2, n=4, seed=9)
    check_gradients(lambda t: _eigh_invariant(LA, sym(t)), [a])
    check_gradients(lambda t: LA.eigh(sym(t)).eigenvalues, [a])
    check_gradients(lambda t: LA.eigvalsh(sym(t)), [a])
    # eigenvectors through a gauge-invariant product: V diag(λ²) Vᵀ = A²
    check_gradients(
        lambda t: (lambda w, v: (v * (w * w).unsqueeze(-2)) @ v.mT)(*LA.eigh(sym(t))), [a]
    )
    w, v = LA.eigh(ember.tensor(a))
    np.testing.assert_allclose(((v * w.unsqueeze(-2)) @ v.mT).array, a, atol=1e-12)
    assert np.all(np.diff(w.array, axis=-1) > 0)


# ------------------------------------------------------------ svd / svdvals
SVD_SHAPES = [(5, 3), (3, 5), (4, 4), (2, 3, 6, 4), (2, 3, 4, 6)]


def _svd_invariant(m, t, full_matrices):
    u, s, vh = m.svd(t, full_matrices=full_matrices)
    k = s.shape[-1]  # the extra columns of a full U (rows of Vh) are not unique: left out
    return u[..., :k] ** 2, s, vh[..., :k, :] ** 2


@pytest.mark.parametrize("shape", SVD_SHAPES, ids=str)
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_matches_torch_and_gradcheck(torch, shape, full_matrices):
    a = with_singular_values(*shape[:-2], m=shape[-2], n=shape[-1], seed=10)
    compare(torch, lambda m, t: _svd_invariant(m, t, full_matrices), [a], **TOL)
    u, s, vh = LA.svd(ember.tensor(a), full_matrices=full_matrices)
    ut, st, vht = torch.linalg.svd(torch.tensor(a), full_matrices=full_matrices)
    assert (u.shape, s.shape, vh.shape) == (tuple(ut.shape), tuple(st.shape), tuple(vht.shape))
    k = s.shape[-1]
    np.testing.assert_allclose(((u[..., :k] * s.unsqueeze(-2)) @ vh[..., :k, :]).array, a, 0, 1e-12)
    single = a.reshape(-1, *shape[-2:])[0]
    check_gradients(lambda t: _svd_invariant(LA, t, full_matrices), [single])


def test_svd_gradient_ignores_the_extra_columns_of_a_full_u(torch):
    # torch drops the gradient of U's columns beyond min(m, n); a loss on all of U² then has
    # the same gradient in both, although those columns themselves may differ
    a = with_singular_values(m=5, n=3, seed=11)
    w = randn(5, 5, seed=12)
    e = ember.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    (LA.svd(e).U ** 2 * ember.tensor(w)).sum().backward()
    (torch.linalg.svd(t).U ** 2 * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(e.grad.array, t.grad.numpy(), **TOL)


def test_svdvals_matches_torch(torch):
    a = with_singular_values(2, 3, m=5, n=4, seed=13)
    compare(torch, lambda m, t: m.svdvals(t), [a], **TOL)
    compare(torch, lambda m, t: m.svd(t).S, [a], **TOL)
    np.testing.assert_allclose(
        LA.svdvals(ember.tensor(a)).array, LA.svd(ember.tensor(a)).S.array, rtol=1e-13
    )


# ------------------------------------------------------------ errors
BAD = np.ones((2, 3, 4))
ERRORS = [
    ("cholesky_not_square", lambda m, t: m.cholesky(t), r"3 by 4 matrices \(shape \(2, 3, 4\)\)"),
    ("eigh_not_square", lambda m, t: m.eigh(t), r"3 by 4"),
    ("eigvalsh_not_square", lambda m, t: m.eigvalsh(t), r"3 by 4"),
    ("eigh_uplo", lambda m, t: m.eigh(t[0, :, :3], UPLO="X"), "UPLO"),
    ("qr_mode", lambda m, t: m.qr(t, mode="full"), "unrecognized mode 'full'"),
    ("qr_1d", lambda m, t: m.qr(t[0, 0]), r"at least 2 dimensions, got shape \(4,\)"),
    ("svd_1d", lambda m, t: m.svd(t[0, 0]), r"at least 2 dimensions"),
    ("svdvals_1d", lambda m, t: m.svdvals(t[0, 0]), r"at least 2 dimensions"),
]


@pytest.mark.parametrize("case", ERRORS, ids=lambda c: c[0])
def test_errors_are_runtime_errors_like_torchs(torch, case):
    _, call, message = case
    with pytest.raises(RuntimeError):
        call(torch.linalg, torch.tensor(BAD))
    with pytest.raises(RuntimeError, match=message):
        call(LA, ember.tensor(BAD))


def test_integer_input_is_refused_like_torch(torch):
    for m, make in ((torch.linalg, torch.tensor), (LA, ember.tensor)):
        with pytest.raises(RuntimeError):
            m.eigh(make(np.eye(3, dtype=np.int64)))
