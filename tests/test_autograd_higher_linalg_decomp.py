"""Second (and third) derivatives of qr, matrix_exp, pinv, lstsq, the LU factorization (ember.lu,
and lu_solve / lu_unpack built on it) and the negative-p vector norm against torch, float64:
the gradient with create_graph=True, then a Hessian-vector product through it; and
gradgradcheck on one small case per op."""

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(7)
SQ = RNG.standard_normal((2, 3, 3)) + 3.0 * np.eye(3)  # well-conditioned square matrices
TALL = RNG.standard_normal((2, 4, 3)) + 2.0 * np.eye(4, 3)  # full column rank
WIDE = RNG.standard_normal((2, 3, 4)) + 2.0 * np.eye(3, 4)  # full row rank
SMALL = 0.4 * RNG.standard_normal((2, 3, 3))  # ‖A‖₁ < θ₁₃: no squaring in matrix_exp
BIG = 2.5 * RNG.standard_normal((3, 3))  # ‖A‖₁ > θ₁₃: scaled and squared
SYM = SQ @ SQ.transpose(0, 2, 1)
B4 = RNG.standard_normal((2, 4, 2))
B3 = RNG.standard_normal((2, 3, 2))
X6 = RNG.standard_normal((2, 6)) + np.sign(RNG.standard_normal((2, 6)))  # no zeros


def _lu(lib, a):
    return lib.lu(a)[0] if lib is ember else lib.linalg.lu_factor(a)[0]


def _lu_solve(lib, b, a):
    lu, piv = lib.lu(a) if lib is ember else lib.linalg.lu_factor(a)
    return lib.lu_solve(b, lu, piv)


# name: (function of the inputs, the inputs); each function returns a scalar
CASES = {
    "matrix_exp": (
        lambda lib, a: (
            (lib.linalg.matrix_exp(a) ** 2).sum() + lib.linalg.matrix_exp(a)[1, 0, 2] ** 3
        ),
        [SMALL],
    ),
    "matrix_exp_scaled": (
        lambda lib, a, b: (lib.linalg.matrix_exp(a) @ b[0]).sum() ** 2,
        [BIG, B3],
    ),
    "qr_tall": (
        lambda lib, a: (
            (lib.linalg.qr(a)[0] ** 3).sum()
            + (lib.linalg.qr(a)[1] ** 2).sum()
            + lib.linalg.qr(a)[0][0, 1, 2] * lib.linalg.qr(a)[1][1, 0, 2]
        ),
        [TALL],
    ),
    "qr_square_q_only": (lambda lib, a, b: ((lib.linalg.qr(a)[0] @ b) ** 3).sum(), [SQ, B3]),
    "qr_square_r_only": (lambda lib, a: (lib.linalg.qr(a, mode="complete")[1] ** 3).sum(), [SQ]),
    "qr_wide": (
        lambda lib, a: (lib.linalg.qr(a)[0] ** 3).sum() + (lib.linalg.qr(a)[1] ** 3).sum(),
        [WIDE],
    ),
    "qr_wide_r_only": (lambda lib, a: (lib.linalg.qr(a)[1] ** 3).sum(), [WIDE]),
    "pinv_tall": (
        lambda lib, a: (lib.linalg.pinv(a) ** 3).sum() + lib.linalg.pinv(a)[0, 1, 2] ** 2,
        [TALL],
    ),
    "pinv_wide": (lambda lib, a, b: ((lib.linalg.pinv(a) @ b) ** 2).sum(), [WIDE, B3]),
    "pinv_square_hermitian": (
        lambda lib, a: (lib.linalg.pinv(a, hermitian=True) ** 3).sum(),
        [SYM],
    ),
    "lstsq_tall": (
        lambda lib, a, b: (lib.linalg.lstsq(a, b).solution ** 3).sum(),
        [TALL, B4],
    ),
    "lstsq_broadcast": (
        lambda lib, a, b: (lib.linalg.lstsq(a[:1], b).solution ** 2).sum() * b.sum(),
        [TALL, B4],
    ),
    "lstsq_wide_vector": (
        lambda lib, a, b: (lib.linalg.lstsq(a, b[:, :, 0]).solution ** 3).sum(),
        [WIDE, B3],
    ),
    "lu_square": (
        lambda lib, a: (_lu(lib, a) ** 3).sum() + _lu(lib, a)[1, 2, 0] * _lu(lib, a)[0, 0, 2],
        [SQ],
    ),
    "lu_tall": (lambda lib, a: (_lu(lib, a) ** 3).sum(), [TALL]),
    "lu_wide": (lambda lib, a: (_lu(lib, a) ** 3).sum(), [WIDE]),
    "lu_solve": (lambda lib, a, b: (_lu_solve(lib, b, a) ** 3).sum(), [SQ, B3]),
    "lu_unpack": (
        lambda lib, a: sum((t**3).sum() for t in lib.lu_unpack(*_lu_pair(lib, a))[1:]),
        [TALL],
    ),
    "negative_p_norm": (
        lambda lib, x: (
            (lib.linalg.vector_norm(x, ord=-1.5, dim=-1) ** 3).sum()
            + lib.linalg.vector_norm(x, ord=-3.0)
        ),
        [X6],
    ),
}


