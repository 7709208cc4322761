"""svd_lowrank, pca_lowrank, matrix_rank, nuclear_norm, frobenius_norm and the ATen-level
native_layer_norm / native_batch_norm / native_group_norm / native_dropout against torch.

The randomized SVDs draw their test matrix from ember's generator, not torch's, so they are
checked by what does not depend on the draw: exact reconstruction of a matrix of rank ≤ q, its
singular values (torch.linalg.svdvals), a near-optimal error on a general matrix, and the
gradients of S on an exactly low-rank matrix."""

import warnings

import numpy as np
import pytest

import ember
from tests.torch_pairs import DTYPES, check, leaves, rand, same_error, tol


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nuclear_norm / frobenius_norm deprecation notes
        yield


def same_type(torch, e_fn, t_fn):
    """ember raises the exception type torch raises (ember.linalg words its own message)."""
    with pytest.raises(Exception) as t_err:
        t_fn()
    with pytest.raises(t_err.type):
        e_fn()


def low_rank(*batch, m, n, rank, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(batch + (m, rank)) @ rng.standard_normal(batch + (rank, n))
    return a.astype(dtype)


def recompose(U, S, V):
    return (U.array * S.array[..., None, :]) @ np.swapaxes(V.array, -1, -2)


# ---------------------------------------------------------------- svd_lowrank
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(20, 12), (12, 20), (3, 15, 9), (2, 2, 9, 15)])
def test_svd_lowrank_reconstructs_a_low_rank_matrix(torch, dtype, shape):
    *batch, m, n = shape
    a = low_rank(*batch, m=m, n=n, rank=4, dtype=dtype)
    U, S, V = ember.svd_lowrank(ember.tensor(a), q=6)
    assert U.shape == (*batch, m, 6) and S.shape == (*batch, 6) and V.shape == (*batch, n, 6)
    assert U.array.dtype == S.array.dtype == V.array.dtype == dtype
    scale = np.abs(a).max()
    atol = 1e-4 * scale if dtype == np.float32 else 1e-10 * scale
    np.testing.assert_allclose(recompose(U, S, V), a, atol=atol)
    ref = torch.linalg.svdvals(torch.tensor(a)).numpy()[..., :6]
    np.testing.assert_allclose(S.array, ref, atol=atol)
    eye = np.broadcast_to(np.eye(6), (*batch, 6, 6))
    np.testing.assert_allclose(np.swapaxes(V.array, -1, -2) @ V.array, eye, atol=atol)


def test_svd_lowrank_general_matrix_near_optimal(torch):
    """On a full-rank matrix with decaying spectrum: ‖A − U S Vᵀ‖_F within a small factor of
    the best rank-q error √(Σ_{i>q} σ_i²) (Eckart–Young)."""
    rng = np.random.default_rng(1)
    u, _ = np.linalg.qr(rng.standard_normal((60, 30)))
    v, _ = np.linalg.qr(rng.standard_normal((40, 30)))
    sigma = 0.7 ** np.arange(30)
    a = (u * sigma) @ v.T
    # factors from torch's own worst ratio over 20 seeds: 1.23, 3.86 (no power iteration), 1.11
    for q, niter, factor in [(5, 2, 1.6), (8, 0, 5.0), (8, 4, 1.5)]:
        U, S, V = ember.svd_lowrank(ember.tensor(a), q=q, niter=niter)
        err = np.linalg.norm(a - recompose(U, S, V))
        best = np.sqrt((torch.linalg.svdvals(torch.tensor(a)).numpy()[q:] ** 2).sum())
        assert err <= factor * best, (q, niter, err, best)


def test_svd_lowrank_with_M_is_svd_of_A_minus_M(torch):
    a = low_rank(m=15, n=10, rank=3)
    mean_row = np.random.default_rng(2).standard_normal((1, 10))
    x = a + mean_row  # A − M has rank 3, M broadcast from one row
    U, S, V = ember.svd_lowrank(ember.tensor(x), q=5, M=ember.tensor(mean_row))
    np.testing.assert_allclose(recompose(U, S, V), a, atol=1e-10)
    ref = torch.linalg.svdvals(torch.tensor(a)).numpy()[:5]
    np.testing.assert_allclose(S.array, ref, atol=1e-10)
    # the wide case goes through Aᴴ and Mᴴ
    U, S, V = ember.svd_lowrank(ember.tensor(x.T), q=5, M=ember.tensor(mean_row.T))
    np.testing.assert_allclose(recompose(U, S, V), a.T, atol=1e-10)


