"""i0, igamma, igammac, mvlgamma, polygamma, det, inverse, cholesky, cholesky_inverse, qr, svd,
dist, trapz, gradient, lu_solve and lu_unpack against torch (outputs and the gradients of a
weighted sum, float32 and float64, batched), gradcheck of each differentiable one (float64),
the Tensor methods and in-place forms, and the errors for bad input (type and message as
torch's)."""

import warnings

import numpy as np
import pytest

import ember
from tests.torch_pairs import DTYPES, check, leaves, rand, same_error, tol

# torch.qr, torch.cholesky, torch.lu_solve … warn that they are deprecated
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def spd(*shape, dtype=np.float64, seed=0):
    """Well-conditioned symmetric positive-definite matrices: M Mᵀ/n + I."""
    m = rand(*shape, dtype=np.float64, seed=seed)
    n = shape[-1]
    return (m @ np.swapaxes(m, -1, -2) / n + np.eye(n)).astype(dtype)


def well(*shape, dtype=np.float64, seed=0):
    """Well-conditioned (square or not) matrices: 0.3·M + 2·I."""
    a = rand(*shape, dtype=np.float64, seed=seed) * 0.3 + 2 * np.eye(*shape[-2:])
    return a.astype(dtype)


def positive(*shape, lo=0.2, hi=5.0, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(dtype)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


NAMES = (
    "i0 igamma igammac mvlgamma polygamma det inverse cholesky cholesky_inverse qr svd dist"
    " trapz gradient lu_solve lu_unpack"
).split()


def test_names_and_methods_as_torch(torch):
    from ember import torch_special_linalg

    assert sorted(torch_special_linalg.__all__) == sorted(NAMES)
    for n in NAMES:
        assert callable(getattr(ember, n))
        assert hasattr(ember.Tensor, n) == hasattr(torch.Tensor, n), n
        assert hasattr(ember.Tensor, n + "_") == hasattr(torch.Tensor, n + "_"), n


# ---------------------------------------------------------------- i0
@pytest.mark.parametrize("dtype", DTYPES)
def test_i0_matches_torch(torch, dtype):
    x = np.concatenate([rand(2, 6, dtype=dtype).ravel() * 3, [0, -8, 8, 9.5, -20, 30]])
    x = x.reshape(3, 6).astype(dtype)
    es, ts = leaves(torch, x)
    check(torch, ember.i0(*es), torch.i0(*ts), es, ts, dtype)
    es, ts = leaves(torch, x)
    check(torch, es[0].i0(), ts[0].i0(), es, ts, dtype)


def test_i0_integers_and_in_place(torch):
    out = ember.i0(ember.tensor([0, 1, 2]))
    ref = torch.i0(torch.tensor([0, 1, 2]))
    assert out.array.dtype == np.float32
    np.testing.assert_allclose(out.array, ref.numpy(), rtol=1e-6)
    x = rand(5)
    e, t = ember.tensor(x.copy()), torch.tensor(x.copy())
    assert e.i0_() is e
    t.i0_()
    np.testing.assert_allclose(e.array, t.numpy(), **tol(np.float64))


# ---------------------------------------------------------------- igamma / igammac
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_matches_torch(torch, dtype, name):
    a = positive(3, 1, dtype=dtype, lo=0.5, hi=4.0)
    x = positive(4, dtype=dtype, lo=0.1, hi=6.0, seed=1)
    ea, ta = ember.tensor(a), torch.tensor(a)  # torch differentiates in x only
    es, ts = leaves(torch, x)
    check(torch, getattr(ember, name)(ea, es[0]), getattr(torch, name)(ta, ts[0]), es, ts, dtype)
    es, ts = leaves(torch, x)
    check(torch, getattr(ea, name)(es[0]), getattr(ta, name)(ts[0]), es, ts, dtype)


def test_igamma_edges_promotion_in_place(torch):
    a, x = [0.0, 1, -1, 1, 0, 2, 2.5], [1.0, 0, 1, -1, 0, np.inf, 0.3]
    for name in ("igamma", "igammac"):
        out = getattr(ember, name)(ember.tensor(a), ember.tensor(x))
        ref = getattr(torch, name)(torch.tensor(a), torch.tensor(x))
        np.testing.assert_allclose(out.array, ref.numpy(), rtol=1e-6, equal_nan=True)
    # float32 with float64 → float64; float32 with int64 → float32
    a32, x64 = ember.tensor(np.float32([1.5])), ember.tensor(np.float64([2.0]))
    assert ember.igamma(a32, x64).array.dtype == np.float64
    assert ember.igamma(a32, ember.tensor([2])).array.dtype == np.float32
    e, t = ember.tensor(positive(4)), torch.tensor(positive(4))
    other = positive(4, seed=3)
    assert e.igammac_(ember.tensor(other)) is e
    t.igammac_(torch.tensor(other))
    np.testing.assert_allclose(e.array, t.numpy(), **tol(np.float64))
    e, t = ember.tensor(positive(4)), torch.tensor(positive(4))
    e.igamma_(ember.tensor(other))
    t.igamma_(torch.tensor(other))
    np.testing.assert_allclose(e.array, t.numpy(), **tol(np.float64))


def test_igamma_errors(torch):
    ints = [1, 2]
    for name in ("igamma", "igammac"):
        same_error(
            torch,
            lambda n=name: getattr(ember, n)(ember.tensor(ints), ember.tensor(ints)),
            lambda n=name: getattr(torch, n)(torch.tensor(ints), torch.tensor(ints)),
        )
        same_error(
            torch,
            lambda n=name: getattr(ember, n)(ember.tensor([1.0]), 2.0),
            lambda n=name: getattr(torch, n)(torch.tensor([1.0]), 2.0),
        )

        def grad_a(lib, n=name):
            a = lib.tensor([1.0, 2.0], requires_grad=True)
            getattr(lib, n)(a, lib.tensor([0.5, 3.0])).sum().backward()

        same_error(torch, lambda: grad_a(ember), lambda: grad_a(torch))


# ---------------------------------------------------------------- mvlgamma / polygamma
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [1, 2, 4])
def test_mvlgamma_matches_torch(torch, dtype, p):
    x = positive(2, 3, lo=(p - 1) / 2 + 0.1, hi=6.0, dtype=dtype)
    es, ts = leaves(torch, x)
    check(torch, ember.mvlgamma(es[0], p), torch.mvlgamma(ts[0], p), es, ts, dtype)
    es, ts = leaves(torch, x)
    check(torch, es[0].mvlgamma(p), ts[0].mvlgamma(p), es, ts, dtype)
    e, t = ember.tensor(x.copy()), torch.tensor(x.copy())
    assert e.mvlgamma_(p) is e
    t.mvlgamma_(p)
    np.testing.assert_allclose(e.array, t.numpy(), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma_matches_torch(torch, dtype, n):
    x = np.concatenate([positive(2, 3, lo=0.3, hi=8.0, dtype=dtype).ravel(), [-1.5, -0.3, 12]])
    x = x.reshape(3, 3).astype(dtype)
    es, ts = leaves(torch, x)
    check(torch, ember.polygamma(n, es[0]), torch.polygamma(n, ts[0]), es, ts, dtype)
    es, ts = leaves(torch, x)
    check(torch, es[0].polygamma(n), ts[0].polygamma(n), es, ts, dtype)
    e, t = ember.tensor(x.copy()), torch.tensor(x.copy())
    assert e.polygamma_(n) is e
    t.polygamma_(n)
    np.testing.assert_allclose(e.array, t.numpy(), **tol(dtype))


def test_special_integers_and_poles(torch):
    for fn_e, fn_t in [
        (lambda x: ember.polygamma(1, x), lambda x: torch.polygamma(1, x)),
        (lambda x: ember.mvlgamma(x, 2), lambda x: torch.mvlgamma(x, 2)),
    ]:
        out, ref = fn_e(ember.tensor([3, 4])), fn_t(torch.tensor([3, 4]))
        assert out.array.dtype == np.float32
        np.testing.assert_allclose(out.array, ref.numpy(), rtol=1e-6)
    x = np.array([0.0, -1.0, -1.5, 1.0])
    for n in (0, 2, 3):
        out = ember.polygamma(n, ember.tensor(x))
        np.testing.assert_allclose(
            out.array, torch.polygamma(n, torch.tensor(x, dtype=torch.float64)).numpy(), rtol=1e-10
        )


def test_special_errors(torch):
    x = [1.0, 2.0]
    same_error(
        torch,
        lambda: ember.polygamma(-1, ember.tensor(x)),
        lambda: torch.polygamma(-1, torch.tensor(x)),
    )
    same_error(
        torch,
        lambda: ember.polygamma(1.5, ember.tensor(x)),
        lambda: torch.polygamma(1.5, torch.tensor(x)),
    )
    same_error(
        torch,
        lambda: ember.mvlgamma(ember.tensor(x), 0),
        lambda: torch.mvlgamma(torch.tensor(x), 0),
    )
    same_error(
        torch,
        lambda: ember.mvlgamma(ember.tensor(x), 1.5),
        lambda: torch.mvlgamma(torch.tensor(x), 1.5),
    )


# ---------------------------------------------------------------- det / inverse / cholesky
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_det_inverse_match_torch(torch, dtype, shape):
    for name in ("det", "inverse"):
        es, ts = leaves(torch, well(*shape, dtype=dtype))
        check(torch, getattr(ember, name)(*es), getattr(torch, name)(*ts), es, ts, dtype)
        es, ts = leaves(torch, well(*shape, dtype=dtype, seed=2))
        check(torch, getattr(es[0], name)(), getattr(ts[0], name)(), es, ts, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_matches_torch(torch, dtype, upper):
    es, ts = leaves(torch, spd(2, 4, 4, dtype=dtype))
    check(torch, ember.cholesky(es[0], upper), quiet(torch.cholesky, ts[0], upper), es, ts, dtype)
    es, ts = leaves(torch, spd(3, 3, dtype=dtype, seed=1))
    check(torch, es[0].cholesky(upper=upper), quiet(ts[0].cholesky, upper=upper), es, ts, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_matches_torch(torch, dtype, upper):
    f = np.linalg.cholesky(spd(2, 3, 3))
    f = (np.swapaxes(f, -1, -2) if upper else f).astype(dtype)
    es, ts = leaves(torch, f)
    check(
        torch,
        ember.cholesky_inverse(es[0], upper),
        torch.cholesky_inverse(ts[0], upper),
        es,
        ts,
        dtype,
    )
    es, ts = leaves(torch, f[0].copy())
    check(torch, es[0].cholesky_inverse(upper), ts[0].cholesky_inverse(upper), es, ts, dtype)


def test_linalg_errors(torch):
    cases = [
        (ember.det, torch.det, rand(3)),
        (ember.det, torch.det, rand(2, 3)),
        (ember.inverse, torch.inverse, rand(2, 3)),
        (ember.cholesky, torch.cholesky, rand(2, 3)),
        (ember.cholesky_inverse, torch.cholesky_inverse, rand(2, 3)),
        (ember.cholesky_inverse, torch.cholesky_inverse, rand(3)),
        (ember.qr, torch.qr, rand(3)),
        (ember.svd, torch.svd, rand(3)),
    ]
    for fe, ft, a in cases:
        same_error(
            torch, lambda fe=fe, a=a: fe(ember.tensor(a)), lambda ft=ft, a=a: ft(torch.tensor(a))
        )
    # torch's message names the leading minor that fails; ember's does not
    with pytest.raises(RuntimeError, match="^cholesky: The factorization could not be completed"):
        ember.cholesky(ember.tensor(-np.eye(2)))
    same_error(
        torch,
        lambda: ember.det(ember.tensor([[1, 2], [3, 4]])),
        lambda: torch.det(torch.tensor([[1, 2], [3, 4]])),
    )


# ---------------------------------------------------------------- qr / svd
def _qr_fixed(lib, Q, R):  # noqa: N803
    """Q and R with R's diagonal made positive: unique, so comparable (the sign a constant)."""
    d = np.diagonal(R.detach().numpy() if lib != ember else R.array, axis1=-2, axis2=-1)
    s = np.where(d < 0, -1.0, 1.0).astype(d.dtype)
    return Q * lib.tensor(s[..., None, :]), R * lib.tensor(s[..., :, None])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 3), (2, 3, 5)])
