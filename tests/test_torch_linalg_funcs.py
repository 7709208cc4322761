"""addbmm, baddbmm, addmv, addr, chain_matmul, vdot, inner, ger, mv, matrix_power, matrix_exp,
logdet, slogdet, pinverse, lu, cholesky_solve, triangular_solve, frexp, ldexp, gcd, lcm and
copysign against torch (outputs and the gradients of a weighted sum, float32 and float64),
gradcheck of each differentiable one (float64), the Tensor methods and in-place forms, and the
errors for bad input (type and message as torch's)."""

import warnings

import numpy as np
import pytest

import ember
from tests.torch_pairs import DTYPES, check, leaves, rand, same_error, tol


def spd(*shape, dtype=np.float64, seed=0):
    """Well-conditioned symmetric positive-definite matrices: M Mᵀ/n + I."""
    m = rand(*shape, dtype=np.float64, seed=seed)
    n = shape[-1]
    return (m @ np.swapaxes(m, -1, -2) / n + np.eye(n)).astype(dtype)


def tri(*shape, upper, dtype=np.float64, seed=0):
    """Well-conditioned triangular matrices (diagonal away from 0), garbage off the triangle."""
    a = rand(*shape, dtype=np.float64, seed=seed) * 0.3
    n = shape[-1]
    a = a + np.eye(n) * (2.0 + np.abs(rand(n, seed=seed + 7)))
    return a.astype(dtype)


SCALES = [(1, 1), (0.5, 2.0), (0, 1.5), (2, 0)]


# ---------------------------------------------------------------- addmv / mv
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta, alpha", SCALES)
@pytest.mark.parametrize("in_shape", [(3,), (1,), ()])
def test_addmv_matches_torch(torch, dtype, beta, alpha, in_shape):
    arrays = rand(*in_shape, dtype=dtype, seed=1), rand(3, 4, dtype=dtype), rand(4, dtype=dtype)
    es, ts = leaves(torch, *arrays)
    out_e = ember.addmv(*es, beta=beta, alpha=alpha)
    check(torch, out_e, torch.addmv(*ts, beta=beta, alpha=alpha), es, ts, dtype)


def test_addmv_beta_zero_ignores_nan(torch):
    nan = np.full(3, np.nan)
    mat, vec = rand(3, 2), rand(2)
    out = ember.addmv(ember.tensor(nan), ember.tensor(mat), ember.tensor(vec), beta=0)
    ref = torch.addmv(torch.tensor(nan), torch.tensor(mat), torch.tensor(vec), beta=0)
    np.testing.assert_allclose(out.array, ref.numpy(), rtol=1e-12)
    assert not np.isnan(out.array).any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_mv_matches_torch(torch, dtype):
    es, ts = leaves(torch, rand(5, 3, dtype=dtype), rand(3, dtype=dtype, seed=2))
    check(torch, ember.mv(*es), torch.mv(*ts), es, ts, dtype)
    es, ts = leaves(torch, rand(5, 3, dtype=dtype), rand(3, dtype=dtype, seed=2))
    check(torch, es[0].mv(es[1]), ts[0].mv(ts[1]), es, ts, dtype)


def test_mv_integer(torch):
    m, v = np.arange(6).reshape(2, 3), np.array([1, -2, 3])
    out = ember.mv(ember.tensor(m), ember.tensor(v))
    ref = torch.mv(torch.tensor(m), torch.tensor(v))
    np.testing.assert_array_equal(out.array, ref.numpy())
    assert out.dtype == np.int64