def test_svd_lowrank_complex_and_integer_input(torch):
    rng = np.random.default_rng(4)
    z = lambda *s: rng.standard_normal(s) + 1j * rng.standard_normal(s)  # noqa: E731
    a = z(2, 10, 3) @ z(2, 3, 7)
    U, S, V = ember.svd_lowrank(ember.tensor(a), q=4)
    assert U.array.dtype == V.array.dtype == np.complex128 and S.array.dtype == np.float64
    rebuilt = (U.array * S.array[..., None, :]) @ np.conj(np.swapaxes(V.array, -1, -2))
    np.testing.assert_allclose(rebuilt, a, atol=1e-10)
    ref = torch.linalg.svdvals(torch.tensor(a)).numpy()[..., :4]
    np.testing.assert_allclose(S.array, ref, atol=1e-10)
    same_type(torch, lambda: ember.svd_lowrank(ember.tensor(np.ones((4, 3), np.int64)), q=2),
              lambda: torch.svd_lowrank(torch.ones(4, 3, dtype=torch.long), q=2))  # fmt: skip


def test_svd_lowrank_reproducible_under_manual_seed():
    a = rand(12, 8)
    ember.manual_seed(3)
    first = ember.svd_lowrank(ember.tensor(a), q=3, niter=1)
    ember.manual_seed(3)
    second = ember.svd_lowrank(ember.tensor(a), q=3, niter=1)
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x.array, y.array)


def test_svd_lowrank_gradcheck_and_gradient_of_S_matches_torch(torch):
    a = rand(6, 5)

    def fn(x):
        ember.manual_seed(0)  # the random test matrix is a constant of the function
        U, S, V = ember.svd_lowrank(x, q=3, niter=1)
        return U @ ember.diag(S) @ V.mT, S

    assert ember.gradcheck(fn, (ember.tensor(a, requires_grad=True),))
    # on an exactly rank-q matrix S is the draw-independent top-q singular values: ∂Σσ/∂A = U Vᵀ
    b = low_rank(m=7, n=5, rank=3)
    (e,), (t,) = leaves(torch, b)
    w = np.array([1.0, -2.0, 0.5])
    (ember.svd_lowrank(e, q=3)[1] * ember.tensor(w)).sum().backward()
    (torch.svd_lowrank(t, q=3)[1] * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(e.grad.array, t.grad.numpy(), atol=1e-8)


# ---------------------------------------------------------------- pca_lowrank
@pytest.mark.parametrize("dtype", DTYPES)
def test_pca_lowrank_centres_as_torch(torch, dtype):
    a = (low_rank(2, m=20, n=8, rank=3) + 5.0).astype(dtype)
    ta = torch.tensor(a)
    atol = 1e-4 if dtype == np.float32 else 1e-9
    U, S, V = ember.pca_lowrank(ember.tensor(a))  # q = min(6, m, n)
    centred = a - a.mean(-2, keepdims=True)
    np.testing.assert_allclose(recompose(U, S, V), centred, atol=atol * 10)
    _, tS, _ = torch.pca_lowrank(ta)  # deterministic on exactly low-rank data
    np.testing.assert_allclose(S.array, tS.numpy(), atol=atol * 10)
    # center=False: the SVD of A itself (which has rank 4 with the constant)
    U, S, V = ember.pca_lowrank(ember.tensor(a), q=5, center=False)
    np.testing.assert_allclose(recompose(U, S, V), a, atol=atol * 100)
    _, tS, _ = torch.pca_lowrank(ta, q=5, center=False)
    np.testing.assert_allclose(S.array, tS.numpy(), rtol=1e-4, atol=atol * 100)


def test_pca_lowrank_errors(torch):
    a = rand(5, 4)
    same_error(torch, lambda: ember.pca_lowrank(ember.tensor(a), q=5),
               lambda: torch.pca_lowrank(torch.tensor(a), q=5))  # fmt: skip
    same_error(torch, lambda: ember.pca_lowrank(ember.tensor(a), niter=-1),
               lambda: torch.pca_lowrank(torch.tensor(a), niter=-1))  # fmt: skip


# ---------------------------------------------------------------- norms and matrix_rank
def test_matrix_rank_raises_as_torch(torch):
    a = rand(4, 3)
    same_error(torch, lambda: ember.matrix_rank(ember.tensor(a)),
               lambda: torch.matrix_rank(torch.tensor(a)))  # fmt: skip
    same_error(torch, lambda: ember.matrix_rank(ember.tensor(a), symmetric=True),
               lambda: torch.matrix_rank(torch.tensor(a), symmetric=True))  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "args", [(), (True,), ((0, 1),), ((1, 2), True), ((2, 0),), ((-1, -2), False)]
)
def test_nuclear_norm_matches_torch(torch, dtype, args):
    a = rand(4, 5, 3, dtype=dtype)
    (e,), (t,) = leaves(torch, a)
    check(torch, ember.nuclear_norm(e, *args), torch.nuclear_norm(t, *args), [e], [t], dtype)