def _lu_pair(lib, a):
    return lib.lu(a) if lib is ember else lib.linalg.lu_factor(a)


def _direction(shape):
    return np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape)


def _run(lib, f, arrays):
    xs = [lib.tensor(x, requires_grad=True) for x in arrays]
    gs = lib.autograd.grad(f(lib, *xs), xs, create_graph=True)
    penalty = sum((g * lib.tensor(_direction(g.shape))).sum() + (g * g).sum() for g in gs)
    hv = lib.autograd.grad(penalty, xs)
    return [g.detach().numpy() for g in gs] + [h.numpy() for h in hv]


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_and_hessian_vector_product_match_torch(torch, name):
    f, arrays = CASES[name]
    for got, want in zip(_run(ember, f, arrays), _run(torch, f, arrays), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


def test_the_factors_equal_torchs(torch):
    """The sign conventions (QR's R diagonal) and the pivots are LAPACK's in both."""
    for a in (TALL, SQ, WIDE):
        for mine, theirs in zip(ember.linalg.qr(ember.tensor(a)), torch.linalg.qr(torch.tensor(a))):
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-13)
        lu, piv = ember.lu(ember.tensor(a))
        lu_t, piv_t = torch.linalg.lu_factor(torch.tensor(a))
        np.testing.assert_allclose(lu.numpy(), lu_t.numpy(), rtol=1e-12, atol=1e-13)
        np.testing.assert_array_equal(piv.numpy(), piv_t.numpy())


@pytest.mark.parametrize("a", [2.0 * SMALL[0], BIG], ids=["unscaled", "scaled_and_squared"])
def test_third_derivative_of_matrix_exp_matches_torch(torch, a):
    """Linear weights on the first and third gradients: (g·g) then (h·h) would make t a sum of
    ~1e9-sized terms that cancel, where torch's third derivative is the less accurate one (off
    by 5e-8 relative from central differences, ember's by 2e-9)."""
    v = _direction(a.shape)

    def run(lib):
        x = lib.tensor(a, requires_grad=True)
        y = (lib.linalg.matrix_exp(x) * lib.tensor(v)).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x, create_graph=True)
        (t,) = lib.autograd.grad((h * lib.tensor(v[::-1].copy())).sum(), x)
        return t.numpy()

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-8, atol=1e-10)


def test_qr_mode_r_has_no_second_derivative_either():
    a = ember.tensor(TALL[0], requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        ember.autograd.grad(ember.linalg.qr(a, mode="r")[1].sum(), a, create_graph=True)


GRADGRAD = {
    "matrix_exp": (lambda a: ember.linalg.matrix_exp(a), SMALL[0]),
    "qr_tall": (lambda a: ember.linalg.qr(a), TALL[0]),
    "qr_wide": (lambda a: ember.linalg.qr(a), WIDE[0]),
    "pinv": (lambda a: ember.linalg.pinv(a), WIDE[0]),
    "lstsq": (lambda a: ember.linalg.lstsq(a, a[:, :2] * a[:, 2:]).solution, TALL[0]),
    "lstsq_b_only": (lambda b: ember.linalg.lstsq(ember.tensor(WIDE[0]), b).solution ** 2, B3[0]),
    "lu": (lambda a: ember.lu(a)[0], TALL[0]),
    "negative_p_norm": (lambda x: ember.linalg.vector_norm(x, ord=-2.5, dim=-1), X6),
}


@pytest.mark.parametrize("name", list(GRADGRAD))
def test_gradgradcheck(name):
    """check_fwd_over_rev: the forward check over the first gradient differentiates it twice
    more (the double-vjp trick), so the third derivatives are checked too."""
    func, x = GRADGRAD[name]
    x = ember.tensor(x, requires_grad=True)
    assert ember.gradgradcheck(func, (x,), check_fwd_over_rev=True)