# ---------------------------------------------------------------- addr / ger
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta, alpha", SCALES)
@pytest.mark.parametrize("in_shape", [(3, 4), (1, 4), (3, 1), (4,), ()])
def test_addr_matches_torch(torch, dtype, beta, alpha, in_shape):
    arrays = rand(*in_shape, dtype=dtype, seed=1), rand(3, dtype=dtype), rand(4, dtype=dtype)
    es, ts = leaves(torch, *arrays)
    out_e = ember.addr(*es, beta=beta, alpha=alpha)
    check(torch, out_e, torch.addr(*ts, beta=beta, alpha=alpha), es, ts, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_ger_matches_torch(torch, dtype):
    es, ts = leaves(torch, rand(3, dtype=dtype), rand(5, dtype=dtype, seed=3))
    check(torch, ember.ger(*es), torch.ger(*ts), es, ts, dtype)
    es, ts = leaves(torch, rand(3, dtype=dtype), rand(5, dtype=dtype, seed=3))
    check(torch, es[0].ger(es[1]), ts[0].ger(ts[1]), es, ts, dtype)


# ---------------------------------------------------------------- addbmm / baddbmm
BMM_INPUTS = [("addbmm", s) for s in [(3, 5), (5,), (1, 1)]]
BMM_INPUTS += [("baddbmm", s) for s in [(4, 3, 5), (3, 5), (4, 1, 5), ()]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta, alpha", SCALES)
@pytest.mark.parametrize("name, in_shape", BMM_INPUTS)
def test_addbmm_and_baddbmm_match_torch(torch, dtype, beta, alpha, name, in_shape):
    arrays = (
        rand(*in_shape, dtype=dtype, seed=1),
        rand(4, 3, 2, dtype=dtype),
        rand(4, 2, 5, dtype=dtype, seed=2),
    )
    es, ts = leaves(torch, *arrays)
    out_e = getattr(ember, name)(*es, beta=beta, alpha=alpha)
    check(torch, out_e, getattr(torch, name)(*ts, beta=beta, alpha=alpha), es, ts, dtype)


@pytest.mark.parametrize("name", ["addmv", "addr", "addbmm", "baddbmm"])
def test_add_products_methods_and_in_place(torch, name):
    shapes = {
        "addmv": [(3,), (3, 4), (4,)],
        "addr": [(3, 4), (3,), (4,)],
        "addbmm": [(3, 5), (2, 3, 4), (2, 4, 5)],
        "baddbmm": [(2, 3, 5), (2, 3, 4), (2, 4, 5)],
    }[name]
    a, b, c = (rand(*s, seed=i) for i, s in enumerate(shapes))
    t_out = getattr(torch.tensor(a), name)(torch.tensor(b), torch.tensor(c), beta=0.5, alpha=3)
    e_out = getattr(ember.tensor(a), name)(ember.tensor(b), ember.tensor(c), beta=0.5, alpha=3)
    np.testing.assert_allclose(e_out.array, t_out.numpy(), rtol=1e-12)
    x = ember.tensor(a.copy())
    r = getattr(x, name + "_")(ember.tensor(b), ember.tensor(c), beta=0.5, alpha=3)
    assert r is x
    np.testing.assert_allclose(x.array, t_out.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- chain_matmul / vdot / inner
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [[(3, 4)], [(3, 4), (4, 2)], [(2, 5), (5, 3), (3, 6), (6, 2)]])
def test_chain_matmul_matches_torch(torch, dtype, shapes):
    es, ts = leaves(torch, *(rand(*s, dtype=dtype, seed=i) for i, s in enumerate(shapes)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = torch.chain_matmul(*ts)
    check(torch, ember.chain_matmul(*es), t_out, es, ts, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_vdot_matches_torch(torch, dtype):
    es, ts = leaves(torch, rand(6, dtype=dtype), rand(6, dtype=dtype, seed=4))
    check(torch, ember.vdot(*es), torch.vdot(*ts), es, ts, dtype)
    es, ts = leaves(torch, rand(6, dtype=dtype), rand(6, dtype=dtype, seed=4))
    check(torch, es[0].vdot(es[1]), ts[0].vdot(ts[1]), es, ts, dtype)


INNER_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 5, 3)), ((), (2, 3)), ((2, 4), ())]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa, sb", INNER_SHAPES)
def test_inner_matches_torch(torch, dtype, sa, sb):
    es, ts = leaves(torch, rand(*sa, dtype=dtype), rand(*sb, dtype=dtype, seed=5))
    check(torch, ember.inner(*es), torch.inner(*ts), es, ts, dtype)
    es, ts = leaves(torch, rand(*sa, dtype=dtype), rand(*sb, dtype=dtype, seed=5))
    check(torch, es[0].inner(es[1]), ts[0].inner(ts[1]), es, ts, dtype)


# ---------------------------------------------------------------- matrix_power / matrix_exp
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 3, 6])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_matrix_power_matches_torch(torch, dtype, n, shape):
    a = (rand(*shape) * 0.3 + np.eye(shape[-1])).astype(dtype)  # well conditioned
    es, ts = leaves(torch, a)
    check(torch, ember.matrix_power(es[0], n), torch.matrix_power(ts[0], n), es, ts, dtype)
    es, ts = leaves(torch, a)
    check(torch, es[0].matrix_power(n), ts[0].matrix_power(n), es, ts, dtype)