def test_nuclear_norm_keyword_forms_and_errors(torch):
    a = rand(5, 3)
    (e,), (t,) = leaves(torch, a)
    out = ember.nuclear_norm(e, dim=(1, 0), keepdim=True)
    check(torch, out, torch.nuclear_norm(t, dim=(1, 0), keepdim=True), [e], [t], np.float64)
    assert ember.gradcheck(ember.nuclear_norm, (ember.tensor(a, requires_grad=True),))
    same_type(torch, lambda: ember.nuclear_norm(ember.tensor(a[0])),
              lambda: torch.nuclear_norm(torch.tensor(a[0])))  # fmt: skip
    same_type(torch, lambda: ember.nuclear_norm(ember.tensor(a), (0, 0)),
               lambda: torch.nuclear_norm(torch.tensor(a), (0, 0)))  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [(0, 1), 1, (-1,), [], (2, 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_frobenius_norm_matches_torch(torch, dtype, dim, keepdim):
    a = rand(4, 5, 3, dtype=dtype)
    (e,), (t,) = leaves(torch, a)
    check(torch, ember.frobenius_norm(e, dim, keepdim), torch.frobenius_norm(t, dim, keepdim),
          [e], [t], dtype)  # fmt: skip


def test_frobenius_norm_complex_gradcheck_and_errors(torch):
    z = rand(3, 4) + 1j * rand(3, 4, seed=1)
    out = ember.frobenius_norm(ember.tensor(z), (0, 1))
    ref = torch.frobenius_norm(torch.tensor(z), (0, 1))
    assert out.array.dtype == np.float64
    np.testing.assert_allclose(out.array, ref.numpy(), rtol=1e-12)
    f = lambda x: ember.frobenius_norm(x, (0,))  # noqa: E731
    assert ember.gradcheck(f, (ember.tensor(rand(3, 4), requires_grad=True),))
    a = rand(2, 3, 4)
    for call in [lambda m, x: m.frobenius_norm(x, (0, 1, 2)),
                 lambda m, x: m.frobenius_norm(x.int(), (0, 1))]:  # fmt: skip
        same_error(torch, lambda call=call: call(ember, ember.tensor(a)),
                   lambda call=call: call(torch, torch.tensor(a)))  # fmt: skip
    for call in [lambda m, x: m.frobenius_norm(x, (0, -3)),
                 lambda m, x: m.frobenius_norm(x, (5,))]:  # fmt: skip
        same_type(torch, lambda call=call: call(ember, ember.tensor(a)),
                  lambda call=call: call(torch, torch.tensor(a)))  # fmt: skip


# ---------------------------------------------------------------- native_* normalisations
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [[5], [4, 5], [3, 4, 5]])
@pytest.mark.parametrize("affine", [False, True])
def test_native_layer_norm_matches_torch(torch, dtype, shape, affine):
    x = rand(2, 3, 4, 5, dtype=dtype)
    arrays = [x] + ([rand(*shape, dtype=dtype, seed=1), rand(*shape, dtype=dtype, seed=2)]
                    if affine else [])  # fmt: skip
    es, ts = leaves(torch, *arrays)
    ew, eb = (es[1], es[2]) if affine else (None, None)
    tw, tb = (ts[1], ts[2]) if affine else (None, None)
    e = ember.native_layer_norm(es[0], shape, ew, eb, 1e-5)
    t = torch.native_layer_norm(ts[0], shape, tw, tb, 1e-5)
    check(torch, e, t, es, ts, dtype)
    assert not e[1].requires_grad and not e[2].requires_grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_native_batch_norm_training_matches_torch(torch, dtype, shape):
    x = rand(*shape, dtype=dtype)
    w, b = rand(3, dtype=dtype, seed=1), rand(3, dtype=dtype, seed=2)
    es, ts = leaves(torch, x, w, b)
    rm, rv = rand(3, dtype=dtype, seed=3), np.abs(rand(3, dtype=dtype, seed=4)) + 0.5
    erm, erv = ember.tensor(rm.copy()), ember.tensor(rv.copy())
    trm, trv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    e = ember.native_batch_norm(es[0], es[1], es[2], erm, erv, True, 0.1, 1e-5)
    t = torch.native_batch_norm(ts[0], ts[1], ts[2], trm, trv, True, 0.1, 1e-5)
    check(torch, e, t, es, ts, dtype)
    np.testing.assert_allclose(erm.array, trm.numpy(), **tol(dtype))
    np.testing.assert_allclose(erv.array, trv.numpy(), **tol(dtype))
    # without running stats
    e = ember.native_batch_norm(ember.tensor(x), None, None, None, None, True, 0.1, 1e-5)
    t = torch.native_batch_norm(torch.tensor(x), None, None, None, None, True, 0.1, 1e-5)
    check(torch, e, t, [], [], dtype, grad=False)


def test_native_batch_norm_eval_matches_torch(torch):
    x = rand(4, 3, 5)
    rm, rv = rand(3, seed=3), np.abs(rand(3, seed=4)) + 0.5
    es, ts = leaves(torch, x, rand(3, seed=1))
    e = ember.native_batch_norm(es[0], es[1], None, ember.tensor(rm), ember.tensor(rv), False,
                                0.1, 1e-5)  # fmt: skip
    t = torch.native_batch_norm(ts[0], ts[1], None, torch.tensor(rm), torch.tensor(rv), False,
                                0.1, 1e-5)  # fmt: skip
    check(torch, e, t, es, ts, np.float64)
    assert e[1].shape == (0,) and e[2].shape == (0,)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,group", [((2, 6, 4, 5), 3), ((2, 6, 7), 1), ((3, 4), 2)])
def test_native_group_norm_matches_torch(torch, dtype, shape, group):
    x = rand(*shape, dtype=dtype)
    c = shape[1]
    hxw = int(np.prod(shape[2:]))
    es, ts = leaves(torch, x, rand(c, dtype=dtype, seed=1), rand(c, dtype=dtype, seed=2))
    e = ember.native_group_norm(es[0], es[1], es[2], shape[0], c, hxw, group, 1e-5)
    t = torch.native_group_norm(ts[0], ts[1], ts[2], shape[0], c, hxw, group, 1e-5)
    check(torch, e, t, es, ts, dtype)  # mean and rstd differentiable, as torch's
    if dtype == np.float64:
        f = lambda a: ember.native_group_norm(a, None, None, shape[0], c, hxw, group, 1e-5)  # noqa: E731
        assert ember.gradcheck(f, (ember.tensor(x, requires_grad=True),))


def test_native_group_norm_errors(torch):
    x = rand(2, 3, 4, 5)
    args = (None, None, 2, 3, 20, 2, 1e-5)  # 3 channels in 2 groups
    same_error(torch, lambda: ember.native_group_norm(ember.tensor(x), *args),
               lambda: torch.native_group_norm(torch.tensor(x), *args))  # fmt: skip
    with pytest.raises(RuntimeError, match="N·C·HxW"):
        ember.native_group_norm(ember.tensor(x), None, None, 2, 3, 19, 3, 1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_native_dropout_training(torch, dtype):
    x = rand(40, 50, dtype=dtype)
    e = ember.tensor(x, requires_grad=True)
    out, mask = ember.native_dropout(e, 0.3, True)
    t_out, t_mask = torch.native_dropout(torch.tensor(x), 0.3, True)
    assert mask.array.dtype == t_mask.numpy().dtype == np.bool_
    assert out.shape == tuple(t_out.shape) and out.array.dtype == dtype
    assert abs(mask.array.mean() - 0.7) < 0.03  # 2000 draws of Bernoulli(0.7)
    m = mask.array
    np.testing.assert_allclose(out.array, x * m / (1 - 0.3), **tol(dtype))
    w = rand(40, 50, dtype=dtype, seed=1)
    (out * ember.tensor(w)).sum().backward()
    np.testing.assert_allclose(e.grad.array, w * m / (1 - 0.3), **tol(dtype))
    ember.manual_seed(5)
    again = ember.native_dropout(ember.tensor(x), 0.3, None)  # None trains, as torch
    ember.manual_seed(5)
    np.testing.assert_array_equal(
        again[1].array, ember.native_dropout(ember.tensor(x), 0.3, True)[1].array
    )


def test_native_dropout_edges_match_torch(torch):
    x = rand(3, 4)
    for p, train in [(0.5, False), (1.0, True), (0.0, True)]:
        e_out, e_mask = ember.native_dropout(ember.tensor(x), p, train)
        t_out, t_mask = torch.native_dropout(torch.tensor(x), p, train)
        np.testing.assert_array_equal(e_out.array, t_out.numpy())
        np.testing.assert_array_equal(e_mask.array, t_mask.numpy())
    e = ember.tensor(x, requires_grad=True)
    ember.native_dropout(e, 0.5, False)[0].sum().backward()
    np.testing.assert_array_equal(e.grad.array, np.ones_like(x))
    for p in (1.5, -0.5):
        same_error(torch, lambda p=p: ember.native_dropout(ember.tensor(x), p, True),
                   lambda p=p: torch.native_dropout(torch.tensor(x), p, True))  # fmt: skip
    same_error(torch, lambda: ember.native_dropout(ember.tensor(x).int(), 0.5, True),
               lambda: torch.native_dropout(torch.tensor(x).int(), 0.5, True))  # fmt: skip
