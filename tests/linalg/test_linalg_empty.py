"""ember.linalg on empty matrices (0×0, 3×0, 0×3, a batch of them, an empty batch of 3×3) against
torch.linalg: each function's results (shapes, dtypes, values, which outputs require grad), its
error where torch refuses (the same class), and the input's gradient after back-propagating
Σ W·Y through the outputs torch can differentiate (None where torch's is None). Then the few
non-empty cases found beside them: matrix_power(A, 0) keeps A in the graph with a zero
gradient, complex lstsq's residuals are real, matmul and linear back-propagate through an
empty operand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.functional as F

INF = math.inf
SQUARE = [(0, 0), (2, 0, 0), (0, 3, 3)]
SHAPES = SQUARE + [(3, 0), (0, 3), (2, 3, 0), (0, 2, 3)]
MATRICES = [(0, 0), (3, 0), (0, 3)]
DTYPES = [np.float64, np.float32]
LSTSQ = [None, "gels", "gelsy", "gelsd", "gelss"]


def _ones(m, shape, a):
    return m.ones(*shape, dtype=a.dtype)


def _rhs(m, a):  # B (*, n, 2) for A (*, n, n)
    return _ones(m, a.shape[:-1] + (2,), a)


def _lu_solve(**kw):
    def f(m, a):
        LU, piv = m.linalg.lu_factor(a)  # noqa: N806
        shape = a.shape[:-1] + (2,) if kw.get("left", True) else a.shape[:-2] + (2, a.shape[-1])
        return m.linalg.lu_solve(LU, piv, _ones(m, shape, a), **kw)

    return f


def _ldl_solve(m, a):
    LD, piv = m.linalg.ldl_factor(a.detach())  # noqa: N806 - no derivative in torch
    return m.linalg.ldl_solve(LD, piv, _rhs(m, a))


def _householder(k=None):
    def f(m, a):
        n = min(a.shape[-2:]) if k is None else k
        return m.linalg.householder_product(a, _ones(m, a.shape[:-2] + (n,), a))

    return f


def _cond(p):
    return lambda m, a: m.linalg.cond(a, p)


def _matrix_norm(o, keepdim):
    return lambda m, a: m.linalg.matrix_norm(a, o, keepdim=keepdim)


def _vector_norm(o, dim):
    return lambda m, a: m.linalg.vector_norm(a, o, dim=dim)


def _matrix_power(n):
    return lambda m, a: m.linalg.matrix_power(a, n)


def _lstsq(driver):
    return lambda m, a: tuple(m.linalg.lstsq(a, _rhs(m, a), driver=driver))


# name → (f(module, A), shapes); f gets ``ember`` or ``torch`` and returns a tensor or a tuple
CASES = {
    "det": (lambda m, a: m.linalg.det(a), SHAPES),
    "slogdet": (lambda m, a: tuple(m.linalg.slogdet(a)), SHAPES),
    "logdet": (lambda m, a: m.logdet(a), SHAPES),
    "inv": (lambda m, a: m.linalg.inv(a), SHAPES),
    "inv_ex": (lambda m, a: tuple(m.linalg.inv_ex(a)), SHAPES),
    "cholesky": (lambda m, a: m.linalg.cholesky(a), SHAPES),
    "cholesky_ex": (lambda m, a: tuple(m.linalg.cholesky_ex(a)), SHAPES),
    "cholesky_ex_upper": (lambda m, a: tuple(m.linalg.cholesky_ex(a, upper=True)), SHAPES),
    "lu": (lambda m, a: tuple(m.linalg.lu(a)), SHAPES),
    "lu_factor": (lambda m, a: tuple(m.linalg.lu_factor(a)), SHAPES),
    "lu_factor_ex": (lambda m, a: tuple(m.linalg.lu_factor_ex(a)), SHAPES),
    "lu_solve": (_lu_solve(), SQUARE),
    "lu_solve_adjoint": (_lu_solve(adjoint=True), SQUARE),
    "lu_solve_right": (_lu_solve(left=False), SQUARE),
    **{f"cond[{p}]": (_cond(p), SHAPES) for p in [None, 2, -2, 1, -1, INF, -INF, "fro", "nuc"]},
    **{
        f"matrix_norm[{o}{', keepdim' if kd else ''}]": (_matrix_norm(o, kd), SHAPES)
        for o in ["fro", "nuc", 1, -1, 2, -2, INF, -INF]
        for kd in (False, True)
    },
    "norm[2, dim=(-2, -1)]": (lambda m, a: m.linalg.norm(a, 2, dim=(-2, -1)), SHAPES),
    "matrix_rank": (lambda m, a: m.linalg.matrix_rank(a), SHAPES),
    "matrix_rank[hermitian]": (lambda m, a: m.linalg.matrix_rank(a, hermitian=True), SHAPES),
    "matrix_rank[atol]": (lambda m, a: m.linalg.matrix_rank(a, atol=1.0, rtol=0.0), SHAPES),
    "matrix_exp": (lambda m, a: m.linalg.matrix_exp(a), SHAPES),
    **{
        f"vector_norm[{o}, dim={d}]": (_vector_norm(o, d), SHAPES)
        for o in [2, 0, INF, -INF, -0.5]
        for d in (None, -1, (0, 1))
    },
    **{f"matrix_power[{n}]": (_matrix_power(n), SHAPES) for n in [0, 1, 2, 3, -1, -2]},
    "svd": (lambda m, a: tuple(m.linalg.svd(a)), SHAPES),
    "svd[reduced]": (lambda m, a: tuple(m.linalg.svd(a, full_matrices=False)), SHAPES),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), SHAPES),
    "eigh": (lambda m, a: tuple(m.linalg.eigh(a)), SHAPES),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(a), SHAPES),
    "eig": (lambda m, a: tuple(m.linalg.eig(a)), SHAPES),
    "eigvals": (lambda m, a: m.linalg.eigvals(a), SHAPES),
    "qr": (lambda m, a: tuple(m.linalg.qr(a)), SHAPES),
    "qr[complete]": (lambda m, a: tuple(m.linalg.qr(a, mode="complete")), SHAPES),
    "qr[r]": (lambda m, a: tuple(m.linalg.qr(a, mode="r")), SHAPES),
    "pinv": (lambda m, a: m.linalg.pinv(a), SHAPES),
    "pinv[hermitian]": (lambda m, a: m.linalg.pinv(a, hermitian=True), SHAPES),
    "solve": (lambda m, a: m.linalg.solve(a, _rhs(m, a)), SHAPES),
    "solve[vector]": (lambda m, a: m.linalg.solve(a, _ones(m, a.shape[:-1], a)), SHAPES),
    "solve_ex": (lambda m, a: tuple(m.linalg.solve_ex(a, _rhs(m, a))), SHAPES),
    "solve_triangular": (
        lambda m, a: m.linalg.solve_triangular(a, _rhs(m, a), upper=True),
        SHAPES,
    ),
    "cholesky_solve": (lambda m, a: m.cholesky_solve(_rhs(m, a), a), SHAPES),
    "cholesky_inverse": (lambda m, a: m.cholesky_inverse(a), SHAPES),
    **{f"lstsq[{d}]": (_lstsq(d), SHAPES) for d in LSTSQ},
    "lstsq[gels, vector]": (
        lambda m, a: tuple(m.linalg.lstsq(a, _ones(m, a.shape[:-1], a), driver="gels")),
        SHAPES,
    ),
    "householder_product": (_householder(), SHAPES),
    "householder_product[k=0]": (_householder(0), SHAPES),
    "ldl_factor": (lambda m, a: tuple(m.linalg.ldl_factor(a)), SHAPES),
    "ldl_solve": (_ldl_solve, SQUARE),
    "multi_dot": (lambda m, a: m.linalg.multi_dot([a, a.mT, a]), MATRICES),
    "tensorinv": (lambda m, a: m.linalg.tensorinv(a, 1), MATRICES),
    "matmul[2-D]": (lambda m, a: m.linalg.matmul(a, _ones(m, (a.shape[-1], 2), a)), SHAPES),
}

# outputs torch records and ember detaches, whatever the shape (no gradient flows from them in
# either): slogdet's real sign (tests/test_complex_linalg.py holds ember's), qr's empty Q in mode
# 'r', lstsq's residuals. Not an empty-matrix matter: their requires_grad is not compared here
DETACHED = {("slogdet", 0), ("qr[r]", 0), *((f"lstsq[{d}]", 1) for d in LSTSQ)}

PARAMS = [
    pytest.param(name, shape, id=f"{name}-{shape}")
    for name, (_, shapes) in CASES.items()
    for shape in shapes
]


def _torch_dtype_name(t) -> str:
    return str(t.dtype).replace("torch.", "")


def _expected_error(err):
    """The class ember raises where torch raised ``err``: IndexError as torch's amin, else any
    RuntimeError (torch's LinAlgError is ember's, both RuntimeErrors)."""
    return IndexError if isinstance(err, IndexError) else RuntimeError


def _run(f, m, a):
    out = f(m, a)
    return list(out) if isinstance(out, tuple) else [out]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name, shape", PARAMS)
def test_empty_matches_torch(torch, name, shape, dtype):
    f = CASES[name][0]
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    ta = torch.tensor(a, requires_grad=True)
    ea = ember.tensor(a, requires_grad=True)
    try:
        ot = _run(f, torch, ta)
    except Exception as err:  # noqa: BLE001 - ember must refuse alike
        with pytest.raises(_expected_error(err)):
            _run(f, ember, ea)
        return
    oe = _run(f, ember, ea)
    assert len(oe) == len(ot)
    loss_t = loss_e = None
    rng = np.random.default_rng(1)
    for k, (e, t) in enumerate(zip(oe, ot)):
        assert tuple(e.shape) == tuple(t.shape), (k, e.shape, t.shape)
        assert e.dtype == np.dtype(_torch_dtype_name(t)), (k, e.dtype, t.dtype)
        if (name.replace(", vector", ""), k) not in DETACHED:
            assert e.requires_grad == t.requires_grad, (k, e.requires_grad, t.requires_grad)
        tn = t.detach().numpy()
        np.testing.assert_allclose(e.detach().numpy(), tn, rtol=1e-5, atol=1e-6, err_msg=str(k))
        if t.requires_grad:
            w = rng.standard_normal(tn.shape).astype(tn.dtype)
            lt, le = (t * torch.tensor(w)).sum(), (e * ember.tensor(w)).sum()
            loss_t = lt if loss_t is None else loss_t + lt
            loss_e = le if loss_e is None else loss_e + le
    if loss_t is None:
        return
    try:
        loss_t.backward()
    except RuntimeError:  # no derivative in torch (ldl_factor): none in ember either
        with pytest.raises(RuntimeError):
            loss_e.backward()
        return
    loss_e.backward()
    if ta.grad is None:
        assert ea.grad is None
        return
    assert ea.grad is not None and tuple(ea.grad.shape) == tuple(ta.grad.shape)
    assert ea.grad.dtype == ea.dtype
    np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "f",
    [
        lambda m, a: m.linalg.vector_norm(a, -1, dim=-1),
        lambda m, a: m.linalg.vector_norm(a, -INF, dim=(1, 0)),
        lambda m, a: m.linalg.vector_norm(a, INF),
        lambda m, a: m.linalg.vector_norm(a, -0.5, dim=()),
        lambda m, a: m.linalg.matrix_norm(a, -1),
        lambda m, a: m.linalg.matrix_norm(a, -2, keepdim=True),
        lambda m, a: m.linalg.matrix_norm(a, -INF, keepdim=True),
        lambda m, a: m.linalg.cond(a, "fro"),
        lambda m, a: m.linalg.cond(a, 3),
    ],
)
@pytest.mark.parametrize("shape", [(3, 0), (0, 0), (2, 3, 0)], ids=str)
def test_empty_errors_are_torchs(torch, f, shape):
    """Where torch refuses an empty input, ember raises the same class with torch's message."""
    try:
        f(torch, torch.zeros(shape, dtype=torch.float64))
    except Exception as err:  # noqa: BLE001
        with pytest.raises(type(err) if isinstance(err, IndexError) else RuntimeError) as got:
            f(ember, ember.zeros(*shape, dtype=np.float64))
        assert str(got.value).split(" (shape")[0] == str(err)
        return
    f(ember, ember.zeros(*shape, dtype=np.float64))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)], ids=str)
