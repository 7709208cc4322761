"""Shared helpers for the tests that build ember and torch leaves themselves and compare what
one call gives in each: ``leaves`` makes the pairs, ``check`` compares the outputs (shape, dtype
and values) and the gradients of a weighted sum of them. Tolerances: float64 ~1e-10, float32
1e-5 (absolute too). For a whole computation from NumPy arrays see core_reference.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

DTYPES = [np.float32, np.float64]


def tol(dtype) -> dict:
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def rand(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def leaves(torch, *arrays):
    """The same arrays as ember and as torch leaves that require grad."""
    es = [ember.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    return es, ts


def check(torch, e_outs, t_outs, e_leaves, t_leaves, dtype, grad=True):
    """Each output equal (shape and dtype too); then, with ``grad``, the gradients of Σ w·out
    (over the floating outputs torch differentiates) equal per leaf."""
    if not isinstance(e_outs, (tuple, list)):
        e_outs, t_outs = [e_outs], [t_outs]
    assert len(e_outs) == len(t_outs)
    e_loss, t_loss = 0, 0
    for i, (e, t) in enumerate(zip(e_outs, t_outs)):
        assert tuple(e.shape) == tuple(t.shape)
        t_np = t.detach().numpy()
        assert e.array.dtype == t_np.dtype, (e.array.dtype, t_np.dtype)
        np.testing.assert_allclose(e.array, t_np, **tol(dtype))
        if grad and t_np.dtype.kind == "f" and t.requires_grad:
            w = np.random.default_rng(i + 1).standard_normal(e.shape).astype(t_np.dtype)
            e_loss = e_loss + (e * ember.tensor(w)).sum()
            t_loss = t_loss + (t * torch.tensor(w)).sum()
    if not (grad and e_leaves):
        return
    e_loss.backward()
    t_loss.backward()
    for e, t in zip(e_leaves, t_leaves):
        assert e.grad is not None and t.grad is not None
        np.testing.assert_allclose(e.grad.array, t.grad.numpy(), **tol(dtype))


def same_error(torch, e_fn, t_fn):
    """ember raises what torch raises: the same type and the same message (or its first line)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as t_err:
            t_fn()
    with pytest.raises(t_err.type) as e_err:
        e_fn()
    assert str(e_err.value) in (str(t_err.value), str(t_err.value).split("\n")[0])
