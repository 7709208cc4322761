"""ember.linalg's determinants, inverses, solvers and products against torch.linalg: values and
gradients in float64 (single matrices and two batch dims, broadcasting), gradcheck, and the
errors (singular matrices, shapes, dtypes) with torch's exception types."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.linalg as LA
from tests.core_reference import check_gradients
from tests.linalg.linalg_reference import (
    compare,
    randn,
    symmetric,
    well_conditioned,
    with_singular_values,
)

A = well_conditioned(2, 3, 4, 4, seed=1)  # batch dims (2, 3) of 4 × 4
A1 = well_conditioned(4, 4, seed=2)

CASES = [
    ("det", lambda m, a: m.det(a), [A]),
    ("det_single", lambda m, a: m.det(a), [A1]),
    ("det_negative", lambda m, a: m.det(a), [-A1[:3, :3]]),
    ("slogdet", lambda m, a: m.slogdet(a), [A]),
    ("slogdet_negative", lambda m, a: m.slogdet(a), [-A1[:3, :3]]),
    ("inv", lambda m, a: m.inv(a), [A]),
    ("solve", lambda m, a, b: m.solve(a, b), [A, randn(2, 3, 4, 2, seed=3)]),
    ("solve_vector", lambda m, a, b: m.solve(a, b), [A1, randn(4, seed=3)]),
    ("solve_vector_batch", lambda m, a, b: m.solve(a, b), [A, randn(2, 3, 4, seed=3)]),
    ("solve_broadcast", lambda m, a, b: m.solve(a, b), [A1, randn(2, 3, 4, 5, seed=3)]),
    ("solve_broadcast_a", lambda m, a, b: m.solve(a, b), [A[:, :1], randn(3, 4, 2, seed=3)]),
    ("solve_right", lambda m, a, b: m.solve(a, b, left=False), [A, randn(2, 3, 5, 4, seed=3)]),
    ("pinv_tall", lambda m, a: m.pinv(a), [with_singular_values(2, 3, m=5, n=3)]),
    ("pinv_wide", lambda m, a: m.pinv(a), [with_singular_values(2, 3, m=3, n=5)]),
    ("pinv_square", lambda m, a: m.pinv(a), [A]),
    ("pinv_hermitian", lambda m, a: m.pinv(a, hermitian=True), [symmetric(2, 3)]),
    # σ below the tolerance dropped: torch's gradient (pinv_backward) assumes the rank does not
    # drop, so these are compared with torch but not gradchecked
    ("pinv_rtol", lambda m, a: m.pinv(a, rtol=0.5), [with_singular_values(2, m=5, n=3)]),
    ("pinv_atol", lambda m, a: m.pinv(a, atol=1.0), [with_singular_values(2, m=3, n=4)]),
    ("matrix_exp", lambda m, a: m.matrix_exp(a), [randn(2, 3, 4, 4, seed=4)]),
    ("matrix_exp_large", lambda m, a: m.matrix_exp(a), [randn(3, 3, seed=4, scale=4.0)]),
    ("matrix_exp_zero", lambda m, a: m.matrix_exp(a), [np.zeros((2, 3, 3))]),
    # a batch whose matrices need different numbers of squarings
    ("matrix_exp_mixed", lambda m, a: m.matrix_exp(a), [randn(3, 3, 3) * [[[0.1]], [[2]], [[6]]]]),
    ("vecdot", lambda m, x, y: m.vecdot(x, y), [randn(2, 3, 4, seed=5), randn(3, 4, seed=6)]),
    ("vecdot_dim", lambda m, x, y: m.vecdot(x, y, dim=0), [randn(4, 3), randn(4, 1, seed=6)]),
    ("matmul", lambda m, x, y: m.matmul(x, y), [randn(2, 3, 4), randn(4, 5, seed=6)]),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_matches_torch(torch, case):
    _, f, arrays = case
    compare(torch, f, arrays)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c[0] not in ("pinv_rtol", "pinv_atol")], ids=lambda c: c[0]
)
def test_gradcheck(case):
    _, f, arrays = case
    if case[0] == "pinv_hermitian":  # only one triangle is read: check along symmetric moves
        check_gradients(lambda a: LA.pinv((a + a.mT) / 2, hermitian=True), arrays)
        return
    check_gradients(lambda *t: f(LA, *t), arrays)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [False, True])
def test_solve_triangular_matches_torch_and_gradcheck(torch, upper, left, unitriangular):
    b = randn(2, 3, 4, 2, seed=7) if left else randn(2, 3, 2, 4, seed=7)
    kw = dict(upper=upper, left=left, unitriangular=unitriangular)
    compare(torch, lambda m, a, x: m.solve_triangular(a, x, **kw), [A, b])
    compare(torch, lambda m, a, x: m.solve_triangular(a, x, **kw), [A1, b[0]])  # broadcast A
    check_gradients(lambda a, x: LA.solve_triangular(a, x, **kw), [A1, b[0, 0]])


def test_solve_triangular_reads_one_triangle_only():
    noise = np.triu(randn(4, 4, seed=8), 1)
    b = ember.tensor(randn(4, 2, seed=9))
    x1 = LA.solve_triangular(ember.tensor(A1), b, upper=False)
    x2 = LA.solve_triangular(ember.tensor(A1 + 1e3 * noise), b, upper=False)
    np.testing.assert_array_equal(x1.array, x2.array)
    np.testing.assert_allclose(np.tril(A1) @ x1.array, b.array, rtol=1e-12)


@pytest.mark.parametrize(
    "shapes",
    [
        ((5, 3), (5, 2)),
        ((2, 3, 6, 4), (2, 3, 6, 2)),
        ((2, 1, 6, 4), (2, 3, 6, 1)),  # batch dims broadcast
        ((2, 3, 6, 4), (2, 3, 6)),  # a batch of vectors
        ((5, 3), (5,)),
    ],
    ids=str,
)
def test_lstsq_matches_torch_and_gradcheck(torch, shapes):
    a = with_singular_values(*shapes[0][:-2], m=shapes[0][-2], n=shapes[0][-1], seed=10)
    b = randn(*shapes[1], seed=11)
    compare(torch, lambda m, x, y: m.lstsq(x, y).solution, [a, b])
    for driver in ("gelsd", "gels"):  # the driver decides which other fields torch fills
        e = LA.lstsq(ember.tensor(a), ember.tensor(b), driver=driver)
        t = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        for k in range(1, 4):
            assert tuple(e[k].shape) == tuple(t[k].shape), (driver, k, e[k].shape, t[k].shape)
            np.testing.assert_allclose(e[k].array, t[k].numpy(), rtol=1e-10, atol=1e-12)
    a1 = a.reshape(-1, *a.shape[-2:])[0]
    b1 = b.reshape(-1, *b.shape[-2:])[0] if b.ndim == a.ndim else b.reshape(-1, b.shape[-1])[0]
    check_gradients(lambda x, y: LA.lstsq(x, y).solution, [a1, b1])


def test_lstsq_wide_is_the_minimum_norm_solution(torch):
    a, b = with_singular_values(m=3, n=5, seed=12), randn(3, 2, seed=13)
    x = LA.lstsq(ember.tensor(a), ember.tensor(b), driver="gelsd").solution
    np.testing.assert_allclose(x.array, np.linalg.pinv(a) @ b, rtol=1e-10)
    t = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver="gelsd").solution
    np.testing.assert_allclose(x.array, t.numpy(), rtol=1e-10)


def _nearly_rank_deficient(seed):
    """Two 5 × 3 matrices, singular values (3, 1, 1e-3) and (3, 1, 0.5): rcond = 1e-2 cuts
    the first one's rank to 2 and leaves the second's."""
    rng = np.random.default_rng(seed)
    out = []
    for smallest in (1e-3, 0.5):
        u, _ = np.linalg.qr(rng.standard_normal((5, 5)))
        v, _ = np.linalg.qr(rng.standard_normal((3, 3)))
        out.append(u[:, :3] @ np.diag([3.0, 1.0, smallest]) @ v.T)
    return np.stack(out)


@pytest.mark.parametrize("driver", ["gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lstsq_with_a_rank_cut_matches_torch(torch, driver, dtype):
    """An explicit rcond that cuts the rank: gelsy's solution is LAPACK gelsy's (its pivoted QR
    cuts A otherwise than the SVD), and the gradients are torch's, which go through A⁺ at
    pinv's default tolerance whatever rcond the solution used (so they grow as 1/σ² of the
    dropped σ = 1e-3: 1e6 here). torch's own gelsy solution is not compared: torch 2.13 hands
    LAPACK a pivot array it never zeroes (pytorch/pytorch#187411), so where the rank is cut
    its solution changes from call to call (spread 0.02 here); LAPACK's gelsy with every
    column free, as SciPy calls it, is the reference."""
    a = _nearly_rank_deficient(20).astype(dtype)
    b = np.random.default_rng(21).standard_normal((2, 5, 2)).astype(dtype)
    g = np.random.default_rng(22).standard_normal((2, 3, 2)).astype(dtype)
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ex = LA.lstsq(ea, eb, rcond=1e-2, driver=driver)
    tx = torch.linalg.lstsq(ta, tb, rcond=1e-2, driver=driver)
    ex.solution.backward(ember.tensor(g))
    tx.solution.backward(torch.tensor(g))
    # float32: the 1/σ² of the uncut A⁺ (cond 3000) amplifies rounding to ~1e-4 of the largest
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == "float64" else dict(rtol=1e-5, atol=2e-4)
    if driver == "gelsy":
        import scipy.linalg

        want = [scipy.linalg.lstsq(a[i], b[i], cond=1e-2, lapack_driver="gelsy")[0] for i in (0, 1)]
        np.testing.assert_allclose(ex.solution.array, np.stack(want), **tol)
        svd_cut = LA.lstsq(ember.tensor(a), ember.tensor(b), rcond=1e-2, driver="gelsd")
        # the two cuts differ (by 1e-4 here): the solution did come from gelsy
        assert np.abs(ex.solution.array[0] - svd_cut.solution.array[0]).max() > 2e-5
    else:
        np.testing.assert_allclose(ex.solution.array, tx.solution.detach().numpy(), **tol)
        np.testing.assert_array_equal(ex.rank.array, tx.rank.numpy())
    assert np.abs(ta.grad.numpy()).max() > 1e5  # the uncut 1/σ² is in torch's gradient
    scale = np.abs(ta.grad.numpy()).max()
    np.testing.assert_allclose(ea.grad.array / scale, ta.grad.numpy() / scale, **tol)
    np.testing.assert_allclose(eb.grad.array, tb.grad.numpy(), **tol)


def test_lstsq_with_a_rank_cut_has_torch_second_derivative(torch):
    a, b = _nearly_rank_deficient(20), np.random.default_rng(21).standard_normal((2, 5, 2))

    def run(lib, solve):
        A, B = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        x = solve(A, B, rcond=1e-2, driver="gelsd").solution  # (torch's gelsy: see above)
        (ga,) = lib.autograd.grad((x**3).sum(), [A], create_graph=True)
        (hb,) = lib.autograd.grad((ga * ga).sum() * 1e-12, [B])
        return [np.asarray(v.detach().numpy()) for v in (ga, hb)]

    for e, t in zip(run(ember, LA.lstsq), run(torch, torch.linalg.lstsq)):
        np.testing.assert_allclose(e / np.abs(t).max(), t / np.abs(t).max(), atol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 10, -1, -2, -5])
def test_matrix_power_matches_torch(torch, n):
    a = A / 4.0  # entries ~1: A^10 stays representable
    compare(torch, lambda m, x: m.matrix_power(x, n), [a], grad=n != 0)
    out = LA.matrix_power(ember.tensor(a), n)
    np.testing.assert_allclose(out.array, torch.linalg.matrix_power(torch.tensor(a), n).numpy())
    if n != 0:
        check_gradients(lambda x: LA.matrix_power(x, n), [a[0, 0]])


@pytest.mark.parametrize(
    "shapes",
    [[(4,), (4, 6), (6, 2)], [(3, 4), (4,)], [(5, 2), (2, 7), (7, 3), (3,)], [(3,), (3,)]],
    ids=str,
)
def test_multi_dot_matches_torch_and_gradcheck(torch, shapes):
    arrays = [randn(*s, seed=k) for k, s in enumerate(shapes)]
    compare(torch, lambda m, *ts: m.multi_dot(list(ts)), arrays)
    check_gradients(lambda *ts: LA.multi_dot(ts), arrays)


def test_float32_keeps_its_dtype(torch):
    a32 = A.astype(np.float32)
    for f in (LA.det, LA.inv, LA.matrix_exp, LA.pinv, lambda x: LA.solve(x, x[..., 0])):
        out = f(ember.tensor(a32))
        assert out.dtype == np.float32
    e = LA.inv(ember.tensor(a32, requires_grad=True))
    e.sum().backward()
    t = torch.tensor(a32, requires_grad=True)
    torch.linalg.inv(t).sum().backward()
    np.testing.assert_allclose(e.array, torch.linalg.inv(torch.tensor(a32)).numpy(), rtol=1e-4)


def test_det_gradient_of_a_singular_matrix_is_the_cofactor_matrix():
    # rank n−1: det = 0 but ∂det/∂A = cof(A) ≠ 0 (det(A)·A⁻ᵀ would be 0·∞)
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    t = ember.tensor(a, requires_grad=True)
    d = LA.det(t)
    d.backward()
    cof = np.array([[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]])  # (−1)^{i+j} M_ij
    assert abs(float(d.array)) < 1e-12
    np.testing.assert_allclose(t.grad.array, cof, atol=1e-12)
    check_gradients(LA.det, [a])


@pytest.mark.parametrize(
    "name, call",
    [
        ("inv", lambda m, a, b: m.inv(a)),
        ("solve", lambda m, a, b: m.solve(a, b)),
        ("cholesky", lambda m, a, b: m.cholesky(a)),
    ],
)
def test_singular_matrices_raise_linalg_error_like_torch(torch, name, call):
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(torch.linalg.LinAlgError):
        call(torch.linalg, torch.tensor(a), torch.ones(2, dtype=torch.float64))
    with pytest.raises(LA.LinAlgError, match=name) as info:
        call(LA, ember.tensor(a), ember.tensor(np.ones(2)))
    assert isinstance(info.value, RuntimeError)  # as torch's LinAlgError is


BAD = np.ones((2, 3, 4))
SHAPE_ERRORS = [
    ("det_not_square", lambda m, t: m.det(t), r"square matrices, but they are 3 by 4.*\(2, 3, 4\)"),
    ("det_1d", lambda m, t: m.det(t[0, 0]), r"at least 2 dimensions, got shape \(4,\)"),
    ("inv_not_square", lambda m, t: m.inv(t), r"3 by 4"),
    ("slogdet_not_square", lambda m, t: m.slogdet(t), r"3 by 4"),
    ("matrix_exp_not_square", lambda m, t: m.matrix_exp(t), r"3 by 4"),
    ("matrix_power_not_square", lambda m, t: m.matrix_power(t, 2), r"3 by 4"),
    ("solve_rows", lambda m, t: m.solve(t[0, :, :3], t[0].mT), r"\(3, 3\) and \(4, 3\)"),
    ("solve_right_vector", lambda m, t: m.solve(t[0, :, :3], t[0, 0, :3], left=False), "Vector"),
    ("solve_mismatch", lambda m, t: m.solve(t[:, :3, :3], t[0, :2]), r"Incompatible shapes"),
    (
        "solve_triangular_vector",
        lambda m, t: m.solve_triangular(t[0, :, :3], t[0, 0, :3], upper=True),
        r"B must have at least 2 dimensions",
    ),
    ("multi_dot_one", lambda m, t: m.multi_dot([t[0]]), r"at least 2 tensors"),
    ("multi_dot_3d", lambda m, t: m.multi_dot([t[0, 0], t]), r"last tensor must be 1D or 2D"),
    ("multi_dot_inner", lambda m, t: m.multi_dot([t[0], t[0], t[0]]), r"must be 2D|multiplied"),
    ("lstsq_rows", lambda m, t: m.lstsq(t[0], t[0, :2]), r"\(3, 4\).*\(2, 4\)"),
    ("lstsq_dims", lambda m, t: m.lstsq(t[0], t[None]), r"\(3, 4\).*\(1, 2, 3, 4\)"),
    ("pinv_1d", lambda m, t: m.pinv(t[0, 0]), r"at least 2 dimensions"),
]


@pytest.mark.parametrize("case", SHAPE_ERRORS, ids=lambda c: c[0])
def test_shape_errors_are_runtime_errors_naming_the_shape(torch, case):
    _, call, message = case
    with pytest.raises(RuntimeError):
        call(torch.linalg, torch.tensor(BAD))
    with pytest.raises(RuntimeError, match=message):
        call(LA, ember.tensor(BAD))


def test_dtype_errors(torch):
    a = np.eye(3)
    for m, make in ((torch.linalg, torch.tensor), (LA, ember.tensor)):
        with pytest.raises(RuntimeError, match="floating point"):
            m.inv(make(np.eye(3, dtype=np.int64)))
        with pytest.raises(RuntimeError, match="same dtype"):
            m.solve(make(a), make(np.ones((3, 1), np.float32)))
    with pytest.raises(TypeError):
        LA.matrix_power(ember.tensor(a), 1.5)