def test_qr_matches_torch(torch, dtype, shape):
    es, ts = leaves(torch, well(*shape, dtype=dtype))
    qe, re = ember.qr(es[0])
    qt, rt = quiet(torch.qr, ts[0])
    assert type(ember.qr(es[0])).__name__ == type(quiet(torch.qr, ts[0])).__name__ == "qr"
    check(torch, _qr_fixed(ember, qe, re), _qr_fixed(torch, qt, rt), es, ts, dtype)
    es, ts = leaves(torch, well(*shape, dtype=dtype, seed=3))
    qe, re = es[0].qr()
    qt, rt = quiet(ts[0].qr)
    check(torch, _qr_fixed(ember, qe, re), _qr_fixed(torch, qt, rt), es, ts, dtype)


def test_qr_complete(torch):
    a = well(5, 3)
    qe, re = ember.qr(ember.tensor(a), some=False)
    qt, rt = quiet(torch.qr, torch.tensor(a), some=False)
    assert tuple(qe.shape) == tuple(qt.shape) == (5, 5)
    assert tuple(re.shape) == tuple(rt.shape) == (5, 3)
    np.testing.assert_allclose((qe @ re).array, a, **tol(np.float64))
    np.testing.assert_allclose((qe.mT @ qe).array, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(np.abs(re.array), np.abs(rt.numpy()), atol=1e-12)


def _svd_fixed(lib, U, S, V):  # noqa: N803
    """U and V with each column of U summing positive: unique for distinct σ."""
    u = U.detach().numpy() if lib != ember else U.array
    s = np.where(u.sum(-2) < 0, -1.0, 1.0).astype(u.dtype)[..., None, :]
    return U * lib.tensor(s), S, V * lib.tensor(s)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 3), (2, 3, 5)])
