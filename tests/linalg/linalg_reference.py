"""Shared checks and inputs for the ember.linalg tests.

``compare(torch, f, arrays)`` runs ``f(m, *tensors)`` with m = ember.linalg and m = torch.linalg
on float64 tensors made from the same arrays, compares every output, then back-propagates one
random upstream gradient through the outputs torch can differentiate and compares the input
gradients (outputs only with grad=False). The tolerance defaults to the project's float64 rule
(rtol 1e-10); the decompositions, computed by different LAPACK builds, get a little more where
a test says so.
"""

from __future__ import annotations

import numpy as np

import ember
import ember.linalg as LA


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare(torch, f, arrays, rtol=1e-10, atol=1e-12, dtype=np.float64, seed=0, grad=True):
    arrays = [np.asarray(a, dtype) for a in arrays]
    te = [ember.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    oe, ot = _outputs(f(LA, *te)), _outputs(f(torch.linalg, *tt))
    assert len(oe) == len(ot), (len(oe), len(ot))
    for k, (e, t) in enumerate(zip(oe, ot)):
        assert tuple(e.shape) == tuple(t.shape), f"output {k}: {e.shape} vs torch {tuple(t.shape)}"
        assert e.dtype == np.dtype(str(t.dtype).replace("torch.", "")), (k, e.dtype, t.dtype)
        np.testing.assert_allclose(
            e.array, t.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"output {k}"
        )
    if not grad:
        return
    rng = np.random.default_rng(seed)
    loss_e, loss_t = None, None
    for e, t in zip(oe, ot):
        if not t.requires_grad:
            continue
        w = rng.standard_normal(e.shape).astype(dtype)
        le, lt = (e * ember.tensor(w)).sum(), (t * torch.tensor(w)).sum()
        loss_e = le if loss_e is None else loss_e + le
        loss_t = lt if loss_t is None else loss_t + lt
    if loss_t is None:
        return
    loss_t.backward()
    if loss_e.requires_grad:
        loss_e.backward()
    for k, (e, t) in enumerate(zip(te, tt)):
        if t.grad is None or e.grad is None:
            for g in (t.grad, e.grad):
                assert g is None or not np.any(g.numpy() if hasattr(g, "numpy") else g), k
            continue
        assert e.grad.dtype == e.dtype
        np.testing.assert_allclose(
            e.grad.array, t.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"gradient of input {k}"
        )


def randn(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def well_conditioned(*shape, seed=0):
    """Square matrices (*, n, n): noise plus a diagonal that keeps them far from singular."""
    n = shape[-1]
    return randn(*shape, seed=seed) + 2.0 * np.sqrt(n) * np.eye(n)


def orthogonal(*shape, seed=0):
    q, _ = np.linalg.qr(randn(*shape, seed=seed))
    return q


def symmetric(*batch, n=4, seed=0):
    """Symmetric matrices with eigenvalues spread ≥ 0.7 apart (distinct: finite gradients)."""
    q = orthogonal(*batch, n, n, seed=seed)
    lam = np.linspace(-2.0, 2.0, n) + 0.1 * randn(*batch, n, seed=seed + 1)
    return (q * lam[..., None, :]) @ q.swapaxes(-1, -2)


def spd(*batch, n=4, seed=0):
    """Symmetric positive-definite matrices: X Xᵀ + n·I."""
    x = randn(*batch, n, n, seed=seed)
    return x @ x.swapaxes(-1, -2) + n * np.eye(n)


def with_singular_values(*batch, m=5, n=3, seed=0):
    """(*, m, n) matrices with singular values spread apart (distinct: finite gradients)."""
    k = min(m, n)
    u = orthogonal(*batch, m, k, seed=seed)
    v = orthogonal(*batch, n, k, seed=seed + 1)
    s = np.linspace(3.0, 0.8, k) + 0.05 * randn(*batch, k, seed=seed + 2)
    return (u * s[..., None, :]) @ v.swapaxes(-1, -2)
