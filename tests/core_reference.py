"""Shared checks for the core tests: run one computation in ember and in torch and compare.

``compare_with_torch(torch, f_ember, f_torch, arrays)`` builds ember and torch tensors from the
same NumPy arrays (floating arrays require grad), runs both functions, compares the outputs,
back-propagates one random upstream gradient through both and compares every input gradient.
Tolerances follow the project rule: float64 ~1e-10, float32 ~1e-5 relative.
"""

from __future__ import annotations

import numpy as np

import ember

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


def tol(dtype) -> dict:
    return TOL[np.dtype(dtype).type]


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare_with_torch(torch, f_ember, f_torch, arrays, dtype=np.float64, grad=True, seed=0):
    """Outputs and gradients of ``f_ember(*tensors)`` and ``f_torch(*tensors)`` agree."""
    arrays = [np.asarray(a) for a in arrays]
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    te = [ember.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    tt = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    oe, ot = _outputs(f_ember(*te)), _outputs(f_torch(*tt))
    assert len(oe) == len(ot)
    for e, t in zip(oe, ot):
        assert tuple(e.shape) == tuple(t.shape), f"shape {e.shape} vs torch {tuple(t.shape)}"
        assert e.dtype == np.dtype(str(t.dtype).replace("torch.", "")), (e.dtype, t.dtype)
        np.testing.assert_allclose(e.array, t.detach().numpy(), **tol(dtype))
    if not grad:
        return
    rng = np.random.default_rng(seed)
    loss_e, loss_t = 0, 0
    for e, t in zip(oe, ot):
        if not t.requires_grad:
            continue
        w = rng.standard_normal(e.shape).astype(dtype)
        loss_e = loss_e + (e * ember.tensor(w)).sum()
        loss_t = loss_t + (t * torch.tensor(w)).sum()
    loss_e.backward()
    loss_t.backward()
    for k, (e, t) in enumerate(zip(te, tt)):
        if not t.requires_grad:
            continue
        if t.grad is None:
            assert e.grad is None or not np.any(e.grad.array), f"input {k}: torch has no grad"
            continue
        assert e.grad is not None, f"input {k}: ember computed no gradient"
        assert e.grad.dtype == e.dtype
        np.testing.assert_allclose(
            e.grad.array, t.grad.numpy(), err_msg=f"gradient of input {k}", **tol(dtype)
        )


def compare_same_code(torch, f, arrays):
    """f(module, *tensors) run with module = ember and module = torch: outputs and gradients
    (where torch's output has any) in float64, then again in float32."""
    out = f(torch, *[torch.tensor(a, requires_grad=True) for a in arrays])
    grad = any(o.requires_grad for o in (out if isinstance(out, tuple) else (out,)))
    for dtype in (np.float64, np.float32):
        fe, ft = (lambda *t: f(ember, *t)), (lambda *t: f(torch, *t))
        compare_with_torch(torch, fe, ft, arrays, dtype=dtype, grad=grad)


def check_gradients(f, arrays, seed=0, **kw):
    """ember.gradcheck on float64 tensors made from ``arrays`` (floats require grad)."""
    ts = [
        ember.tensor(np.asarray(a, np.float64), requires_grad=True)
        if np.asarray(a).dtype.kind == "f"
        else ember.tensor(np.asarray(a))
        for a in arrays
    ]
    assert ember.gradcheck(f, ts, seed=seed, **kw)


def randn(*shape, seed=0, scale=1.0, shift=0.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale + shift


def positive(*shape, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)
