"""Layers on a batch of no samples, against torch: LSTM, GRU and RNN give empty outputs and
states (and zero gradients), training-mode batch norm gives an empty result without touching
its running statistics, group norm works; flatten checks its dims as torch."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers_take_an_empty_batch_as_torch(cls):
    shapes = []
    for lib in (ember, torch):
        m = getattr(lib.nn, cls)(3, 4, num_layers=2, bidirectional=True, batch_first=True)
        x = lib.zeros(0, 5, 3, requires_grad=True)
        out, state = m(x)
        out.sum().backward()
        h = state[0] if isinstance(state, tuple) else state
        shapes.append((tuple(out.shape), tuple(h.shape), tuple(x.grad.shape)))
        assert float(m.weight_ih_l0.grad.abs().sum()) == 0.0
    assert shapes[0] == shapes[1] == ((0, 5, 8), (4, 0, 4), (0, 5, 3))
    for lib in (ember, torch):
        with pytest.raises((ValueError, RuntimeError)):
            getattr(lib.nn, cls)(3, 4)(lib.zeros(0, 2, 3))  # no time steps: refused by both


def test_projected_lstm_empty_batch_shapes():
    for lib in (ember, torch):
        out, (h, c) = lib.nn.LSTM(3, 4, proj_size=2)(lib.zeros(5, 0, 3))
        assert (tuple(out.shape), tuple(h.shape), tuple(c.shape)) == (
            (5, 0, 2),
            (1, 0, 2),
            (1, 0, 4),
        )


def test_batch_norm_and_group_norm_on_an_empty_batch_as_torch():
    for lib in (ember, torch):
        bn = lib.nn.BatchNorm1d(3)
        x = lib.zeros(0, 3, requires_grad=True)
        y = bn(x)
        y.sum().backward()
        assert tuple(y.shape) == (0, 3) and tuple(x.grad.shape) == (0, 3)
        assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
        assert int(bn.num_batches_tracked) == 1 and bn.weight.grad.tolist() == [0.0] * 3
        with pytest.raises((ValueError, RuntimeError), match="(?i)more than 1 value per channel"):
            bn(lib.zeros(1, 3))
        assert tuple(lib.nn.GroupNorm(2, 4)(lib.zeros(0, 4, 3)).shape) == (0, 4, 3)


def test_flatten_checks_dims_as_torch():
    for lib in (ember, torch):
        assert tuple(lib.flatten(lib.zeros(2, 3, 4), 1, 2).shape) == (2, 12)
        assert tuple(lib.flatten(lib.zeros(())).shape) == (1,)
        for x, args in ((lib.zeros(()), (1,)), (lib.zeros(3), (1,)), (lib.zeros(2, 3), (0, 2))):
            with pytest.raises(IndexError, match="Dimension out of range"):
                lib.flatten(x, *args)
        with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
            lib.flatten(lib.zeros(2, 3), 1, 0)
        with pytest.raises(IndexError):
            lib.nn.Flatten()(lib.zeros(()))
    np.testing.assert_array_equal(ember.flatten(ember.ones(2, 2), -2, -1).array, np.ones(4))
