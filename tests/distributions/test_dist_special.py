"""The Function classes under ember.distributions (erf, erfinv, lgamma, digamma, softplus,
Cholesky, triangular solve, inverse): ember.gradcheck in float64, and values and gradients
against torch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.distributions import _special as S
from tests.core_reference import check_gradients, compare_with_torch
from tests.distributions.dist_reference import lower_cholesky, randn, spd, uniform

ELEMENTWISE = [
    ("erf", S.erf, lambda t, x: t.erf(x), randn(3, 4, seed=1)),
    ("erfinv", S.erfinv, lambda t, x: t.erfinv(x), uniform(-0.95, 0.95, 3, 4, seed=2)),
    ("lgamma", S.lgamma, lambda t, x: t.lgamma(x), uniform(0.1, 6.0, 3, 4, seed=3)),
    ("lgamma_negative", S.lgamma, lambda t, x: t.lgamma(x), uniform(-2.9, -2.1, 5, seed=3)),
    ("digamma", S.digamma, lambda t, x: t.digamma(x), uniform(0.1, 6.0, 3, 4, seed=4)),
    ("softplus", S.softplus, lambda t, x: t.nn.functional.softplus(x), 4 * randn(3, 4, seed=5)),
]


@pytest.mark.parametrize("f, ft, x", [c[1:] for c in ELEMENTWISE], ids=[c[0] for c in ELEMENTWISE])
def test_elementwise_against_torch(torch, f, ft, x):
    if f is S.digamma:  # torch's trigamma (the gradient) is accurate to ~5e-10 only; SciPy's
        # polygamma(1, x) to 1e-16 (checked against mpmath): compare to torch at 1e-8
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ye, yt = f(xe), ft(torch, xt)
        np.testing.assert_allclose(ye.array, yt.detach().numpy(), rtol=1e-12)
        ye.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), rtol=1e-8)
        return
    compare_with_torch(torch, f, lambda a: ft(torch, a), [x])


@pytest.mark.parametrize("f, ft, x", [c[1:] for c in ELEMENTWISE], ids=[c[0] for c in ELEMENTWISE])
def test_elementwise_gradcheck(f, ft, x):
    check_gradients(f, [x])


def test_softplus_is_exact_in_the_tails():
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    y = S.softplus(ember.tensor(x)).array
    np.testing.assert_allclose(y, [0.0, np.exp(-40.0), np.log(2.0), 40.0, 800.0], rtol=1e-15)


def test_cholesky_against_torch(torch):
    a = spd(2, d=4, seed=6)
    compare_with_torch(torch, S.cholesky, lambda m: torch.linalg.cholesky(m), [a])


def test_cholesky_gradcheck():
    a = spd(d=3, seed=7)
    check_gradients(lambda m: S.cholesky(0.5 * (m + m.mT)), [a])


def test_solve_tril_against_torch(torch):
    L, b = lower_cholesky(2, d=3, seed=8), randn(4, 2, 3, 2, seed=9)
    compare_with_torch(
        torch, S.solve_tril, lambda m, y: torch.linalg.solve_triangular(m, y, upper=False), [L, b]
    )


def test_solve_tril_gradcheck():
    check_gradients(S.solve_tril, [lower_cholesky(d=3, seed=10), randn(2, 3, 2, seed=11)])


def test_inverse_against_torch_and_gradcheck(torch):
    a = spd(2, d=3, seed=12) + 0.1 * randn(2, 3, 3, seed=13)
    compare_with_torch(torch, S.inverse, lambda m: torch.linalg.inv(m), [a])
    check_gradients(S.inverse, [a])


def test_xlogy_and_diagonal(torch):
    a, b = np.array([0.0, 2.0, 0.0, 1.5]), np.array([0.0, 3.0, 2.0, 0.5])
    out = S.xlogy(ember.tensor(a), ember.tensor(b)).array
    np.testing.assert_allclose(out, torch.xlogy(torch.tensor(a), torch.tensor(b)).numpy())
    m = randn(2, 3, 3, seed=14)
    compare_with_torch(torch, S.diagonal, lambda t: t.diagonal(dim1=-2, dim2=-1), [m])
