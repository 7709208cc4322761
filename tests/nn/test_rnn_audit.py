"""PyTorch-parity audit of the recurrent layers: inputs and uses that are legal in torch but
unusual (or wrong, where torch raises), each compared with torch on the same weights."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ember
from ember import nn


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize(
    "x_shape, h_shape",
    [((3, 3), (2, 4)), ((3, 3), (3, 5)), ((3, 3), (4,)), ((3, 3), (1, 3, 4)), ((3,), (1, 4))],
)
def test_cells_reject_hx_of_the_wrong_shape_as_torch_does(torch, cell, x_shape, h_shape):
    """torch raises for each of these; a (4,) state for a batch of 3 used to broadcast."""
    tc, ec = getattr(torch.nn, cell)(3, 4), getattr(nn, cell)(3, 4)
    x, h = np.zeros(x_shape, np.float32), np.zeros(h_shape, np.float32)
    th, eh = torch.tensor(h), ember.tensor(h)
    with pytest.raises((RuntimeError, ValueError)):
        tc(torch.tensor(x), (th, th) if cell == "LSTMCell" else th)
    with pytest.raises(ValueError, match="expected h of shape .* got " + re.escape(str(h_shape))):
        ec(ember.tensor(x), (eh, eh) if cell == "LSTMCell" else eh)


def test_lstm_cell_wants_a_pair():
    with pytest.raises(TypeError, match=r"hx = \(h, c\)"):
        nn.LSTMCell(3, 4)(ember.zeros(2, 3), ember.zeros(2, 4))


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_unbatched_cell_with_state_matches_torch(torch, cell):
    tc, ec = getattr(torch.nn, cell)(3, 4), getattr(nn, cell)(3, 4)
    ec.load_state_dict(tc.state_dict())
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal(3).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    th, eh = torch.tensor(h), ember.tensor(h)
    yt = tc(torch.tensor(x), (th, th) if cell == "LSTMCell" else th)
    ye = ec(ember.tensor(x), (eh, eh) if cell == "LSTMCell" else eh)
    for a, b in zip(yt if cell == "LSTMCell" else (yt,), ye if cell == "LSTMCell" else (ye,)):
        assert b.shape == (4,)
        np.testing.assert_allclose(b.data, a.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_cell_repr_shows_relu_as_torch(torch):
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == repr(
        torch.nn.RNNCell(3, 4, nonlinearity="relu")
    )
