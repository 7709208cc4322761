"""Second (and third) derivatives of inv, solve, solve_triangular, det, slogdet and cholesky
against torch, float64: the gradient with create_graph=True, then a Hessian-vector product
through it."""

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(3)
A0 = RNG.standard_normal((2, 3, 3)) + 3.0 * np.eye(3)  # a batch of well-conditioned matrices
B0 = RNG.standard_normal((2, 3, 2))
b0 = RNG.standard_normal(3)

CASES = {
    "inv": lambda lib, a, b: ((lib.linalg.inv(a) @ b) ** 2).sum() + lib.linalg.inv(a)[0, 1, 2] ** 3,
    "solve_matrix": lambda lib, a, b: (lib.linalg.solve(a, b) ** 2).sum(),
    "solve_vector": lambda lib, a, b: (lib.linalg.solve(a[0], b[0, :, 0] * b[1, :, 1]) ** 3).sum(),
    "solve_broadcast": lambda lib, a, b: (lib.linalg.solve(a, b[0]) * b[1]).sum() ** 2,
    "solve_triangular": lambda lib, a, b: (
        (lib.linalg.solve_triangular(a, b, upper=True) ** 2).sum()
        + (lib.linalg.solve_triangular(a[0], b[1], upper=False, unitriangular=True) ** 3).sum()
    ),
    "cholesky": lambda lib, a, b: (
        (lib.linalg.cholesky(a @ a.transpose(-1, -2)) ** 3).sum()
        + (lib.linalg.cholesky(a[0] @ a[0].transpose(-1, -2), upper=True) @ b[0]).sum() ** 2
    ),
    "det": lambda lib, a, b: (lib.linalg.det(a) ** 2).sum() + lib.linalg.det(a * b.sum()).sum(),
    "slogdet": lambda lib, a, b: (lib.linalg.slogdet(a)[1] ** 2).sum() * b.sum(),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_and_hessian_vector_product_match_torch(torch, name):
    f = CASES[name]

    def run(lib):
        a = lib.tensor(A0, requires_grad=True)
        b = lib.tensor(B0, requires_grad=True)
        ga, gb = lib.autograd.grad(f(lib, a, b), [a, b], create_graph=True)
        va = lib.tensor(np.linspace(-1.0, 1.0, A0.size).reshape(A0.shape))
        hv = lib.autograd.grad((ga * va).sum() + (gb * gb).sum(), [a, b])
        return [ga.detach().numpy(), gb.detach().numpy(), *(h.numpy() for h in hv)]

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_third_derivative_of_inv_matches_torch(torch):
    def run(lib):
        a = lib.tensor(A0[0], requires_grad=True)
        (g,) = lib.autograd.grad(lib.linalg.inv(a).sum(), a, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), a, create_graph=True)
        (t,) = lib.autograd.grad((h**2).sum(), a)
        return t.numpy()

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-9, atol=1e-11)


def test_det_second_derivative_at_a_singular_matrix_is_named():
    a = ember.tensor(np.array([[1.0, 2.0], [2.0, 4.0]]), requires_grad=True)
    (g,) = ember.autograd.grad(ember.linalg.det(a), a)  # first order: the cofactors
    np.testing.assert_allclose(g.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    with pytest.raises(RuntimeError, match="needs A⁻¹, and A is singular"):
        ember.autograd.grad(ember.linalg.det(a), a, create_graph=True)
