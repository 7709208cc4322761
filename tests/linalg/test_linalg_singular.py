"""ember.linalg on singular and rank-deficient matrices against torch: values and gradients with
the same inf/NaN pattern, and the same LinAlgError (a RuntimeError) with torch's message."""

import re

import numpy as np
import pytest
import torch

import ember
from ember import linalg as LA

RANK2 = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]
SINGULAR = {
    "rank2": np.array(RANK2),
    "rank1": np.array([[1.0, 2.0], [2.0, 4.0]]),
    "zero": np.zeros((2, 2)),
    "batch": np.stack([np.eye(3), np.array(RANK2)]),
    "complex": np.array(RANK2) * (1 + 2j) + np.array([[0, 1j, 0], [0, 2j, 0], [0, 0, 0]]),
}


def _both(fn, a):
    """(torch value, torch grad), (ember value, ember grad) of fn(module, A) summed."""
    out = []
    for lib in (torch, ember):
        x = (torch.tensor(a) if lib is torch else ember.tensor(a)).requires_grad_()
        y = fn(lib, x)
        ys = y if isinstance(y, tuple) else (y,)
        total = sum(v.real.sum() if v.is_complex() else v.sum() for v in ys)
        total.backward()
        out.append(([v.detach().numpy() for v in ys], x.grad.numpy()))
    return out


def _same(p, q):
    """Equal values, NaN where torch has NaN and ±inf where torch has ±inf."""
    p, q = np.asarray(p), np.asarray(q)
    assert np.array_equal(np.isnan(p), np.isnan(q)), (p, q)
    assert np.array_equal(np.isposinf(p.real), np.isposinf(q.real)), (p, q)
    assert np.array_equal(np.isneginf(p.real), np.isneginf(q.real)), (p, q)
    np.testing.assert_allclose(q, p, rtol=1e-7, atol=1e-9)


def _check(fn, a):
    (tv, tg), (ev, eg) = _both(fn, a)
    for p, q in zip(tv, ev):
        _same(p, q)
    _same(tg, eg)


def _lu_all(lib, x):
    LU, piv, _ = lib.linalg.lu_factor_ex(x)  # noqa: N806
    return LU


def _lu_parts(lib, x):
    return tuple(lib.linalg.lu(x)[1:])


def _lu_l(lib, x):
    return lib.linalg.lu(x)[1]


def _lu_u(lib, x):
    return lib.linalg.lu(x)[2]


def _lu_solve(lib, x):
    LU, piv, _ = lib.linalg.lu_factor_ex(x)  # noqa: N806
    return lib.linalg.lu_solve(LU, piv, x[..., :1] * 0 + 1)


def _legacy_lu(lib, x):
    return lib.lu(x)[0]


@pytest.mark.parametrize("case", sorted(SINGULAR))
@pytest.mark.parametrize("fn", [_lu_all, _lu_parts, _lu_l, _lu_u, _lu_solve, _legacy_lu])
def test_lu_backward_singular_is_torchs_inf_nan(fn, case):
    """LuFactor's backward on a singular U: torch's NaN (and finite rows), not NumPy's error."""
    _check(fn, SINGULAR[case])


def test_lu_backward_singular_wide_and_tall():
    a = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0], [0.0, 0.0, 0.0, 1.0]])
    _check(_lu_all, a)
    _check(_lu_all, a.T.copy())


