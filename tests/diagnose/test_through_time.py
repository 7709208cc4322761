"""‖∂L/∂h_t‖ through time: equals autograd's per-step gradients, shows vanishing, draws a PNG."""

from __future__ import annotations

import numpy as np

import ember
import ember.functional as F
from ember import nn
from ember.diagnose.through_time import gradient_through_time, plot_gradient_through_time


def test_norms_equal_the_composed_per_step_gradients():
    lstm = nn.LSTM(3, 5, num_layers=2).double()
    x = ember.tensor(np.random.default_rng(0).standard_normal((6, 4, 3)))

    def loss():
        y, _ = lstm(x)
        return (y[-1] ** 2).sum()

    norms = gradient_through_time(lstm, loss)
    assert set(norms) == {"l0", "l1"} and norms["l1"].shape == (6,)
    assert all(p.grad is None for p in lstm.parameters())  # grads restored
    # reference: both layers composed from cells, h_t kept with retain_grad
    hs = {"l0": [], "l1": []}
    inputs = [x[t] for t in range(6)]
    for k in range(2):
        w = [getattr(lstm, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        h = c = ember.zeros(4, 5, dtype=ember.float64)
        for t in range(6):
            h, c = nn.rnn_cells.lstm_cell(inputs[t], h, c, *w)
            h.retain_grad()
            hs[f"l{k}"].append(h)
        inputs = hs[f"l{k}"]
    (hs["l1"][-1] ** 2).sum().backward()
    for key in ("l0", "l1"):
        ref = [np.linalg.norm(h.grad.array, axis=1).mean() for h in hs[key]]
        np.testing.assert_allclose(norms[key], ref, rtol=1e-10)


def test_vanishing_in_a_tanh_rnn_and_figure(tmp_path):
    ember.manual_seed(0)
    rnn = nn.RNN(1, 16)
    lstm = nn.LSTM(1, 16, forget_bias=3.0)
    x = ember.randn(60, 8, 1)
    curves = {}
    for name, m in (("RNN", rnn), ("LSTM", lstm)):
        curves[name] = gradient_through_time(
            m, lambda m=m: F.mse_loss(m(x)[0][-1], ember.zeros(8, 16))
        )["l0"]
    assert curves["RNN"][0] < 1e-4 * curves["RNN"][-1]  # 60 steps back: vanished
    assert curves["LSTM"][0] > 1e3 * curves["RNN"][0]  # the conveyor belt keeps it alive
    path = plot_gradient_through_time(curves, tmp_path / "g.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tiny_float32_gradients_do_not_read_as_zero():
    """A float32 ∂L/∂h_t of ~1e-26 is small, not zero: squared in float32 it would underflow,
    so the norm is taken in float64 (the RNN's vanishing curve keeps its far end)."""
    ember.manual_seed(0)
    x = ember.randn(100, 1, 2)
    for layer in (nn.RNN(2, 32), nn.GRU(2, 32), nn.LSTM(2, 32)):
        norms = gradient_through_time(layer, lambda m=layer: m(x)[0][-1].sum())["l0"]
        assert (norms > 0).all(), type(layer).__name__
        if isinstance(layer, nn.RNN):  # vanished by ~20 orders of magnitude, yet not 0
            assert norms[0] < 1e-15 * norms[-1]


def test_drawing_leaves_pyplot_and_its_backend_alone(tmp_path):
    import matplotlib
    import matplotlib.pyplot as plt

    backend, figures = matplotlib.get_backend(), plt.get_fignums()
    plot_gradient_through_time({"a": np.array([1.0, 0.1, 0.0])}, tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 1000
    assert matplotlib.get_backend() == backend and plt.get_fignums() == figures