@pytest.mark.parametrize("where", ["matrix_power", "linalg.matrix_power"])
def test_matrix_power_integer(torch, where):
    def fn(lib):
        return lib.linalg.matrix_power if where.startswith("linalg") else lib.matrix_power

    a = np.array([[1, 2], [3, 4]])
    for n in (0, 1, 2, 3, 5):
        out = fn(ember)(ember.tensor(a), n)
        ref = fn(torch)(torch.tensor(a), n)
        np.testing.assert_array_equal(out.array, ref.numpy())
        assert out.dtype == np.int64
    for bad, n in ((a, -1), (a[:1], 2)):
        same_error(
            torch,
            lambda bad=bad, n=n: fn(ember)(ember.tensor(bad), n),
            lambda bad=bad, n=n: fn(torch)(torch.tensor(bad), n),
        )


def test_integer_products_match_torch(torch):
    m, v, w = np.arange(6).reshape(2, 3), np.array([1, -2, 3]), np.array([4, 5])
    b1, b2 = np.arange(12).reshape(2, 2, 3), np.arange(12).reshape(2, 3, 2) - 5
    cases = [
        ("addmv", (w, m, v), dict(beta=2, alpha=3)),
        ("addr", (m, w, v), dict(beta=2, alpha=-1)),
        ("baddbmm", (np.ones((2, 2), dtype=np.int64), b1, b2), dict(alpha=2)),
        ("addbmm", (np.ones((2, 2), dtype=np.int64), b1, b2), dict(beta=0)),
        ("vdot", (v, v), {}),
        ("inner", (m, m), {}),
        ("ger", (v, w), {}),
    ]
    for name, arrays, kw in cases:
        out = getattr(ember, name)(*(ember.tensor(a) for a in arrays), **kw)
        ref = getattr(torch, name)(*(torch.tensor(a) for a in arrays), **kw)
        assert out.dtype == np.int64, name
        np.testing.assert_array_equal(out.array, ref.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_matrix_exp_matches_torch(torch, dtype, shape):
    es, ts = leaves(torch, (rand(*shape) * 0.5).astype(dtype))
    check(torch, ember.matrix_exp(es[0]), torch.matrix_exp(ts[0]), es, ts, dtype)
    es, ts = leaves(torch, (rand(*shape) * 0.5).astype(dtype))
    check(torch, es[0].matrix_exp(), ts[0].matrix_exp(), es, ts, dtype)


# ---------------------------------------------------------------- logdet / slogdet
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_logdet_matches_torch(torch, dtype, shape):
    es, ts = leaves(torch, spd(*shape, dtype=dtype))
    check(torch, ember.logdet(es[0]), torch.logdet(ts[0]), es, ts, dtype)
    es, ts = leaves(torch, spd(*shape, dtype=dtype))
    check(torch, es[0].logdet(), ts[0].logdet(), es, ts, dtype)


def test_logdet_negative_and_singular(torch):
    a = np.stack([np.diag([-1.0, 2.0, 3.0]), np.zeros((3, 3)), np.diag([1.0, 2.0, 3.0])])
    out = ember.logdet(ember.tensor(a)).array
    ref = torch.logdet(torch.tensor(a)).numpy()
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    assert np.isnan(out[0]) and out[1] == -np.inf
    np.testing.assert_allclose(out[1:], ref[1:], rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_slogdet_matches_torch(torch, dtype, shape):
    es, ts = leaves(torch, (rand(*shape) + 2 * np.eye(shape[-1])).astype(dtype))
    e_out, t_out = ember.slogdet(es[0]), torch.slogdet(ts[0])
    assert type(e_out).__name__ == type(t_out).__name__ == "slogdet"
    assert e_out._fields == ("sign", "logabsdet")
    check(torch, tuple(e_out), tuple(t_out), es, ts, dtype)
    sign, logabsdet = es[0].slogdet()
    np.testing.assert_allclose(logabsdet.array, t_out.logabsdet.detach().numpy(), **tol(dtype))
    np.testing.assert_array_equal(sign.array, t_out.sign.detach().numpy())


def test_slogdet_negative_sign(torch):
    a = np.diag([-2.0, 3.0, 0.5])
    e, t = ember.slogdet(ember.tensor(a)), torch.slogdet(torch.tensor(a))
    assert e.sign.item() == t.sign.item() == -1
    np.testing.assert_allclose(e.logabsdet.item(), t.logabsdet.item(), rtol=1e-12)


# ---------------------------------------------------------------- pinverse
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 5), (2, 3, 4)])
def test_pinverse_matches_torch(torch, dtype, shape):
    k = min(shape[-2:])
    a = rand(*shape)
    a[..., :k, :k] += 3 * np.eye(k)  # full rank, well conditioned
    es, ts = leaves(torch, a.astype(dtype))
    check(torch, ember.pinverse(es[0]), torch.pinverse(ts[0]), es, ts, dtype)
    es, ts = leaves(torch, a.astype(dtype))
    check(torch, es[0].pinverse(), ts[0].pinverse(), es, ts, dtype)