def test_svd_matches_torch(torch, dtype, shape):
    a = rand(*shape, dtype=dtype) + np.eye(*shape[-2:]) * np.arange(1, 4)[: min(shape[-2:])].sum()
    a = a.astype(dtype)
    es, ts = leaves(torch, a)
    out_e, out_t = ember.svd(es[0]), torch.svd(ts[0])
    assert type(out_e).__name__ == type(out_t).__name__ == "svd"
    assert out_e._fields == ("U", "S", "V") and out_t.V is out_t[2]
    check(torch, _svd_fixed(ember, *out_e), _svd_fixed(torch, *out_t), es, ts, dtype)
    es, ts = leaves(torch, a)
    check(torch, es[0].svd().S, ts[0].svd().S, es, ts, dtype)


def test_svd_full_and_no_uv(torch):
    a = rand(2, 4, 3)
    ue, se, ve = ember.svd(ember.tensor(a), some=False)
    ut, st, vt = torch.svd(torch.tensor(a), some=False)
    assert ue.shape == ut.shape and ve.shape == vt.shape
    np.testing.assert_allclose(se.array, st.numpy(), **tol(np.float64))
    recon = ue[..., :3] @ (se.unsqueeze(-1) * ve.mT)
    np.testing.assert_allclose(recon.array, a, **tol(np.float64))
    for dtype in DTYPES:
        es, ts = leaves(torch, rand(2, 4, 3, dtype=dtype))
        out_e, out_t = ember.svd(es[0], compute_uv=False), torch.svd(ts[0], compute_uv=False)
        check(torch, list(out_e), list(out_t), es, ts, dtype)
        assert not out_e.U.array.any() and not out_e.V.array.any()


