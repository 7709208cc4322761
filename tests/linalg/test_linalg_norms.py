"""ember.linalg's norms (vector_norm, matrix_norm, norm, cond, matrix_rank, svdvals) against
torch.linalg: values and gradients in float64 for several ords, dims and batch shapes,
gradcheck, torch's subgradients at 0 and at ties, and the error cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.linalg as LA
from tests.core_reference import check_gradients
from tests.linalg.linalg_reference import compare, randn, with_singular_values

INF = math.inf
X = randn(2, 3, 4, seed=1)
M = randn(2, 3, 4, 5, seed=2)  # two batch dims of 4 × 5 matrices

VECTOR_ORDS = [2, 1, 3, 0.5, 1.5, -1, -2.5, INF, -INF, 0]
MATRIX_ORDS = ["fro", "nuc", 1, -1, 2, -2, INF, -INF]


@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=str)
@pytest.mark.parametrize(
    "dim, keepdim", [(None, False), (-1, False), ((0, 2), True), ((-1, -2), False)], ids=str
)
def test_vector_norm_matches_torch(torch, ord, dim, keepdim):
    compare(torch, lambda m, x: m.vector_norm(x, ord, dim=dim, keepdim=keepdim), [X])


@pytest.mark.parametrize("ord", [o for o in VECTOR_ORDS if o != 0], ids=str)
def test_vector_norm_gradcheck(ord):
    check_gradients(lambda x: LA.vector_norm(x, ord, dim=-1), [X])


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, -1, INF, -INF], ids=str)
def test_vector_norm_gradient_at_zero_is_torchs(torch, ord):
    # torch's subgradients: 0 for every ord at the zero vector, 0 at a zero entry for p < 1
    compare(torch, lambda m, x: m.vector_norm(x, ord), [np.zeros(4)])
    compare(torch, lambda m, x: m.vector_norm(x, ord, dim=-1), [[[3.0, 0.0, -1.0], [0, 0, 0]]])
    x = ember.tensor(np.zeros(4), requires_grad=True)
    LA.vector_norm(x, ord).backward()
    np.testing.assert_array_equal(x.grad.array, np.zeros(4))


@pytest.mark.parametrize("ord", [INF, -INF], ids=str)
def test_vector_norm_shares_the_gradient_among_ties(torch, ord):
    x = [3.0, -3.0, 1.0, -1.0, 3.0]
    compare(torch, lambda m, t: m.vector_norm(t, ord), [x])
    t = ember.tensor(np.array(x), requires_grad=True)
    LA.vector_norm(t, ord).backward()
    expected = [1 / 3, -1 / 3, 0, 0, 1 / 3] if ord > 0 else [0, 0, 0.5, -0.5, 0]
    np.testing.assert_allclose(t.grad.array, expected)


def test_vector_norm_dtype_and_scalars(torch):
    compare(torch, lambda m, x: m.vector_norm(x, 2, dtype=ember.float64 if m is LA else None), [X])
    x32 = ember.tensor(X.astype(np.float32))
    assert LA.vector_norm(x32).dtype == np.float32
    assert LA.vector_norm(x32, dtype=ember.float64).dtype == np.float64
    compare(torch, lambda m, x: m.vector_norm(x, 3), [-2.0])
    compare(torch, lambda m, x: m.vector_norm(x, 2, dim=0, keepdim=True), [-2.0])


def test_vector_norm_agrees_with_tensor_norm():
    x = ember.tensor(X)
    for p in (2, 1, 3, INF, -INF, 0):
        np.testing.assert_allclose(
            LA.vector_norm(x, p, dim=(1, 2)).array, x.norm(p=p, dim=(1, 2)).array, rtol=1e-14
        )


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
@pytest.mark.parametrize(
    "dim, keepdim", [((-2, -1), False), ((-1, -2), True), ((0, 2), False), ((3, 1), True)], ids=str
)
def test_matrix_norm_matches_torch(torch, ord, dim, keepdim):
    compare(torch, lambda m, a: m.matrix_norm(a, ord, dim=dim, keepdim=keepdim), [M])


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norm_gradcheck(ord):
    a = with_singular_values(2, m=4, n=3, seed=3)  # distinct σ: 'nuc' and ±2 are smooth there
    check_gradients(lambda t: LA.matrix_norm(t, ord), [a])


def test_matrix_norm_shares_the_gradient_among_tied_columns(torch):
    a = [[1.0, -2.0], [-2.0, 1.0]]  # both column sums 3, both row sums 3
    for ord in (1, -1, INF, -INF):
        compare(torch, lambda m, t, ord=ord: m.matrix_norm(t, ord), [a])


NORM_CASES = [
    ("vector_default", lambda m, a: m.norm(a), (3, 4, 5)),
    ("vector_dim", lambda m, a: m.norm(a, 3, dim=1), (3, 4, 5)),
    ("vector_1d_ord", lambda m, a: m.norm(a, -INF), (6,)),
    ("matrix_2d_ord", lambda m, a: m.norm(a, 2), (4, 5)),
    ("matrix_2d_inf", lambda m, a: m.norm(a, INF, keepdim=True), (4, 5)),
    ("matrix_dims", lambda m, a: m.norm(a, -1, dim=(2, 0)), (3, 4, 5)),
    ("fro_no_ord_dims", lambda m, a: m.norm(a, dim=(0, 1), keepdim=True), (3, 4, 5)),
    ("fro_string", lambda m, a: m.norm(a, "fro"), (4, 5)),
    ("nuc_string_dims", lambda m, a: m.norm(a, "nuc", dim=(1, 2)), (3, 4, 5)),
    ("ord_none_2d_is_fro", lambda m, a: m.norm(a, None, dim=None), (4, 5)),
]


@pytest.mark.parametrize("case", NORM_CASES, ids=lambda c: c[0])
def test_norm_dispatches_as_torch(torch, case):
    _, f, shape = case
    compare(torch, f, [randn(*shape, seed=4)])


def test_svdvals_cond_matrix_rank_match_torch(torch):
    a = with_singular_values(2, 3, m=5, n=4, seed=5)
    compare(torch, lambda m, t: m.svdvals(t), [a])
    check_gradients(LA.svdvals, [a[0, 0]])
    for p in (None, 2, -2):
        compare(torch, lambda m, t, p=p: m.cond(t, p), [a])
    sq = with_singular_values(2, m=4, n=4, seed=6)
    for p in ("fro", "nuc", 1, -INF):
        # values only: torch 2.13's cond backward for these orders fails (an in-place error)
        compare(torch, lambda m, t, p=p: m.cond(t, p), [sq], grad=False)
        check_gradients(lambda t, p=p: LA.cond(t, p), [sq[0]])
    check_gradients(lambda t: LA.cond(t), [sq])
    low = randn(2, 5, 2, seed=7) @ randn(2, 2, 4, seed=8)  # rank 2
    for kw in ({}, {"atol": 1.0}, {"rtol": 0.5}, {"hermitian": False}):
        e = LA.matrix_rank(ember.tensor(low), **kw)
        t = torch.linalg.matrix_rank(torch.tensor(low), **kw)
        assert e.dtype == np.int64
        np.testing.assert_array_equal(e.array, t.numpy())
    sym = low[..., :4, :] @ low[..., :4, :].swapaxes(-1, -2)
    np.testing.assert_array_equal(
        LA.matrix_rank(ember.tensor(sym), hermitian=True).array,
        torch.linalg.matrix_rank(torch.tensor(sym), hermitian=True).numpy(),
    )


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda m, t: m.vector_norm(t.long() if m is not LA else t.to(ember.int64)), RuntimeError),
        (lambda m, t: m.matrix_norm(t[0, 0, 0]), RuntimeError),  # 1-D
        (lambda m, t: m.matrix_norm(t, 3), RuntimeError),  # unsupported ord
        (lambda m, t: m.matrix_norm(t, "fro", dim=(1,)), RuntimeError),
        (lambda m, t: m.norm(t, 2), RuntimeError),  # ord without dim needs 1-D or 2-D
        (lambda m, t: m.norm(t, dim=(0, 1, 2)), RuntimeError),
        (lambda m, t: m.vector_norm(t, dim=7), IndexError),
    ],
)
def test_norm_errors_match_torchs_types(torch, call, error):
    for m, t in ((LA, ember.tensor(M)), (torch.linalg, torch.tensor(M))):
        with pytest.raises(error):
            call(m, t)


def test_norm_error_messages_name_the_problem():
    with pytest.raises(RuntimeError, match=r"at least 2 dimensions, got shape \(5,\)"):
        LA.matrix_norm(ember.tensor(np.ones(5)))
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        LA.matrix_norm(ember.tensor(np.ones((2, 2))), 3)
    with pytest.raises(RuntimeError, match=r"Got 3D \(shape \(2, 2, 2\)\)"):
        LA.norm(ember.tensor(np.ones((2, 2, 2))), 1)