def test_pinverse_rcond_drops_small_singular_values(torch):
    u, _ = np.linalg.qr(rand(4, 4))
    v, _ = np.linalg.qr(rand(3, 3, seed=1))
    a = u[:, :3] @ np.diag([2.0, 1.0, 1e-3]) @ v.T
    for rcond in (1e-15, 1e-2):
        out = ember.pinverse(ember.tensor(a), rcond=rcond).array
        np.testing.assert_allclose(out, torch.pinverse(torch.tensor(a), rcond).numpy(), rtol=1e-9)
    assert np.abs(ember.pinverse(ember.tensor(a), 1e-2).array).max() < 10


# ---------------------------------------------------------------- lu
def torch_lu(torch, a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.lu(a, **kw)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (2, 2, 5, 5)])
def test_lu_matches_torch(torch, dtype, shape):
    es, ts = leaves(torch, rand(*shape, dtype=dtype))
    e_out, t_out = ember.lu(es[0]), torch_lu(torch, ts[0])
    assert type(e_out) is tuple and len(e_out) == 2
    assert e_out[1].dtype == np.int32
    np.testing.assert_array_equal(e_out[1].array, t_out[1].numpy())
    check(torch, e_out[0], t_out[0], es, ts, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (2, 4, 6), (2, 6, 4), (1, 3)])
def test_lu_rectangular_matches_torch(torch, dtype, shape):
    es, ts = leaves(torch, rand(*shape, dtype=dtype))
    (lu_e, piv_e), (lu_t, piv_t) = ember.lu(es[0]), torch_lu(torch, ts[0])
    np.testing.assert_array_equal(piv_e.array, piv_t.numpy())
    check(torch, lu_e, lu_t, es, ts, dtype)


def test_lu_pivots_and_info_carry_no_gradient(torch):
    lu_e, piv_e, info_e = ember.lu(ember.tensor(rand(3, 3), requires_grad=True), get_infos=True)
    lu_t, piv_t, info_t = torch_lu(
        torch, torch.tensor(rand(3, 3), requires_grad=True), get_infos=True
    )
    assert lu_e.requires_grad == lu_t.requires_grad is True
    assert piv_e.requires_grad == piv_t.requires_grad is False
    assert info_e.requires_grad == info_t.requires_grad is False