# ---------------------------------------------------------------- dist / trapz
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2, 1, 3, 1.5, float("inf"), float("-inf"), -2])
def test_dist_matches_torch(torch, dtype, p):
    es, ts = leaves(torch, rand(3, 4, dtype=dtype), rand(4, dtype=dtype, seed=1))
    check(torch, ember.dist(*es, p), torch.dist(*ts, p), es, ts, dtype)
    es, ts = leaves(torch, rand(3, 4, dtype=dtype), rand(4, dtype=dtype, seed=1))
    check(torch, es[0].dist(es[1], p=p), ts[0].dist(ts[1], p=p), es, ts, dtype)


def test_dist_edges(torch):
    # p = 0 counts the non-zero differences: in the graph, as torch's, but no gradient reaches
    # the inputs (torch's DistBackward fails on it with an internal error instead)
    es, ts = leaves(torch, rand(3, 4), rand(4, seed=1))
    check(torch, ember.dist(*es, 0), torch.dist(*ts, 0), es, ts, np.float64, grad=False)
    ember.dist(*es, 0).backward()
    assert es[0].grad is None and es[1].grad is None
    with pytest.raises(RuntimeError):
        torch.dist(*ts, 0).backward()
    x = rand(3)
    es, ts = leaves(torch, x, x.copy())  # 0 distance: the gradient is 0, as torch's
    check(torch, ember.dist(*es), torch.dist(*ts), es, ts, np.float64)
    out = ember.dist(ember.tensor(np.float32([1, 2])), ember.tensor([1.0, 4.0]))
    assert (
        out.array.dtype
        == torch.dist(torch.tensor([1.0, 2]), torch.tensor([1.0, 4.0])).numpy().dtype
    )
    same_error(
        torch,
        lambda: ember.dist(ember.tensor([1, 2]), ember.tensor([1, 3])),
        lambda: torch.dist(torch.tensor([1, 2]), torch.tensor([1, 3])),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_trapz_matches_torch(torch, dtype):
    es, ts = leaves(torch, rand(3, 5, dtype=dtype), np.cumsum(positive(5, dtype=dtype)))
    check(torch, ember.trapz(es[0], es[1]), torch.trapz(ts[0], ts[1]), es, ts, dtype)
    es, ts = leaves(torch, rand(3, 5, dtype=dtype))
    check(
        torch, ember.trapz(es[0], dx=0.5, dim=0), torch.trapz(ts[0], dx=0.5, dim=0), es, ts, dtype
    )
    es, ts = leaves(torch, rand(3, 5, dtype=dtype))
    check(torch, ember.trapz(es[0]), torch.trapz(ts[0]), es, ts, dtype)


# ---------------------------------------------------------------- gradient
def _coords(n, dtype, seed):
    return np.cumsum(positive(n, lo=0.3, hi=1.5, dtype=dtype, seed=seed)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_matches_torch(torch, dtype, edge_order):
    f = rand(4, 5, 3, dtype=dtype)
    for kwargs in [
        {},
        dict(spacing=0.5),
        dict(spacing=[2.0, 0.5, 1.5]),
        dict(dim=1),
        dict(dim=[2, 0], spacing=[0.5, 3.0]),
        dict(dim=-2, spacing=2.0),
    ]:
        es, ts = leaves(torch, f)
        out_e = ember.gradient(es[0], edge_order=edge_order, **kwargs)
        out_t = torch.gradient(ts[0], edge_order=edge_order, **kwargs)
        assert isinstance(out_e, tuple) and len(out_e) == len(out_t)
        check(torch, list(out_e), list(out_t), es, ts, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_coordinates_match_torch(torch, dtype, edge_order):
    f, x0, x2 = rand(4, 5, 3, dtype=dtype), _coords(4, dtype, 1), _coords(3, dtype, 2)
    es, ts = leaves(torch, f, x0, x2)
    out_e = ember.gradient(es[0], spacing=[es[1], es[2]], dim=[0, 2], edge_order=edge_order)
    out_t = torch.gradient(ts[0], spacing=[ts[1], ts[2]], dim=[0, 2], edge_order=edge_order)
    check(torch, list(out_e), list(out_t), es, ts, dtype)
    es, ts = leaves(torch, f[0, :, 0].copy(), _coords(5, dtype, 3))
    out_e = ember.gradient(es[0], spacing=(es[1],), edge_order=edge_order)
    out_t = torch.gradient(ts[0], spacing=(ts[1],), edge_order=edge_order)
    check(torch, list(out_e), list(out_t), es, ts, dtype)


def test_gradient_edges(torch):
    out = ember.gradient(ember.tensor([1, 2, 4]))
    ref = torch.gradient(torch.tensor([1, 2, 4]))
    assert out[0].array.dtype == ref[0].numpy().dtype
    np.testing.assert_allclose(out[0].array, ref[0].numpy())
    assert ember.gradient(ember.tensor(3.0)) == ()
    es, ts = leaves(torch, rand(2, 4))  # size 2 = edge_order + 1: no interior
    check(torch, list(ember.gradient(es[0])), list(torch.gradient(ts[0])), es, ts, np.float64)
    f = rand(3, 4)
    for kwargs, g in [
        (dict(spacing=[1.0, 2.0, 3.0]), f),
        (dict(spacing=[1.0]), f),
        (dict(dim=[1], spacing=[2.0, 3.0]), f),
        (dict(dim=[0, 0]), f),
        (dict(dim=2), f),
        (dict(edge_order=3), f),
        (dict(edge_order=2), rand(2)),
        ({}, rand(1)),
    ]:
        same_error(
            torch,
            lambda k=kwargs, a=g: ember.gradient(ember.tensor(a), **k),
            lambda k=kwargs, a=g: torch.gradient(torch.tensor(a), **k),
        )


# ---------------------------------------------------------------- lu_solve / lu_unpack
def _lu_pair(torch, a):
    """The same packed LU as torch's lu_factor gives, for ember and torch (leaves), and pivots."""
    LU, piv = torch.linalg.lu_factor(torch.tensor(a))  # noqa: N806
    e_lu, t_lu = leaves(torch, LU.numpy())
    return e_lu[0], t_lu[0], ember.tensor(piv.numpy()), piv


def test_lu_pivots_are_ember_lus(torch):
    a = rand(2, 4, 4)
    LU, piv = ember.lu(ember.tensor(a))  # noqa: N806
    LU_t, piv_t = torch.linalg.lu_factor(torch.tensor(a))  # noqa: N806
    np.testing.assert_array_equal(piv.array, piv_t.numpy())
    np.testing.assert_allclose(LU.array, LU_t.numpy(), **tol(np.float64))
    P, L, U = ember.lu_unpack(LU, piv)  # noqa: N806
    np.testing.assert_allclose((P @ L @ U).array, a, **tol(np.float64))
    b = rand(2, 4, 2, seed=5)
    np.testing.assert_allclose(
        ember.lu_solve(ember.tensor(b), LU, piv).array, np.linalg.solve(a, b), **tol(np.float64)
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shapes", [((3, 3), (3, 2)), ((2, 4, 4), (2, 4, 1)), ((2, 3, 3), (5, 1, 3, 2))]
)
def test_lu_solve_matches_torch(torch, dtype, shapes):
    a_shape, b_shape = shapes
    e_lu, t_lu, e_piv, t_piv = _lu_pair(torch, well(*a_shape, dtype=dtype))
    eb, tb = leaves(torch, rand(*b_shape, dtype=dtype, seed=4))
    check(
        torch,
        ember.lu_solve(eb[0], e_lu, e_piv),
        torch.lu_solve(tb[0], t_lu, t_piv),
        [eb[0], e_lu],
        [tb[0], t_lu],
        dtype,
    )
    e_lu, t_lu, e_piv, t_piv = _lu_pair(torch, well(*a_shape, dtype=dtype))
    eb, tb = leaves(torch, rand(*b_shape, dtype=dtype, seed=4))
    check(
        torch,
        eb[0].lu_solve(e_lu, e_piv),
        tb[0].lu_solve(t_lu, t_piv),
        [eb[0], e_lu],
        [tb[0], t_lu],
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 4), (2, 5, 3), (2, 3, 5)])
def test_lu_unpack_matches_torch(torch, dtype, shape):
    e_lu, t_lu, e_piv, t_piv = _lu_pair(torch, rand(*shape, dtype=dtype))
    out_e, out_t = ember.lu_unpack(e_lu, e_piv), torch.lu_unpack(t_lu, t_piv)
    assert type(out_e).__name__ == type(out_t).__name__ == "lu_unpack"
    assert out_e._fields == ("P", "L", "U") and out_t.U is out_t[2]
    check(torch, list(out_e), list(out_t), [e_lu], [t_lu], dtype)
    for kwargs in (dict(unpack_data=False), dict(unpack_pivots=False)):
        out_e, out_t = (
            ember.lu_unpack(e_lu, e_piv, **kwargs),
            torch.lu_unpack(t_lu, t_piv, **kwargs),
        )
        check(torch, list(out_e), list(out_t), [], [], dtype, grad=False)


def test_lu_errors(torch):
    a = rand(2, 3, 3)
    LU, piv = torch.linalg.lu_factor(torch.tensor(a))  # noqa: N806
    eLU, epiv = ember.tensor(LU.numpy()), ember.tensor(piv.numpy())  # noqa: N806
    for b in (rand(2, 3), rand(2, 4, 2)):
        same_error(
            torch,
            lambda b=b: ember.lu_solve(ember.tensor(b), eLU, epiv),
            lambda b=b: torch.lu_solve(torch.tensor(b), LU, piv),
        )
    b = rand(2, 3, 2)
    same_error(
        torch,
        lambda: ember.lu_solve(ember.tensor(b), eLU, epiv.long()),
        lambda: torch.lu_solve(torch.tensor(b), LU, piv.long()),
    )
    same_error(
        torch,
        lambda: ember.lu_solve(ember.tensor(b), eLU.float(), epiv),
        lambda: torch.lu_solve(torch.tensor(b), LU.float(), piv),
    )
    LU2, piv2 = torch.linalg.lu_factor(torch.randn(2, 4, 3, dtype=torch.float64))  # noqa: N806
    same_error(
        torch,
        lambda: ember.lu_solve(
            ember.tensor(rand(2, 4, 2)), ember.tensor(LU2.numpy()), ember.tensor(piv2.numpy())
        ),
        lambda: torch.lu_solve(torch.tensor(rand(2, 4, 2)), LU2, piv2),
    )
    same_error(
        torch, lambda: ember.lu_unpack(eLU, epiv.long()), lambda: torch.lu_unpack(LU, piv.long())
    )
    same_error(torch, lambda: ember.lu_unpack(eLU, epiv + 5), lambda: torch.lu_unpack(LU, piv + 5))


# ---------------------------------------------------------------- gradcheck (float64)
def _g(*arrays):
    return tuple(ember.tensor(a, requires_grad=True) for a in arrays)


def test_gradchecks():
    gc = ember.gradcheck
    assert gc(ember.i0, _g(np.array([-12.0, -3.0, -0.5, 0.3, 2.0, 7.9, 8.1, 15.0])))
    a = ember.tensor(positive(3, 1, lo=0.5, hi=4.0))
    assert gc(lambda x: ember.igamma(a, x), _g(positive(4, lo=0.2, hi=5.0, seed=1)))
    assert gc(lambda x: ember.igammac(a, x), _g(positive(4, lo=0.2, hi=5.0, seed=1)))
    assert gc(lambda x: ember.mvlgamma(x, 3), _g(positive(2, 3, lo=1.5, hi=5.0)))
    for n in range(4):
        assert gc(lambda x, n=n: ember.polygamma(n, x), _g(positive(2, 3, lo=0.5, hi=5.0)))
    assert gc(ember.det, _g(well(2, 3, 3)))
    assert gc(ember.inverse, _g(well(2, 3, 3)))
    assert gc(lambda x: ember.cholesky(x + x.mT), _g(spd(2, 3, 3) / 2))
    chol = np.linalg.cholesky(spd(3, 3))
    # only the triangle is read, so the finite differences see only the triangle
    assert gc(lambda f: ember.cholesky_inverse(f.tril()), _g(chol))
    assert gc(lambda f: ember.cholesky_inverse(f.triu(), upper=True), _g(chol.T.copy()))
    assert gc(lambda x: ember.qr(x).R.abs(), _g(well(4, 3)))
    assert gc(lambda x: (lambda q: q @ q.mT)(ember.qr(x).Q), _g(well(4, 3)))
    svd_in = rand(4, 3) + np.eye(4, 3) * np.array([3.0, 2.0, 1.0])
    assert gc(lambda x: ember.svd(x).S, _g(svd_in))
    assert gc(lambda x: (lambda u: u @ u.mT)(ember.svd(x).U), _g(svd_in))
    assert gc(lambda x: (lambda v: v @ v.mT)(ember.svd(x).V), _g(svd_in))
    for p in (2, 1, 3, float("inf")):
        assert gc(lambda x, y, p=p: ember.dist(x, y, p), _g(rand(3, 2), rand(2, seed=1)))
    assert gc(lambda y, x: ember.trapz(y, x), _g(rand(2, 4), _coords(4, np.float64, 1)))
    for order in (1, 2):
        assert gc(
            lambda f, order=order: ember.gradient(f, edge_order=order, spacing=0.5)[1],
            _g(rand(3, 4)),
        )
        assert gc(
            lambda f, x, order=order: ember.gradient(f, spacing=[x], dim=1, edge_order=order)[0],
            _g(rand(3, 5), _coords(5, np.float64, 2)),
        )
    LU, piv = ember.lu(ember.tensor(well(2, 3, 3)))  # noqa: N806
    assert gc(lambda b, lu: ember.lu_solve(b, lu, piv), _g(rand(2, 3, 2), LU.array))
    assert gc(lambda lu: ember.lu_unpack(lu, piv).L, _g(LU.array))
    assert gc(lambda lu: ember.lu_unpack(lu, piv).U, _g(LU.array))
