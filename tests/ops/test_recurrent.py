"""The fused whole-sequence ops: equal to the composed cells (float64, 1e-10) in every
configuration, and their hand-derived backward through time checked by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn
from ember.ops.recurrent import LSTMLayer
from ember.ops.recurrent_gru import GRULayer
from ember.ops.recurrent_rnn import RNNLayer


def _layer(mode, fused, **kw):
    ember.manual_seed(3)
    return getattr(nn, mode)(3, 4, fused=fused, **kw).double()


def _run(mode, layer, x, hx, lengths, record):
    return layer(x, hx, lengths=lengths, record_gates=record)


CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=3, batch_first=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
]


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU", "GRU-cho", "RNN-relu", "LSTM-proj"])
@pytest.mark.parametrize("config", range(len(CONFIGS)))
@pytest.mark.parametrize("lengths", [None, [5, 2, 4]])
@pytest.mark.parametrize("given_state", [False, True])
def test_fused_equals_composed(mode, config, lengths, given_state):
    kw = dict(CONFIGS[config])
    mode, _, variant = mode.partition("-")
    kw.update({"cho": {"reset_after": False}, "relu": {"nonlinearity": "relu"},
               "proj": {"proj_size": 2}}.get(variant, {}))  # fmt: skip
    fused, composed = _layer(mode, True, **kw), _layer(mode, False, **kw)
    rng = np.random.default_rng(0)
    T, B = 5, 3
    x = rng.standard_normal((B, T, 3) if kw.get("batch_first") else (T, B, 3))
    LD = kw["num_layers"] * (2 if kw.get("bidirectional") else 1)
    hx = None
    if given_state:
        hs = [rng.standard_normal((LD, B, kw.get("proj_size") or 4))]
        if mode == "LSTM":
            hs.append(rng.standard_normal((LD, B, 4)))
        hx = hs
    results = []
    for layer in (fused, composed):
        xe = ember.tensor(x, requires_grad=True)
        h_in = None if hx is None else [ember.tensor(h, requires_grad=True) for h in hx]
        arg = None if h_in is None else (tuple(h_in) if mode == "LSTM" else h_in[0])
        y, states, gates = _run(mode, layer, xe, arg, lengths, True)
        states = states if isinstance(states, tuple) else (states,)
        w = [np.cos(np.arange(t.numel())).reshape(t.shape) for t in (y, *states)]
        sum((t * ember.tensor(v)).sum() for t, v in zip((y, *states), w)).backward()
        grads = [xe.grad.array] + ([] if h_in is None else [h.grad.array for h in h_in])
        grads += [p.grad.array for p in layer.parameters()]
        results.append((y.array, [s.array for s in states], gates, grads))
    (yf, sf, gf, df), (yc, sc, gc, dc) = results
    np.testing.assert_allclose(yf, yc, rtol=0, atol=1e-10)
    for a, b in zip(sf, sc):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    assert len(df) == len(dc)
    for a, b in zip(df, dc):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    assert gf.keys() == gc.keys()
    for key in gf:
        assert gf[key].keys() == gc[key].keys(), key
        for name in gf[key]:
            np.testing.assert_allclose(gf[key][name].array, gc[key][name].array, atol=1e-10)


def _t(rng, *shape):
    return ember.tensor(rng.standard_normal(shape) * 0.5, requires_grad=True)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, np.array([3, 1])])
@pytest.mark.parametrize("proj", [False, True])
def test_gradcheck_lstm_layer(reverse, lengths, proj):
    rng = np.random.default_rng(0)
    T, B, I, H, P = 3, 2, 2, 3, (2 if proj else 3)
    args = [_t(rng, T, B, I), _t(rng, B, P), _t(rng, B, H), _t(rng, 4 * H, I), _t(rng, 4 * H, P),
            _t(rng, 4 * H), _t(rng, 4 * H), _t(rng, P, H) if proj else None]  # fmt: skip

    def fn(*a):
        return ember.apply(LSTMLayer, *a, lengths=lengths, reverse=reverse)

    assert ember.gradcheck(fn, args)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, np.array([3, 2])])
def test_gradcheck_gru_layer(reset_after, reverse, lengths):
    rng = np.random.default_rng(1)
    T, B, I, H = 3, 2, 2, 3
    args = [_t(rng, T, B, I), _t(rng, B, H), _t(rng, 3 * H, I), _t(rng, 3 * H, H),
            _t(rng, 3 * H), _t(rng, 3 * H)]  # fmt: skip

    def fn(*a):
        return ember.apply(GRULayer, *a, reset_after=reset_after, lengths=lengths, reverse=reverse)

    assert ember.gradcheck(fn, args)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("lengths", [None, np.array([1, 3])])
def test_gradcheck_rnn_layer(nonlinearity, lengths):
    rng = np.random.default_rng(2)
    T, B, I, H = 3, 2, 2, 3
    args = [_t(rng, T, B, I), _t(rng, B, H), _t(rng, H, I), _t(rng, H, H), _t(rng, H), _t(rng, H)]

    def fn(*a):
        return ember.apply(RNNLayer, *a, nonlinearity=nonlinearity, lengths=lengths, reverse=True)

    assert ember.gradcheck(fn, args)


def test_gradcheck_without_bias():
    rng = np.random.default_rng(3)
    args = [_t(rng, 3, 2, 2), _t(rng, 2, 3), _t(rng, 2, 3), _t(rng, 12, 2), _t(rng, 12, 3)]

    def fn(x, h, c, wi, wh):
        return ember.apply(LSTMLayer, x, h, c, wi, wh, None, None, None)

    assert ember.gradcheck(fn, args)


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell", "GRUCell-cho"])
def test_gradcheck_cells(cell):
    name, _, variant = cell.partition("-")
    kw = {"reset_after": False} if variant else {}
    c = getattr(nn, name)(2, 3, **kw).double()
    rng = np.random.default_rng(4)
    x, h = _t(rng, 2, 2), _t(rng, 2, 3)
    if name == "LSTMCell":
        s = _t(rng, 2, 3)
        assert ember.gradcheck(lambda x, h, s: c(x, (h, s)), (x, h, s))
    else:
        assert ember.gradcheck(lambda x, h: c(x, h), (x, h))


@pytest.mark.parametrize("lengths", [None, "varied"])
def test_lstm_backward_in_blocks_of_steps_equals_composed(lengths):
    """At H=128, B=64 the backward factors are computed 4 steps at a time: blocks must join."""
    T, B = 10, 64
    lens = None if lengths is None else np.random.default_rng(0).integers(1, T + 1, B)
    results = []
    for fused in (True, False):
        ember.manual_seed(5)
        layer = nn.LSTM(8, 128, bidirectional=True, fused=fused).double()
        x = ember.tensor(np.random.default_rng(1).standard_normal((T, B, 8)), requires_grad=True)
        y, (h, c) = layer(x, lengths=lens)
        (y * y).sum().backward()
        results.append([y.array, x.grad.array] + [p.grad.array for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("dx_route", ["per step", "after the loop"])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_both_input_gradient_routes_equal_composed(monkeypatch, dx_route, bias):
    """∂L/∂x from each step's GEMM on [h, x] (narrow inputs) or one GEMM after the loop (wide
    inputs, PER_STEP_DX_MAX_INPUT): both exact, both directions, with and without lengths."""
    from ember.ops import recurrent

    limit = 10**6 if dx_route == "per step" else 0
    monkeypatch.setattr(recurrent, "PER_STEP_DX_MAX_INPUT", limit)
    T, B = 4, 3
    results = []
    for fused in (True, False):
        ember.manual_seed(7)
        layer = nn.LSTM(5, 6, num_layers=2, bidirectional=True, bias=bias, fused=fused).double()
        x = np.random.default_rng(2).standard_normal((T, B, 5))
        x = ember.tensor(x, requires_grad=True)
        y, (h, c) = layer(x, lengths=[4, 2, 3])
        ((y * y).sum() + (c * h).sum()).backward()
        results.append(
            [y.array, h.array, c.array, x.grad.array] + [p.grad.array for p in layer.parameters()]
        )
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