def test_lu_get_infos_and_singular(torch):
    a = np.stack([rand(3, 3), np.zeros((3, 3)), np.array([[1.0, 2, 3], [2, 4, 6], [0, 1, 1]])])
    e_out = ember.lu(ember.tensor(a), get_infos=True)
    t_out = torch_lu(torch, torch.tensor(a), get_infos=True)
    assert type(e_out).__name__ == "_lu_with_info" and e_out._fields == ("LU", "pivots", "info")
    np.testing.assert_allclose(e_out.LU.array, t_out.LU.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(e_out.pivots.array, t_out.pivots.numpy())
    np.testing.assert_array_equal(e_out.info.array, t_out.info.numpy())
    assert e_out.info.dtype == np.int32 and e_out.info.array[1] == 1
    lu_m, piv_m, info_m = ember.tensor(a).lu(get_infos=True)
    np.testing.assert_array_equal(info_m.array, t_out.info.numpy())


def test_lu_reconstructs_a():
    a = rand(3, 5, 5)
    lu_, piv = ember.lu(ember.tensor(a))
    lo = np.tril(lu_.array, -1) + np.eye(5)
    up = np.triu(lu_.array)
    rec = lo @ up
    for b in range(3):  # undo the row swaps of batch b
        m = a[b].copy()
        for k, p in enumerate(piv.array[b] - 1):
            m[[k, p]] = m[[p, k]]
        np.testing.assert_allclose(rec[b], m, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- cholesky_solve
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("sb, sl", [((3, 2), (3, 3)), ((2, 4, 3), (2, 4, 4)), ((4, 1), (2, 4, 4))])
def test_cholesky_solve_matches_torch(torch, dtype, upper, sb, sl):
    chol = np.linalg.cholesky(spd(*sl))
    factor = np.swapaxes(chol, -1, -2) if upper else chol
    es, ts = leaves(torch, rand(*sb, dtype=dtype, seed=3), factor.astype(dtype))
    e_out = ember.cholesky_solve(es[0], es[1], upper)
    check(torch, e_out, torch.cholesky_solve(ts[0], ts[1], upper), es, ts, dtype)
    es, ts = leaves(torch, rand(*sb, dtype=dtype, seed=3), factor.astype(dtype))
    e_out = es[0].cholesky_solve(es[1], upper=upper)
    check(torch, e_out, ts[0].cholesky_solve(ts[1], upper=upper), es, ts, dtype)


def test_cholesky_solve_reads_only_the_triangle(torch):
    chol = np.linalg.cholesky(spd(3, 3)) + np.triu(rand(3, 3, seed=9), 1)  # garbage above
    b = rand(3, 2, seed=1)
    out = ember.cholesky_solve(ember.tensor(b), ember.tensor(chol))
    ref = torch.cholesky_solve(torch.tensor(b), torch.tensor(chol))
    np.testing.assert_allclose(out.array, ref.numpy(), rtol=1e-10)


# ---------------------------------------------------------------- triangular_solve
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("unitriangular", [False, True])
@pytest.mark.parametrize("sb, sa", [((3, 2), (3, 3)), ((2, 4, 3), (2, 4, 4)), ((4, 1), (2, 4, 4))])
def test_triangular_solve_matches_torch(torch, dtype, upper, transpose, unitriangular, sb, sa):
    arrays = rand(*sb, dtype=dtype, seed=3), tri(*sa, upper=upper, dtype=dtype)
    es, ts = leaves(torch, *arrays)
    e_out = ember.triangular_solve(es[0], es[1], upper, transpose, unitriangular)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = torch.triangular_solve(ts[0], ts[1], upper, transpose, unitriangular)
    assert type(e_out).__name__ == "triangular_solve"
    assert e_out._fields == ("solution", "cloned_coefficient")
    check(torch, tuple(e_out), tuple(t_out), es, ts, dtype)


def test_triangular_solve_defaults_and_method(torch):
    b, a = rand(3, 2, seed=3), tri(3, 3, upper=True)
    e_out = ember.tensor(b).triangular_solve(ember.tensor(a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = torch.tensor(b).triangular_solve(torch.tensor(a))
    np.testing.assert_allclose(e_out.solution.array, t_out.solution.numpy(), rtol=1e-10)
    np.testing.assert_array_equal(e_out.cloned_coefficient.array, a)


# ---------------------------------------------------------------- frexp / ldexp
@pytest.mark.parametrize("dtype", DTYPES)
def test_frexp_matches_torch(torch, dtype):
    a = (rand(4, 5) * 10.0 ** np.arange(-2, 3)).astype(dtype)
    es, ts = leaves(torch, a)
    e_out, t_out = ember.frexp(es[0]), torch.frexp(ts[0])
    assert type(e_out).__name__ == "frexp" and e_out._fields == ("mantissa", "exponent")
    assert e_out.exponent.dtype == np.int32
    np.testing.assert_array_equal(e_out.exponent.array, t_out.exponent.numpy())
    check(torch, e_out.mantissa, t_out.mantissa, es, ts, dtype)
    m, e = ember.tensor(a).frexp()
    np.testing.assert_array_equal(m.array, t_out.mantissa.detach().numpy())


def test_frexp_special_values(torch):
    a = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-310, 1.0, -0.75])
    e_out, t_out = ember.frexp(ember.tensor(a)), torch.frexp(torch.tensor(a))
    np.testing.assert_array_equal(e_out.mantissa.array, t_out.mantissa.numpy())
    np.testing.assert_array_equal(e_out.exponent.array, t_out.exponent.numpy())
    np.testing.assert_array_equal(np.signbit(e_out.mantissa.array), [0, 1, 0, 1, 0, 0, 0, 1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("exp_dtype", [np.int64, np.int32, np.float32, np.float64])
def test_ldexp_matches_torch(torch, dtype, exp_dtype):
    x = rand(3, 4, dtype=dtype)
    e = np.array([-3, 0, 2, 5]).astype(exp_dtype)
    es, ts = leaves(torch, x)
    if exp_dtype in (np.float32, np.float64):
        (ee,), (te,) = leaves(torch, e)
        es, ts = es + [ee], ts + [te]
        check(torch, ember.ldexp(es[0], ee), torch.ldexp(ts[0], te), es, ts, dtype)
        return
    # an integer exponent: torch's own gradient rounds 2^-3 to 0 (an integer pow in its
    # LdexpBackward), so the gradient is checked against the same exponent as a float
    ee = ember.tensor(e)
    out, ref = ember.ldexp(es[0], ee), torch.ldexp(torch.tensor(x), torch.tensor(e))
    assert out.dtype == np.dtype(str(ref.dtype).replace("torch.", ""))
    np.testing.assert_array_equal(out.array, ref.numpy())
    check(torch, out, torch.ldexp(ts[0], torch.tensor(e.astype(dtype))), es, ts, dtype)


def test_ldexp_integer_input_and_in_place(torch):
    x, e = np.array([1, -2, 3]), np.array([2, 0, -1])
    out = ember.ldexp(ember.tensor(x), ember.tensor(e))
    ref = torch.ldexp(torch.tensor(x), torch.tensor(e))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.array, ref.numpy())
    y = ember.tensor(np.array([1.5, 2.0, -3.0]))
    assert y.ldexp_(ember.tensor(e)) is y
    np.testing.assert_array_equal(y.array, [6.0, 2.0, -1.5])
    np.testing.assert_array_equal(
        ember.tensor([1.0, 2.0]).ldexp(ember.tensor([1, 2])).array, [2, 8]
    )


# ---------------------------------------------------------------- gcd / lcm
GCD_CASES = [
    (np.array([4, -6, 0, 0, 12, 7]), np.array([6, 4, 0, -5, -18, 13])),
    (np.array([[4], [9], [-15]]), np.array([6, 3, 10])),
]


@pytest.mark.parametrize("name", ["gcd", "lcm"])
@pytest.mark.parametrize("case", range(len(GCD_CASES)))
@pytest.mark.parametrize(
    "dtypes", [(np.int64, np.int64), (np.int32, np.int32), (np.int16, np.int64)]
)
def test_gcd_lcm_match_torch(torch, name, case, dtypes):
    a, b = GCD_CASES[case]
    a, b = a.astype(dtypes[0]), b.astype(dtypes[1])
    out = getattr(ember, name)(ember.tensor(a), ember.tensor(b))
    ref = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    assert out.dtype == np.dtype(str(ref.dtype).replace("torch.", ""))
    np.testing.assert_array_equal(out.array, ref.numpy())
    method = getattr(ember.tensor(a), name)(ember.tensor(b))
    np.testing.assert_array_equal(method.array, ref.numpy())


@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_promote_a_bool_beside_integers_as_torch(torch, name):
    """bool with int64 is int64 (ember refused the bool operand itself); bool with bool and
    bool with float are refused, naming the common dtype as torch's message does."""
    pairs = [([True, False], [2, 3]), ([True], [True]), ([True], [2.5])]
    for a, b in pairs:
        results = []
        for lib in (ember, torch):
            try:
                r = getattr(lib, name)(lib.tensor(a), lib.tensor(b))
                results.append((str(r.dtype).replace("torch.", ""), r.tolist()))
            except NotImplementedError as e:
                results.append(str(e))
            except RuntimeError as e:  # torch's NotImplementedError is a RuntimeError
                results.append(str(e))
        assert results[0] == results[1]


@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_in_place(torch, name):
    a, b = GCD_CASES[0]
    x = ember.tensor(a.copy())
    assert getattr(x, name + "_")(ember.tensor(b)) is x
    ref = getattr(torch.tensor(a), name + "_")(torch.tensor(b))
    np.testing.assert_array_equal(x.array, ref.numpy())


# ---------------------------------------------------------------- copysign
@pytest.mark.parametrize("dtype", DTYPES)
def test_copysign_matches_torch(torch, dtype):
    x = rand(3, 4, dtype=dtype)
    x[0, 0] = 0.0
    other = rand(3, 4, dtype=dtype, seed=6)
    other[1, :2] = [0.0, -0.0]
    es, ts = leaves(torch, x, other)
    check(torch, ember.copysign(*es), torch.copysign(*ts), es, ts, dtype)
    es, ts = leaves(torch, x, other[:1])  # broadcast
    check(torch, ember.copysign(*es), torch.copysign(*ts), es, ts, dtype)


@pytest.mark.parametrize(
    "x, other",
    [
        (np.array([1, -2, 3]), np.array([-1, 2, -3])),
        (np.array([1, -2, 3]), -1.0),
        (np.array([1, -2, 3]), -0.0),
        (np.array([1.0, -2.0], dtype=np.float32), np.array([-1.0, 1.0])),
        (np.array([1.0, -2.0], dtype=np.float32), np.array(-1.0)),
        (np.array([1.0, -2.0], dtype=np.float64), 2),
    ],
)
def test_copysign_dtypes_match_torch(torch, x, other):
    e_other = ember.tensor(other) if isinstance(other, np.ndarray) else other
    t_other = torch.tensor(other) if isinstance(other, np.ndarray) else other
    out = ember.copysign(ember.tensor(x), e_other)
    ref = torch.copysign(torch.tensor(x), t_other)
    assert out.dtype == np.dtype(str(ref.dtype).replace("torch.", ""))
    np.testing.assert_array_equal(out.array, ref.numpy())
    np.testing.assert_array_equal(np.signbit(out.array), np.signbit(ref.numpy()))


def test_copysign_method_and_in_place(torch):
    x, o = np.array([1.0, -2.0, 0.0]), np.array([-1.0, -0.0, -3.0])
    ref = torch.tensor(x).copysign(torch.tensor(o)).numpy()
    np.testing.assert_array_equal(ember.tensor(x).copysign(ember.tensor(o)).array, ref)
    y = ember.tensor(x.copy())
    assert y.copysign_(ember.tensor(o)) is y
    np.testing.assert_array_equal(y.array, ref)
    np.testing.assert_array_equal(np.signbit(y.array), [1, 1, 1])


# ---------------------------------------------------------------- gradcheck (float64)
def _g(*arrays):
    return tuple(ember.tensor(a, requires_grad=True) for a in arrays)


def test_gradchecks():
    gc = ember.gradcheck
    assert gc(
        lambda i, m, v: ember.addmv(i, m, v, beta=0.5, alpha=2), _g(rand(3), rand(3, 2), rand(2))
    )
    assert gc(
        lambda i, a, b: ember.addr(i, a, b, beta=2, alpha=-1), _g(rand(3, 2), rand(3), rand(2))
    )
    assert gc(
        lambda i, a, b: ember.addbmm(i, a, b, beta=0.5, alpha=2),
        _g(rand(3, 4), rand(2, 3, 2), rand(2, 2, 4)),
    )
    assert gc(
        lambda i, a, b: ember.baddbmm(i, a, b, beta=0.5, alpha=2),
        _g(rand(3, 4), rand(2, 3, 2), rand(2, 2, 4)),
    )
    assert gc(ember.mv, _g(rand(3, 2), rand(2)))
    assert gc(ember.vdot, _g(rand(4), rand(4, seed=1)))
    assert gc(ember.inner, _g(rand(2, 3), rand(4, 3)))
    assert gc(ember.ger, _g(rand(2), rand(3)))
    assert gc(ember.chain_matmul, _g(rand(2, 3), rand(3, 4), rand(4, 2)))
    well = rand(2, 3, 3) * 0.3 + np.eye(3)
    assert gc(lambda a: ember.matrix_power(a, -2), _g(well))
    assert gc(lambda a: ember.matrix_power(a, 5), _g(well))
    assert gc(ember.matrix_exp, _g(rand(3, 3) * 0.5))
    assert gc(ember.logdet, _g(spd(2, 3, 3)))
    assert gc(lambda a: ember.slogdet(a).logabsdet, _g(well))
    assert gc(ember.pinverse, _g(rand(4, 3) + np.eye(4, 3) * 3))
    assert gc(lambda a: ember.lu(a)[0], _g(rand(2, 4, 4)))
    assert gc(lambda a: ember.lu(a)[0], _g(rand(2, 3, 5)))
    assert gc(lambda a: ember.lu(a)[0], _g(rand(5, 3)))
    chol = np.linalg.cholesky(spd(3, 3))
    # only the triangle is read, so the finite differences see only the triangle (torch's
    # gradient, checked above, also fills the other one)
    assert gc(lambda b, f: ember.cholesky_solve(b, f.tril()), _g(rand(3, 2), chol))
    assert gc(lambda b, f: ember.cholesky_solve(b, f.triu(), True), _g(rand(3, 2), chol.T.copy()))
    for transpose in (False, True):
        for unit in (False, True):
            assert gc(
                lambda b, a, t=transpose, u=unit: ember.triangular_solve(b, a, False, t, u)[0],
                _g(rand(3, 2), tri(3, 3, upper=False)),
            )
    assert gc(lambda x: ember.frexp(x).mantissa, _g(rand(5) * 7))
    assert gc(ember.ldexp, _g(rand(4), rand(4, seed=1)))
    assert gc(lambda x: ember.copysign(x, ember.tensor(rand(4, seed=2))), _g(rand(4)))


# ---------------------------------------------------------------- errors
def _both(torch, *arrays):
    return [ember.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


ERRORS = [
    ("addmv", [(3, 3), (3, 3), (3,)], {}),
    ("addmv", [(3,), (3, 3), (4,)], {}),
    ("addmv", [(2,), (3, 3), (3,)], {}),
    ("mv", [(3,), (3,)], {}),
    ("mv", [(3, 3), (4,)], {}),
    ("addr", [(3, 3), (3, 3), (3,)], {}),
    ("addr", [(3, 3), (3,), (3, 1)], {}),
    ("addr", [(3, 3), (3,), (2,)], {}),
    ("ger", [(3, 3), (3,)], {}),
    ("addbmm", [(3, 3), (2, 3, 4), (3, 4, 3)], {}),
    ("addbmm", [(3, 3), (2, 3, 4), (2, 5, 3)], {}),
    ("addbmm", [(4, 3), (2, 3, 4), (2, 4, 3)], {}),
    ("baddbmm", [(3, 3), (2, 3, 4), (2, 5, 3)], {}),
    ("baddbmm", [(4, 3, 3), (2, 3, 4), (2, 4, 3)], {}),
    ("vdot", [(3, 3), (3, 3)], {}),
    ("vdot", [(3,), (2,)], {}),
    ("inner", [(2, 3), (4,)], {}),
    ("chain_matmul", [(3, 3), (3,)], {}),
    ("chain_matmul", [], {}),
    ("logdet", [(3,)], {}),
    ("slogdet", [(3,)], {}),
    ("pinverse", [(3,)], {}),
    ("matrix_exp", [(3,)], {}),
    ("matrix_power", [(3,)], {"n": 2}),
    ("lu", [(3,)], {}),
    ("lu", [(3, 3)], {"pivot": False}),
    ("cholesky_solve", [(3,), (3, 3)], {}),
    ("cholesky_solve", [(3, 2), (2, 2)], {}),
    ("cholesky_solve", [(3, 2), (2, 3)], {}),
    ("triangular_solve", [(3,), (3, 3)], {}),
    ("triangular_solve", [(3, 2), (2, 2)], {}),
    ("triangular_solve", [(3, 2), (2, 3)], {}),
]


@pytest.mark.parametrize("name, shapes, kwargs", ERRORS)
def test_errors_match_torch(torch, name, shapes, kwargs):
    es, ts = _both(torch, *(rand(*s, seed=i) for i, s in enumerate(shapes)))
    same_error(
        torch,
        lambda: getattr(ember, name)(*es, **kwargs),
        lambda: getattr(torch, name)(*ts, **kwargs),
    )


_F32, _F64 = rand(3, 3, dtype=np.float32), rand(3, 3)
DTYPE_ERRORS = [
    ("addmv", (_F64[0].astype(np.float32), _F64, _F64[0])),
    ("addmv", (_F64[0], _F64, _F32[0])),
    ("mv", (_F64, _F64[0].astype(np.float32))),
    ("mv", (_F32, _F64[0])),
    ("vdot", (_F64[0], _F32[0])),
    ("baddbmm", (_F64, _F64[None], _F32[None])),
    ("baddbmm", (_F32, _F64[None], _F64[None])),
    ("addbmm", (_F64, _F64[None], _F32[None])),
    ("addbmm", (_F32, _F64[None], _F64[None])),
    ("cholesky_solve", (_F64, _F32)),
    ("triangular_solve", (_F32, _F64)),
    ("frexp", (np.array([1, 2]),)),
    ("gcd", (np.array([1.0]), np.array([2]))),
    ("lcm", (np.array([True]), np.array([True]))),
    ("logdet", (np.eye(2, dtype=np.int64),)),
    ("lu", (np.eye(2, dtype=np.int64),)),
]


@pytest.mark.parametrize("name, arrays", DTYPE_ERRORS)
def test_dtype_errors_match_torch(torch, name, arrays):
    es, ts = _both(torch, *arrays)
    same_error(torch, lambda: getattr(ember, name)(*es), lambda: getattr(torch, name)(*ts))


def test_type_errors_match_torch(torch):
    x = rand(3)
    same_error(
        torch, lambda: ember.gcd(ember.tensor([4]), 2), lambda: torch.gcd(torch.tensor([4]), 2)
    )
    same_error(
        torch, lambda: ember.ldexp(ember.tensor(x), 2), lambda: torch.ldexp(torch.tensor(x), 2)
    )
    same_error(
        torch,
        lambda: ember.matrix_power(ember.tensor(rand(3, 3)), 2.0),
        lambda: torch.matrix_power(torch.tensor(rand(3, 3)), 2.0),
    )


def test_methods_exist_where_torch_has_them(torch):
    for module in (ember.torch_linalg_funcs, ember.torch_int_math):
        for name in module.__all__:
            for suffix in ("", "_"):
                assert hasattr(ember.Tensor, name + suffix) == hasattr(
                    torch.Tensor, name + suffix
                ), name + suffix
            top = getattr(ember, name)  # torch's out= may wrap it (out_argument.py)
            assert hasattr(torch, name) and getattr(top, "without_out", top) is getattr(
                module, name
            )


def test_linalg_matmul_of_integers(torch):
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4) - 5
    got = ember.linalg.matmul(ember.tensor(a), ember.tensor(b))
    want = torch.linalg.matmul(torch.tensor(a), torch.tensor(b))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert got.dtype == np.int64
