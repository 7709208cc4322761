"""ember.linalg's inv_ex, cholesky_ex, solve_ex (results with an int32 info, no raise unless
check_errors) and its array functions cross, diagonal, vander, tensorinv, tensorsolve,
householder_product (ember.orgqr), with vecdot, multi_dot and matrix_power for negative n,
against torch.linalg: values in float32 / float64 / complex64 / complex128, gradients against
torch and ember.gradcheck in float64 and complex128, and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.linalg as LA
from tests.linalg.linalg_ex_reference import (
    DTYPES,
    WIDE,
    against_torch,
    gradcheck,
    make,
    randn,
    same_error,
)

ids = lambda d: np.dtype(d).name  # noqa: E731


def _well_conditioned(*shape, dtype, seed=0):
    return make(randn(*shape, seed=seed), dtype, seed) + 3 * np.eye(shape[-1], dtype=dtype)


def _hpd(*shape, dtype, seed=0):
    a = make(randn(*shape, seed=seed), dtype, seed)
    return a @ np.swapaxes(a, -1, -2).conj() + shape[-1] * np.eye(shape[-1], dtype=dtype)


def _herm(t):  # finite differences and torch's symmetric gradient: Hermitian directions only
    return (t + t.mH) * 0.5


SINGULAR = np.stack([2 * np.eye(2), np.array([[1.0, 2.0], [2.0, 4.0]])])
INDEFINITE = np.stack([np.eye(2), np.array([[1.0, 2.0], [2.0, 1.0]])])


# ------------------------------------------------------------ inv_ex, cholesky_ex, solve_ex
@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
@pytest.mark.parametrize("batch", [(), (2, 3)], ids=str)
def test_inv_ex_matches_torch(torch, dtype, batch):
    a = _well_conditioned(*batch, 3, 3, dtype=dtype, seed=1)
    inv, info = against_torch(torch, lambda m, t: tuple(m.inv_ex(t)), [a])
    assert info.dtype == np.int32 and info.shape == batch and not np.any(info.numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_ex_matches_torch(torch, dtype, upper):
    a = _hpd(2, 3, 3, dtype=dtype, seed=2)
    f = lambda m, t: tuple(m.cholesky_ex(_herm(t), upper=upper))  # noqa: E731
    _, info = against_torch(torch, f, [a])
    assert info.dtype == np.int32 and info.shape == (2,)


@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
@pytest.mark.parametrize("rhs", ["matrix", "vector", "right", "broadcast"])
def test_solve_ex_matches_torch(torch, dtype, rhs):
    a = _well_conditioned(2, 3, 3, dtype=dtype, seed=3)
    shape = {"matrix": (2, 3, 2), "vector": (2, 3), "right": (2, 4, 3), "broadcast": (3, 2)}[rhs]
    b = make(randn(*shape, seed=4), dtype, seed=4)
    left = rhs != "right"
    x, info = against_torch(torch, lambda m, t, u: tuple(m.solve_ex(t, u, left=left)), [a, b])
    assert info.dtype == np.int32 and info.shape == (2,)


@pytest.mark.parametrize("dtype", WIDE, ids=ids)
def test_ex_gradcheck(dtype):
    a = _well_conditioned(2, 3, 3, dtype=dtype, seed=5)
    b = make(randn(2, 3, 2, seed=6), dtype, seed=6)
    gradcheck(lambda t: LA.inv_ex(t).inverse, [a])
    gradcheck(lambda t, u: LA.solve_ex(t, u).result, [a, b])
    gradcheck(lambda t: LA.cholesky_ex(_herm(t)).L, [_hpd(2, 3, 3, dtype=dtype, seed=7)])


def test_ex_report_failures_in_info_without_raising(torch):
    t_inv = torch.linalg.inv_ex(torch.tensor(SINGULAR))
    inv, info = LA.inv_ex(ember.tensor(SINGULAR, requires_grad=True))
    np.testing.assert_array_equal(info.numpy(), t_inv.info.numpy())  # [0, 2]
    np.testing.assert_allclose(inv.detach().numpy()[0], t_inv.inverse.numpy()[0], rtol=1e-12)
    assert not np.isfinite(inv.detach().numpy()[1]).any()  # undefined there (torch: ±inf)
    inv[0].sum().backward()  # the good matrix of the batch keeps its gradient
    t_chol = torch.linalg.cholesky_ex(torch.tensor(INDEFINITE))
    L, info = LA.cholesky_ex(ember.tensor(INDEFINITE))  # noqa: N806
    np.testing.assert_array_equal(info.numpy(), t_chol.info.numpy())  # [0, 2]
    np.testing.assert_allclose(L.numpy()[0], np.eye(2))
    b = np.ones((2, 2, 1))
    t_solve = torch.linalg.solve_ex(torch.tensor(SINGULAR), torch.tensor(b))
    x, info = LA.solve_ex(ember.tensor(SINGULAR), ember.tensor(b))
    np.testing.assert_array_equal(info.numpy(), t_solve.info.numpy())
    np.testing.assert_allclose(x.numpy()[0], t_solve.result.numpy()[0], rtol=1e-12)
    # a leading minor of order 1 that fails: info 1, as LAPACK's potrf
    _, info = LA.cholesky_ex(ember.tensor(np.diag([-1.0, 2.0, 3.0])))
    assert int(info.numpy()) == int(
        torch.linalg.cholesky_ex(torch.diag(torch.tensor([-1.0, 2, 3]))).info
    )


def test_ex_check_errors_raise_as_torch(torch):
    same_error(
        torch,
        lambda m, t: m.inv_ex(t, check_errors=True),
        [SINGULAR],
        r"\(Batch element 1\): The diagonal element 2 is zero",
    )
    same_error(
        torch,
        lambda m, t: m.cholesky_ex(t, check_errors=True),
        [INDEFINITE],
        r"\(Batch element 1\).*leading minor of order 2 is not positive-definite",
    )
    same_error(
        torch,
        lambda m, t, u: m.solve_ex(t, u, check_errors=True),
        [SINGULAR, np.ones((2, 2, 1))],
        r"\(Batch element 1\): The solver failed because the input matrix is singular",
    )
    same_error(
        torch, lambda m, t: m.inv_ex(t, check_errors=True), [SINGULAR[1]], "^linalg.inv_ex: The"
    )
    same_error(torch, lambda m, t: m.inv_ex(t), [randn(2, 3)], "square matrices.*2 by 3")
    same_error(torch, lambda m, t: m.cholesky_ex(t), [randn(2, 3)], "square matrices.*2 by 3")
    same_error(torch, lambda m, t, u: m.solve_ex(t, u), [randn(3, 3), randn(2, 2)], "AX = B")


# ------------------------------------------------------------ cross, diagonal, vander
@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
def test_cross_matches_torch(torch, dtype):
    a, b = make(randn(1, 3, seed=8), dtype, 8), make(randn(4, 3, seed=9), dtype, 9)
    against_torch(torch, lambda m, x, y: m.cross(x, y), [a, b])  # broadcasting
    c, d = make(randn(3, 5, seed=10), dtype, 10), make(randn(3, 5, seed=11), dtype, 11)
    against_torch(torch, lambda m, x, y: m.cross(x, y, dim=0), [c, d])
    if dtype in WIDE:
        gradcheck(lambda x, y: LA.cross(x, y), [a, b])


def test_cross_errors_match_torch(torch):
    same_error(torch, lambda m, x, y: m.cross(x, y), [randn(2, 3), randn(4, 1, 3)], "number of")
    same_error(torch, lambda m, x, y: m.cross(x, y), [randn(2, 4), randn(2, 4)], "length 3")
    same_error(torch, lambda m, x, y: m.cross(x, y, dim=2), [randn(3, 4), randn(3, 4)], "range")
    same_error(torch, lambda m, x, y: m.cross(x, y), [randn(3), randn(3).astype(np.float32)])


@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
@pytest.mark.parametrize("args", [{}, {"offset": 1}, {"offset": -2}, {"dim1": 0, "dim2": 2}])
def test_diagonal_matches_torch(torch, dtype, args):
    a = make(randn(3, 4, 5, seed=12), dtype)
    against_torch(torch, lambda m, t: m.diagonal(t, **args), [a])
    if dtype in WIDE:
        gradcheck(lambda t: LA.diagonal(t, **args), [a])


@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
@pytest.mark.parametrize("N", [None, 2, 5])
def test_vander_matches_torch(torch, dtype, N):  # noqa: N803
    x = make(randn(2, 3, seed=13), dtype)
    x[0, 1] = 0  # the gradient at 0 stays exact
    against_torch(torch, lambda m, t: m.vander(t, N=N), [x])
    if dtype in WIDE:
        gradcheck(lambda t: LA.vander(t, N=N), [x])


def test_vander_of_integers_and_errors(torch):
    v = LA.vander(ember.tensor(np.arange(3)))
    vt = torch.linalg.vander(torch.arange(3))
    assert v.dtype == np.int64 and str(vt.dtype) == "torch.int64"
    np.testing.assert_array_equal(v.numpy(), vt.numpy())
    same_error(torch, lambda m, t: m.vander(t, N=1), [randn(3)], "N must be greater than 1")
    same_error(torch, lambda m, t: m.vander(t), [np.array(2.0)], "N must be greater than 1")


# ------------------------------------------------------------ tensorinv, tensorsolve
@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
def test_tensorinv_and_tensorsolve_match_torch(torch, dtype):
    a = make(randn(4, 6, 8, 3, seed=14), dtype, 14)
    x = against_torch(torch, lambda m, t: m.tensorinv(t, ind=2), [a])[0]
    assert x.shape == (8, 3, 4, 6)
    against_torch(torch, lambda m, t: m.tensorinv(t, ind=1), [make(randn(6, 2, 3, seed=15), dtype)])
    a = make(randn(2, 3, 6, seed=16), dtype, 16) + np.eye(6, dtype=dtype).reshape(2, 3, 6)
    b = make(randn(2, 3, seed=17), dtype, 17)
    against_torch(torch, lambda m, t, u: m.tensorsolve(t, u), [a, b])
    a2 = make(randn(6, 2, 3, seed=18), dtype, 18)
    against_torch(torch, lambda m, t, u: m.tensorsolve(t, u, dims=(0,)), [a2, b])
    if dtype in WIDE:
        gradcheck(lambda t: LA.tensorinv(t, ind=1), [make(randn(6, 2, 3, seed=15), dtype)])
        gradcheck(lambda t, u: LA.tensorsolve(t, u, dims=0), [a2, b])


def test_tensorinv_and_tensorsolve_errors_match_torch(torch):
    msg = r"prod\(self.shape\[ind:\]\) == prod\(self.shape\[:ind\]\), but got 192 != 4"
    same_error(torch, lambda m, t: m.tensorinv(t, ind=1), [randn(4, 6, 8, 4)], msg)
    same_error(torch, lambda m, t: m.tensorinv(t, ind=0), [randn(4, 4)], "strictly positive")
    same_error(torch, lambda m, t: m.tensorinv(t, ind=2.0), [randn(4, 4)], "must be int")
    same_error(torch, lambda m, t, u: m.tensorsolve(t, u), [randn(2, 3, 5), randn(2, 3)], "5 != 6")


# ------------------------------------------------------------ householder_product
@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
@pytest.mark.parametrize("shape", [((5, 3), (2,)), ((4, 4), (4,)), ((2, 4, 3), (2, 3))], ids=str)
def test_householder_product_matches_torch(torch, dtype, shape):
    a = make(randn(*shape[0], seed=19), dtype, 19)
    tau = make(randn(*shape[1], seed=20), dtype, 20)
    (q,) = against_torch(torch, lambda m, t, u: m.householder_product(t, u), [a, tau])
    if dtype in WIDE:
        gradcheck(lambda t, u: LA.householder_product(t, u), [a, tau])


def test_householder_product_of_geqrf_is_q_and_orgqr_alias(torch):
    a = randn(5, 3, seed=21)
    qa, tau = torch.geqrf(torch.tensor(a))
    q = ember.orgqr(ember.tensor(qa.numpy()), ember.tensor(tau.numpy()))
    np.testing.assert_allclose(q.numpy(), torch.linalg.qr(torch.tensor(a)).Q.numpy(), atol=1e-12)


def test_householder_product_errors_match_torch(torch):
    f = lambda m, t, u: m.householder_product(t, u)  # noqa: E731
    same_error(torch, f, [randn(4, 3), randn(4)], "greater than or equal to tau")
    same_error(torch, f, [randn(3, 4), randn(2)], r"input.shape\[-2\] must be greater")
    same_error(torch, f, [randn(4, 3), randn(2).astype(np.float32)], "tau dtype Float")
    same_error(torch, f, [randn(2, 4, 3), randn(3, 2)], "batch dimensions of tau")
    same_error(torch, f, [randn(4), randn(2)], "at least 2 dimensions")
    same_error(torch, f, [randn(4, 3), randn(2, 1)], "one dimension less")
    same_error(torch, f, [np.ones((4, 3), np.int64), np.ones(2, np.int64)], "orgqr_cpu")


# ------------------------------------------------------------ vecdot, multi_dot, matrix_power
@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
def test_vecdot_multi_dot_and_negative_matrix_power_match_torch(torch, dtype):
    x, y = make(randn(2, 1, 4, seed=22), dtype, 22), make(randn(3, 4, seed=23), dtype, 23)
    against_torch(torch, lambda m, u, v: m.vecdot(u, v), [x, y])
    mats = [
        make(randn(*s, seed=24 + k), dtype, 24 + k)
        for k, s in enumerate([(4,), (4, 2), (2, 5), (5,)])
    ]
    against_torch(torch, lambda m, *ts: m.multi_dot(ts), mats)
    a = _well_conditioned(2, 3, 3, dtype=dtype, seed=30)
    for n in (-1, -2, -3):
        against_torch(torch, lambda m, t, n=n: m.matrix_power(t, n), [a])


def test_result_field_names_are_torchs(torch):
    a = randn(3, 3, seed=31) + 3 * np.eye(3)
    e, t = ember.tensor(a), torch.tensor(a)
    pairs = [
        (LA.eig(e), torch.linalg.eig(t)),
        (LA.lu_factor(e), torch.linalg.lu_factor(t)),
        (LA.lu_factor_ex(e), torch.linalg.lu_factor_ex(t)),
        (LA.lu(e), torch.linalg.lu(t)),
        (LA.inv_ex(e), torch.linalg.inv_ex(t)),
        (LA.cholesky_ex(e @ e.mT), torch.linalg.cholesky_ex(t @ t.mT)),
        (LA.solve_ex(e, e), torch.linalg.solve_ex(t, t)),
    ]
    for ours, theirs in pairs:
        assert len(ours) == len(theirs)
        for i, f in enumerate(ours._fields):  # the same name at the same position
            assert getattr(theirs, f) is theirs[i], f
            assert tuple(ours[i].shape) == tuple(theirs[i].shape), f