@pytest.mark.parametrize("case", sorted(SINGULAR))
def test_slogdet_logdet_singular_gradient(case):
    """log|det A| = −inf and torch's ∓inf / NaN / finite gradient pattern (its lu_solve)."""
    _check(lambda lib, x: lib.linalg.slogdet(x)[1], SINGULAR[case])
    if np.iscomplexobj(SINGULAR[case]):
        return
    _check(lambda lib, x: lib.logdet(x), SINGULAR[case])


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular_zero_diagonal(upper, left, unit):
    """torch returns inf/NaN for a zero on T's diagonal (no error), forward and backward."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 3))
    a[:, 1, 1] = 0
    if not unit:
        a[1, 2, 2] = 0
    b = rng.standard_normal((2, 3, 2) if left else (2, 2, 3))
    b[0, 1, 0] = 0
    (ta, tb), (ea, eb) = [
        (lib.tensor(a).requires_grad_(), lib.tensor(b).requires_grad_()) for lib in (torch, ember)
    ]
    tx = torch.linalg.solve_triangular(ta, tb, upper=upper, left=left, unitriangular=unit)
    ex = LA.solve_triangular(ea, eb, upper=upper, left=left, unitriangular=unit)
    tx.sum().backward()
    ex.sum().backward()
    _same(tx.detach().numpy(), ex.detach().numpy())
    _same(ta.grad.numpy(), ea.grad.numpy())
    _same(tb.grad.numpy(), eb.grad.numpy())


def test_qr_backward_zero_matrix_is_nan():
    _check(lambda lib, x: tuple(lib.linalg.qr(x)), np.zeros((2, 2)))


def _raises_as_torch(fn, a):
    with pytest.raises(torch.linalg.LinAlgError) as t:
        fn(torch, torch.tensor(a))
    with pytest.raises(LA.LinAlgError) as e:
        fn(ember, ember.tensor(a))
    assert isinstance(e.value, RuntimeError)  # as torch.linalg.LinAlgError is
    assert str(e.value) == str(t.value)


@pytest.mark.parametrize("case", sorted(SINGULAR))
@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: lib.linalg.inv(x),
        lambda lib, x: lib.linalg.solve(x, x[..., :1] * 0 + 1),
        lambda lib, x: lib.linalg.matrix_power(x, -2),
    ],
)
def test_inv_solve_singular_message(fn, case):
    """'linalg.inv: (Batch element i): The diagonal element j is zero, …' as torch."""
    _raises_as_torch(fn, SINGULAR[case])


def test_tensorinv_singular_message():
    _raises_as_torch(lambda lib, x: lib.linalg.tensorinv(x, ind=1), np.array(RANK2))


def test_solve_broadcast_batch_message():
    a = np.stack([np.eye(3), np.array(RANK2)])
    b = np.ones((4, 2, 3, 1))
    with pytest.raises(torch.linalg.LinAlgError) as t:
        torch.linalg.solve(torch.tensor(a), torch.tensor(b))
    with pytest.raises(LA.LinAlgError) as e:
        LA.solve(ember.tensor(a), ember.tensor(b))
    assert str(e.value) == str(t.value)


@pytest.mark.parametrize(
    "a",
    [
        np.array(RANK2),
        np.zeros((2, 2)),
        np.array([[1.0, 2.0], [2.0, 1.0]]),
        np.array([[4.0, 0, 0], [0, 1.0, 3.0], [0, 3.0, 1.0]]),
        np.stack([np.eye(3), np.eye(3), np.diag([1.0, 1.0, -1.0])]),
    ],
)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_not_positive_definite_message(a, upper):
    """'… not positive-definite (the leading minor of order k is not positive-definite).'"""
    _raises_as_torch(lambda lib, x: lib.linalg.cholesky(x, upper=upper), a)
    with pytest.raises(LA.LinAlgError, match=re.escape("leading minor of order")):
        LA.cholesky(ember.tensor(a))


@pytest.mark.parametrize("case", ["rank2", "rank1", "zero", "batch"])
@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: lib.linalg.pinv(x),
        lambda lib, x: lib.linalg.svdvals(x),
        lambda lib, x: lib.linalg.matrix_norm(x, "nuc"),
        lambda lib, x: lib.linalg.matrix_norm(x, 2),
        lambda lib, x: lib.linalg.matrix_norm(x, -2),
        lambda lib, x: lib.linalg.lstsq(x, x[..., :1] * 0 + 1).solution,
        lambda lib, x: lib.linalg.eigvalsh(x + x.mT),
    ],
)
def test_rank_deficient_values_and_gradients(fn, case):
    """Rank-deficient A (and repeated σ): the same values and gradients (finite or NaN)."""
    _check(fn, SINGULAR[case])


@pytest.mark.parametrize("a", [np.eye(2), 2 * np.eye(3), np.zeros((2, 2))])
def test_norms_at_repeated_singular_values(a):
    for ord in ("nuc", 2, -2):
        _check(lambda lib, x, o=ord: lib.linalg.matrix_norm(x, o), a)


def test_matrix_rank_rank_deficient():
    for a in SINGULAR.values():
        t = torch.linalg.matrix_rank(torch.tensor(a)).numpy()
        np.testing.assert_array_equal(LA.matrix_rank(ember.tensor(a)).numpy(), t)


def test_det_gradient_near_singular_and_cofactor_at_singular():
    """Near a singular A torch's det·A⁻ᵀ is the cofactor matrix; at a singular A ember gives
    the cofactors too (torch's create_graph=True SVD formula)."""
    near = np.array([[1.0, 2.0], [2.0, 4.0 + 1e-9]])
    _check(lambda lib, x: lib.linalg.det(x), near)
    a = np.array(RANK2)
    ta = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.linalg.det(ta), ta, create_graph=True)
    ea = ember.tensor(a, requires_grad=True)
    LA.det(ea).backward()
    np.testing.assert_allclose(ea.grad.numpy(), tg.detach().numpy(), atol=1e-12)
