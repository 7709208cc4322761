"""ember.linalg.lu_factor, lu_factor_ex, lu (A = P·L·U) and lu_solve against torch.linalg:
values (packed LU, LAPACK's int32 pivots, info, P / L / U) in float32 / float64 / complex64 /
complex128, square, tall, wide and batched; gradients against torch and ember.gradcheck in
float64 and complex128; singular matrices and torch's errors."""

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

SHAPES = [(4, 4), (5, 3), (3, 5), (2, 3, 4, 4), (2, 4, 2)]
ids = lambda d: np.dtype(d).name  # noqa: E731


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
def test_lu_factor_and_lu_match_torch(torch, shape, dtype):
    a = make(randn(*shape, seed=1), dtype)
    lu, piv = against_torch(torch, lambda m, t: tuple(m.lu_factor(t)), [a])
    assert piv.dtype == np.int32 and not piv.requires_grad
    out = against_torch(torch, lambda m, t: tuple(m.lu_factor_ex(t)), [a])
    assert out[2].dtype == np.int32 and out[2].shape == shape[:-2]
    assert not np.any(out[2].numpy())
    P, L, U = against_torch(torch, lambda m, t: tuple(m.lu(t)), [a])  # noqa: N806
    assert P.dtype == a.dtype and not P.requires_grad
    tol = 1e-4 if a.dtype in (np.float32, np.complex64) else 1e-12
    np.testing.assert_allclose((P @ L @ U).detach().numpy(), a, atol=tol)
    k = min(shape[-2:])
    np.testing.assert_array_equal(np.triu(L.detach().numpy()[..., :k, :], 1), 0)
    np.testing.assert_array_equal(np.diagonal(L.detach().numpy()[..., :k, :], 0, -2, -1), 1)
    np.testing.assert_array_equal(np.tril(U.detach().numpy(), -1), 0)


def test_lu_pivots_on_the_largest_re_plus_im_as_lapack(torch):
    a = randn(3, 3, seed=2) + 1j * randn(3, 3, seed=3)
    a[:, 0] = [3.0, 2.0 + 2.0j, 0.5]  # |2 + 2i| < 3 < |2| + |2|: LAPACK's izamax picks row 1
    against_torch(torch, lambda m, t: tuple(m.lu_factor(t)), [a])
    assert LA.lu_factor(ember.tensor(a)).pivots.numpy()[0] == 2


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)], ids=str)
@pytest.mark.parametrize("dtype", WIDE, ids=ids)
def test_lu_gradcheck(shape, dtype):
    a = make(randn(*shape, seed=4), dtype)
    gradcheck(lambda t: LA.lu_factor(t).LU, [a])
    gradcheck(lambda t: tuple(LA.lu(t))[1:], [a])
    gradcheck(lambda t: LA.lu_factor_ex(t).LU, [a])


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
def test_lu_solve_matches_torch(torch, left, adjoint, dtype):
    a = make(randn(2, 3, 3, seed=5), dtype) + 3 * np.eye(3, dtype=dtype)
    b = make(randn(3, 2, seed=6) if left else randn(2, 3, seed=6), dtype, seed=6)

    def f(m, t, rhs):
        lu, piv = m.lu_factor(t)
        return m.lu_solve(lu, piv, rhs, left=left, adjoint=adjoint)

    (x,) = against_torch(torch, f, [a, b])
    assert x.shape == ((2, 3, 2) if left else (2, 2, 3))
    # the equation itself
    ah = np.swapaxes(a, -1, -2).conj() if adjoint else a
    res = ah @ x.detach().numpy() if left else x.detach().numpy() @ ah
    tol = 1e-4 if a.dtype in (np.float32, np.complex64) else 1e-12
    np.testing.assert_allclose(res, np.broadcast_to(b, res.shape), atol=tol)


@pytest.mark.parametrize("dtype", WIDE, ids=ids)
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_gradcheck(dtype, adjoint):
    a = make(randn(3, 3, seed=7), dtype) + 3 * np.eye(3, dtype=dtype)
    b = make(randn(2, 3, 2, seed=8), dtype, seed=8)
    lu, piv = LA.lu_factor(ember.tensor(a))
    for left in (True, False):
        rhs = b if left else np.swapaxes(b, -1, -2).copy()
        gradcheck(
            lambda t, r, left=left: LA.lu_solve(t, piv, r, left=left, adjoint=adjoint),
            [lu.detach().numpy(), rhs],
        )
        gradcheck(
            lambda t, r, left=left: LA.lu_solve(*LA.lu_factor(t), r, left=left, adjoint=adjoint),
            [a, rhs],
        )


def test_singular_lu_factor_raises_and_the_ex_and_lu_forms_do_not(torch):
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    batch = np.stack([np.eye(2), s])
    same_error(torch, lambda m, t: m.lu_factor(t), [s], r"U\[2,2\] is zero")
    same_error(torch, lambda m, t: m.lu_factor(t), [batch], r"\(Batch element 1\): U\[2,2\]")
    same_error(torch, lambda m, t: m.lu_factor_ex(t, check_errors=True), [s], r"U\[2,2\]")
    # values only: U is singular, so its gradient has no value (torch's is inf / nan)
    lu, piv, info = against_torch(torch, lambda m, t: tuple(m.lu_factor_ex(t)), [batch], grad=False)
    np.testing.assert_array_equal(info.numpy(), [0, 2])
    against_torch(torch, lambda m, t: tuple(m.lu(t)), [s], grad=False)
    _, _, info = LA.lu_factor_ex(ember.tensor(np.zeros((2, 2))))
    assert int(info.numpy()) == int(torch.linalg.lu_factor_ex(torch.zeros(2, 2)).info) == 1


def test_lu_errors_match_torch(torch):
    same_error(torch, lambda m, t: m.lu_factor(t), [randn(3)], "2 or more dimensions")
    same_error(torch, lambda m, t: m.lu(t), [randn(3)], "2 or more dimensions")
    same_error(torch, lambda m, t: m.lu_factor(t), [np.ones((3, 3), np.int64)], "lu_cpu.*Long")
    same_error(torch, lambda m, t: m.lu_factor(t, pivot=False), [np.eye(2)], "without pivoting")
    same_error(torch, lambda m, t: m.lu(t, pivot=False), [np.eye(2)], "without pivoting")
    a = randn(3, 3, seed=9) + 3 * np.eye(3)
    lu_e, piv_e = LA.lu_factor(ember.tensor(a))
    lu_t, piv_t = torch.linalg.lu_factor(torch.tensor(a))
    b = randn(3, 2, seed=10)

    def both(f, match):
        with pytest.raises(RuntimeError):
            f(torch, lu_t, piv_t)
        with pytest.raises(RuntimeError, match=match):
            f(ember, lu_e, piv_e)

    both(
        lambda m, lu, p: m.linalg.lu_solve(lu, p, m.tensor(randn(4, 2))), r"AX = B \(3x3 and 4x2\)"
    )
    both(lambda m, lu, p: m.linalg.lu_solve(lu, p, m.tensor(b[:, 0])), "B must have at least 2")
    both(lambda m, lu, p: m.linalg.lu_solve(lu, p.long(), m.tensor(b)), "pivots should be.*int32")
    both(
        lambda m, lu, p: m.linalg.lu_solve(lu.float(), p, m.tensor(b)), "same dtype.*Float.*Double"
    )
    both(lambda m, lu, p: m.linalg.lu_solve(lu[:, :2], p, m.tensor(b)), "square matrices")
    both(lambda m, lu, p: m.linalg.lu_solve(lu, p[:2], m.tensor(b)), "pivots")