def test_matrix_power_zero_keeps_a_zero_gradient(torch, shape):
    a = np.random.default_rng(0).standard_normal(shape)
    ea, ta = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ye, yt = ember.linalg.matrix_power(ea, 0), torch.linalg.matrix_power(ta, 0)
    np.testing.assert_array_equal(ye.detach().numpy(), yt.detach().numpy())
    assert ye.requires_grad and yt.requires_grad
    w = np.random.default_rng(1).standard_normal(shape)
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(ea.grad.numpy(), ta.grad.numpy())  # zeros, not None


@pytest.mark.parametrize("driver", ["gels", "gelsd", "gelss"])
def test_complex_lstsq_residuals_are_real_squared_norms(torch, driver):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 5, 3)) + 1j * rng.standard_normal((2, 5, 3))
    b = rng.standard_normal((2, 5, 2)) + 1j * rng.standard_normal((2, 5, 2))
    re = ember.linalg.lstsq(ember.tensor(a), ember.tensor(b), driver=driver)
    rt = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    assert re.residuals.dtype == np.float64 and re.singular_values.dtype == np.float64
    np.testing.assert_allclose(re.residuals.numpy(), rt.residuals.numpy(), rtol=1e-9)


def test_vector_norm_zero_is_real_and_in_the_graph(torch):
    """ord 0 counts the non-zeros: real for complex x; torch records it, with no gradient."""
    x = np.array([[1 + 1j, 0], [0, 2j]])
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = ember.linalg.vector_norm(ex, 0), torch.linalg.vector_norm(tx, 0)
    assert ye.dtype == np.float64 and float(ye.detach().numpy()) == float(yt.detach()) == 2.0
    assert ye.requires_grad and yt.requires_grad
    ye.backward()
    yt.backward()
    assert ex.grad is None and tx.grad is None


@pytest.mark.parametrize(
    "sa, sb", [((2, 3, 0), (0, 2)), ((2, 3, 4), (4, 0)), ((0, 3, 4), (4, 2))], ids=str
)
def test_matmul_and_linear_backward_through_empty_operands(torch, sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    for fe, ft in [
        (lambda x, y: x @ y, lambda x, y: x @ y),
        (lambda x, y: F.linear(x, y.mT), lambda x, y: torch.nn.functional.linear(x, y.mT)),
    ]:
        ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        ye, yt = fe(ea, eb), ft(ta, tb)
        assert tuple(ye.shape) == tuple(yt.shape)
        w = rng.standard_normal(tuple(yt.shape))
        (ye * ember.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        for e, t in [(ea, ta), (eb, tb)]:
            assert tuple(e.grad.shape) == tuple(t.grad.shape)
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)
