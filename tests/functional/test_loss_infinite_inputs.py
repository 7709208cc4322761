"""Piecewise losses at infinite errors (found by an extreme-value comparison with torch): the
quadratic branch of huber_loss and smooth_l1_loss is not taken there, and must not turn its
zero gradient into 0·∞ = NaN."""

import numpy as np
import pytest

import ember

INF, NAN = np.inf, np.nan


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


@pytest.mark.parametrize("name", ["huber_loss", "smooth_l1_loss"])
def test_a_nan_error_gives_a_nan_gradient_as_torch(torch, name):
    # torch's backward passes the error itself where it is not beyond δ, NaN included
    a = np.array([NAN, 1.0, 3.0, 0.2], np.float32)
    out = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        getattr(lib.nn.functional, name)(x, lib.zeros(4), reduction="sum").backward()
        out.append(x.grad.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)
    assert np.isnan(out[0][0])
