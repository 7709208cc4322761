"""ember.linalg.eig and eigvals against torch.linalg: A·V = V·diag(λ) with complex outputs for
real and complex inputs, in float32 / float64 / complex64 / complex128, batched; gradients
against torch and ember.gradcheck in float64 and complex128; torch's phase-invariance error.

Eigenvalues come in LAPACK's order and each eigenvector is fixed only up to a phase e^{iφ}, and
two LAPACK builds need not agree on either: values are compared as sets (sorted), eigenvectors
by |v|² of the matching eigenvalue, and gradients through losses invariant under reordering
and phase (Σ_j h(λ_j)·|v_j|² weighted by row, Σ_j g(λ_j))."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.linalg as LA
from tests.linalg.linalg_ex_reference import DTYPES, TOLS, WIDE, gradcheck, make, randn, same_error

SHAPES = [(4, 4), (2, 3, 3), (1, 2, 5, 5)]


def _complex_of(dtype):
    return np.complex128 if np.dtype(dtype) in (np.float64, np.complex128) else np.complex64


def _match(w, wt):
    """For each ember eigenvalue (last axis) the index of the nearest torch eigenvalue."""
    return np.argmin(np.abs(w[..., :, None] - wt[..., None, :]), axis=-1)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_eig_values_match_torch(torch, shape, dtype):
    a = make(randn(*shape, seed=1), dtype)
    w, v = LA.eig(ember.tensor(a))
    wt, vt = torch.linalg.eig(torch.tensor(a))
    assert w.dtype == v.dtype == np.dtype(_complex_of(dtype))
    assert str(wt.dtype) == f"torch.{w.dtype}"
    assert w.shape == tuple(wt.shape) and v.shape == tuple(vt.shape)
    tol = TOLS[dtype]
    wt, vt = wt.numpy(), vt.numpy()
    idx = _match(w.numpy(), wt)
    np.testing.assert_allclose(w.numpy(), np.take_along_axis(wt, idx, -1), **tol)
    vt_m = np.take_along_axis(vt, idx[..., None, :], -1)  # torch's columns in ember's order
    np.testing.assert_allclose(np.abs(v.numpy()) ** 2, np.abs(vt_m) ** 2, **tol)
    # A·V = V·diag(λ), unit columns
    atol = 1e-4 if tol["rtol"] > 1e-6 else 1e-11
    np.testing.assert_allclose(a @ v.numpy(), v.numpy() * w.numpy()[..., None, :], atol=atol)
    np.testing.assert_allclose(np.linalg.norm(v.numpy(), axis=-2), 1, atol=atol)
    e = LA.eigvals(ember.tensor(a))
    assert e.dtype == w.dtype
    np.testing.assert_allclose(e.numpy(), w.numpy(), **tol)


def test_eig_of_a_real_matrix_with_real_eigenvalues_is_still_complex(torch):
    a = np.array([[2.0, 1.0], [0.0, 3.0]])
    w, v = LA.eig(ember.tensor(a))
    assert w.dtype == v.dtype == np.complex128
    assert str(torch.linalg.eig(torch.tensor(a))[0].dtype) == "torch.complex128"
    np.testing.assert_allclose(np.sort(w.numpy().real), [2.0, 3.0])
    assert LA.eigvals(ember.tensor(a.astype(np.float32))).dtype == np.complex64


def _invariant_loss(lib, w, v, rows):
    """Σ_ij rows_i |V_ij|² Re λ_j + Σ_j Re(λ_j²) + Σ_j (Im λ_j)² : unchanged by reordering the
    eigenpairs or by a phase on any eigenvector."""
    p = (v.abs() ** 2) * w.real.unsqueeze(-2) * rows
    return p.sum() + (w * w).real.sum() + (w.imag**2).sum()


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3)], ids=str)
@pytest.mark.parametrize("dtype", WIDE, ids=lambda d: np.dtype(d).name)
def test_eig_gradients_match_torch(torch, shape, dtype):
    a = make(randn(*shape, seed=2), dtype)
    rows = randn(*shape[:-1], 1, seed=3)
    ae = ember.tensor(a, requires_grad=True)
    at = torch.tensor(a, requires_grad=True)
    _invariant_loss(ember, *LA.eig(ae), ember.tensor(rows)).backward()
    _invariant_loss(torch, *torch.linalg.eig(at), torch.tensor(rows)).backward()
    assert ae.grad.dtype == a.dtype
    np.testing.assert_allclose(ae.grad.numpy(), at.grad.numpy(), rtol=1e-8, atol=1e-10)
    # eigvals alone: Ā = V⁻ᴴ diag(λ̄) Vᴴ
    ae.grad = None
    at.grad = None
    ((LA.eigvals(ae) ** 3).real.sum() + LA.eigvals(ae).abs().sum()).backward()
    tw = torch.linalg.eigvals(at)
    ((tw**3).real.sum() + tw.abs().sum()).backward()
    np.testing.assert_allclose(ae.grad.numpy(), at.grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", WIDE, ids=lambda d: np.dtype(d).name)
def test_eig_eigenvectors_only_gradient_matches_torch(torch, dtype):
    a = make(randn(3, 3, seed=4), dtype)
    rows = randn(3, 1, seed=5)
    ae, at = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ((LA.eig(ae)[1].abs() ** 2) * ember.tensor(rows)).sum().backward()
    ((torch.linalg.eig(at)[1].abs() ** 2) * torch.tensor(rows)).sum().backward()
    np.testing.assert_allclose(ae.grad.numpy(), at.grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", WIDE, ids=lambda d: np.dtype(d).name)
def test_eig_gradcheck(dtype):
    a = make(randn(2, 3, 3, seed=6), dtype)
    rows = ember.tensor(randn(2, 3, 1, seed=7))
    gradcheck(lambda t: _invariant_loss(ember, *LA.eig(t), rows), [a])
    gradcheck(lambda t: (LA.eigvals(t) ** 2).real + LA.eigvals(t).imag ** 2, [a])
    # f(A) = V diag(exp λ) V⁻¹ = exp(A): the whole eigendecomposition, phase-free
    gradcheck(
        lambda t: (lambda w, v: ((v * w.exp().unsqueeze(-2)) @ LA.inv(v)).abs())(*LA.eig(t)),
        [a[0]],
    )


def test_eig_gradient_of_a_phase_dependent_loss_raises_as_torch(torch):
    a = np.array([[0.0, -2.0, 1.0], [1.0, 0.0, 0.5], [0.3, 0.2, 1.0]])
    assert np.abs(np.linalg.eigvals(a).imag).max() > 0.5  # a complex pair: complex V
    with pytest.raises(RuntimeError, match="ill-defined"):
        torch.linalg.eig(torch.tensor(a, requires_grad=True))[1].real.sum().backward()
    with pytest.raises(RuntimeError, match="linalg_eig_backward.*e\\^\\{i phi\\}.*ill-defined"):
        LA.eig(ember.tensor(a, requires_grad=True))[1].real.sum().backward()


def test_eig_errors_match_torch(torch):
    same_error(torch, lambda m, a: m.eig(a), [randn(2, 3)], "square matrices.*2 by 3")
    same_error(torch, lambda m, a: m.eigvals(a), [randn(3)], "at least 2 dimensions")
    same_error(torch, lambda m, a: m.eig(a), [np.ones((2, 2), np.int64)])
    same_error(torch, lambda m, a: m.eigvals(a), [randn(4, 2, 3)], "square")
