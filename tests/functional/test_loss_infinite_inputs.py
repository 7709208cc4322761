"""Piecewise losses at infinite errors (found by an extreme-value comparison with torch): the
quadratic branch of huber_loss and smooth_l1_loss is not taken there, and must not turn its
zero gradient into 0·∞ = NaN."""

import numpy as np
import pytest

import ember

INF = np.inf


@pytest.mark.parametrize(
    "call",
    [
        lambda F, x, y: F.huber_loss(x, y, reduction="none"),
        lambda F, x, y: F.huber_loss(x, y, reduction="mean", delta=2.0),
        lambda F, x, y: F.smooth_l1_loss(x, y, reduction="none", beta=0.5),
        lambda F, x, y: F.smooth_l1_loss(x, y, reduction="sum"),
    ],
    ids=["huber", "huber_mean_delta2", "smooth_l1", "smooth_l1_sum"],
)
def test_huber_and_smooth_l1_gradients_at_infinite_errors_as_torch(torch, call):
    a = np.array([0.0, -INF, 1e4, 3.0, 2.0, 0.1], np.float32)
    b = np.array([1.0, 0.0, 0.0, INF, 2.5, 0.0], np.float32)
    out = []
    for lib in (ember, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        loss = call(lib.nn.functional, x, y)
        loss.backward(lib.ones_like(loss))
        out.append((loss.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for e, t in zip(*out):
        np.testing.assert_allclose(e, t, rtol=1e-6)
    assert np.isfinite(out[0][1]).all()
