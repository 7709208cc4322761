"""Shared checks for the tests of ember.linalg's eig, LU and "_ex" / array functions, in every
dtype torch.linalg takes (float32, float64, complex64, complex128).

``against_torch(torch, f, arrays, dtype)`` runs ``f(m, *tensors)`` with m = ember.linalg and
m = torch.linalg on tensors of ``dtype`` made from the same arrays, compares every output (shape,
dtype, values), then back-propagates one random real loss Re Σ conj(W)·Y through the outputs
torch can differentiate and compares the input gradients. Gradients are compared in float64 and
complex128 only (float32 round-off is the reference's, not the formula's).
"""

from __future__ import annotations

import numpy as np

import ember

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
WIDE = [np.float64, np.complex128]  # the dtypes whose gradients are compared and gradchecked
TOLS = {
    np.float32: dict(rtol=2e-4, atol=2e-5),
    np.complex64: dict(rtol=2e-4, atol=2e-5),
    np.float64: dict(rtol=1e-9, atol=1e-11),  # two LAPACK builds: a few ulps more than one
    np.complex128: dict(rtol=1e-9, atol=1e-11),
}


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def make(a, dtype, seed=0):
    """``a`` in ``dtype``; a complex dtype gets an independent random imaginary part."""
    a = np.asarray(a, np.float64)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * randn(*a.shape, seed=seed + 1000)
    return a.astype(dtype)


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _numpy(t):
    t = t.detach()
    return t.resolve_conj().numpy() if hasattr(t, "resolve_conj") else t.numpy()


def against_torch(torch, f, arrays, dtype=None, grad=None, seed=0, tol=None):
    arrays = [np.asarray(a) if dtype is None else np.asarray(a, dtype) for a in arrays]
    dtype = arrays[0].dtype.type
    tol = tol or TOLS[dtype]
    grad = (dtype in WIDE) if grad is None else grad
    floating = [a.dtype.kind in "fc" for a in arrays]
    te = [ember.tensor(a, requires_grad=fl and grad) for a, fl in zip(arrays, floating)]
    tt = [torch.tensor(a, requires_grad=fl and grad) for a, fl in zip(arrays, floating)]
    oe, ot = _outputs(f(ember.linalg, *te)), _outputs(f(torch.linalg, *tt))
    assert len(oe) == len(ot), (len(oe), len(ot))
    for k, (e, t) in enumerate(zip(oe, ot)):
        assert tuple(e.shape) == tuple(t.shape), f"output {k}: {e.shape} vs torch {tuple(t.shape)}"
        assert e.dtype == np.dtype(str(t.dtype).replace("torch.", "")), (k, e.dtype, t.dtype)
        np.testing.assert_allclose(_numpy(e), _numpy(t), **tol, err_msg=f"output {k}")
    if not grad:
        return oe
    rng = np.random.default_rng(seed)
    loss_e = loss_t = None
    for e, t in zip(oe, ot):
        if not t.requires_grad:
            continue
        w = rng.standard_normal(e.shape)
        if e.dtype.kind == "c":
            w = w + 1j * rng.standard_normal(e.shape)
        w = w.astype(e.dtype)
        le = (e * ember.tensor(w.conj())).real.sum() if w.dtype.kind == "c" else (e * w).sum()
        tw = torch.tensor(w.conj() if w.dtype.kind == "c" else w)
        lt = (t * tw).real.sum() if w.dtype.kind == "c" else (t * tw).sum()
        loss_e = le if loss_e is None else loss_e + le
        loss_t = lt if loss_t is None else loss_t + lt
    assert loss_t is not None, "nothing differentiable to compare"
    loss_t.backward()
    loss_e.backward()
    for k, (e, t) in enumerate(zip(te, tt)):
        if t.grad is None:
            assert e.grad is None or not np.any(e.grad.numpy()), k
            continue
        assert e.grad is not None, f"input {k}: torch has a gradient, ember none"
        assert e.grad.dtype == e.dtype
        np.testing.assert_allclose(
            e.grad.numpy(), _numpy(t.grad), **tol, err_msg=f"gradient of input {k}"
        )
    return oe


def gradcheck(f, arrays):
    """ember.gradcheck of f over tensors (float64 / complex128) made from ``arrays``."""
    ts = [
        ember.tensor(np.asarray(a), requires_grad=np.asarray(a).dtype.kind in "fc") for a in arrays
    ]
    assert ember.gradcheck(f, ts)


def same_error(torch, f, arrays, match=None):
    """f(ember.linalg, …) and f(torch.linalg, …) raise the same exception class (ember's
    LinAlgError for torch's); ember's message matches ``match`` when given."""
    import pytest

    te = [ember.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
    tt = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
    with pytest.raises(Exception) as torch_err:
        f(torch.linalg, *tt)
    cls = torch_err.type
    if issubclass(cls, torch.linalg.LinAlgError):
        cls = ember.linalg.LinAlgError
    with pytest.raises(cls, match=match):
        f(ember.linalg, *te)
