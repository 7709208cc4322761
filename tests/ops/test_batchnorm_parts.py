"""The batch norm op with a large tensor's channels shared between cores: the same bits
whatever the number of parts (channels 7 over 1, 2 or 3), and torch's values."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.backend_blas as backend_blas
import ember.nn.functional as F
import ember.ops.batchnorm as BN


def _run(x, gamma, beta, gy, training=True):
    xt = ember.tensor(x, requires_grad=True)
    gt = ember.tensor(gamma, requires_grad=True)
    bt = ember.tensor(beta, requires_grad=True)
    rm, rv = ember.zeros(x.shape[1], dtype=x.dtype), ember.ones(x.shape[1], dtype=x.dtype)
    y = F.batch_norm(xt, rm, rv, gt, bt, training=training, momentum=0.1, eps=1e-5)
    y.backward(ember.tensor(gy))
    return [y.array, xt.grad.array, gt.grad.array, bt.grad.array, rm.array, rv.array]


def _inputs(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    c = shape[1]
    return (
        (rng.standard_normal(shape) * 2 + 1).astype(dtype),
        rng.standard_normal(c).astype(dtype),
        rng.standard_normal(c).astype(dtype),
        rng.standard_normal(shape).astype(dtype),
    )


@pytest.mark.parametrize("training", [True, False])
def test_channel_ranges_on_several_cores_give_the_same_bits(monkeypatch, training):
    x, g, b, gy = _inputs((4, 7, 6, 5), np.float32)
    monkeypatch.setattr(BN, "PARALLEL_ELEMENTS", 1 << 40)  # one range, one core
    ref = _run(x, g, b, gy, training)
    monkeypatch.setattr(BN, "PARALLEL_ELEMENTS", 1)
    for workers in (1, 2, 3):
        monkeypatch.setattr(backend_blas, "SPLIT_WORKERS", workers)
        for got, want in zip(_run(x, g, b, gy, training), ref, strict=True):
            np.testing.assert_array_equal(got, want)


def test_a_large_batch_norm_on_two_cores_matches_torch(torch):
    """(8, 16, 96, 96): 1.2M elements, past PARALLEL_ELEMENTS, so the default path splits."""
    x, g, b, gy = _inputs((8, 16, 96, 96), np.float64, seed=1)
    assert x.size >= BN.PARALLEL_ELEMENTS
    ours = _run(x, g, b, gy)
    xt = torch.tensor(x, requires_grad=True)
    gt, bt = torch.tensor(g, requires_grad=True), torch.tensor(b, requires_grad=True)
    rm, rv = torch.zeros(16, dtype=torch.float64), torch.ones(16, dtype=torch.float64)
    y = torch.nn.functional.batch_norm(xt, rm, rv, gt, bt, training=True, momentum=0.1, eps=1e-5)
    y.backward(torch.tensor(gy))
    theirs = [y.detach(), xt.grad, gt.grad, bt.grad, rm, rv]
    for got, want in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-10)
