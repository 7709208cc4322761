"""Converters for the recurrent layers: one ember LSTMLayer / GRULayer (one layer, one
direction) becomes one ONNX LSTM / GRU node with ``direction`` forward or reverse.

ember's nn.LSTM / nn.GRU run each layer and direction as its own op and join them with Cat,
Stack and Permute (batch_first), which convert on their own: stacking, bidirectionality and
batch_first need nothing here. A layer with a projection (proj_size) becomes a Scan
(``rnn_scan``). ONNX stacks the gates in another order (LSTM i, o, f, c; GRU
z, r, h) and wants W (1, G·H, I), R (1, G·H, H), B (1, 2·G·H): ``nn.rnn_layout.to_onnx``
reorders the torch-layout weights, which must be constants (parameters) of the model.
"""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from ..nn.rnn_layout import to_onnx
from .rnn_scan import lstm_scan


def _weights(g, op, w_ih, w_hh, b_ih, b_hh, mode):
    for a in (w_ih, w_hh, b_ih, b_hh):
        if a is not None and id(a) in g.names and id(a) not in g.param_names:
            raise NotImplementedError(
                f"ember.onnx.export: {op.name} with weights computed in the forward pass"
            )
    W, R, B = (to_numpy(a) for a in to_onnx(w_ih, w_hh, b_ih, b_hh, mode=mode))
    base = g.param_names.get(id(w_ih)) or g.fresh(mode.lower())
    suffix = base.rsplit("weight_ih", 1)[-1] if "weight_ih" in base else ""
    prefix = base.rsplit("weight_ih", 1)[0] if "weight_ih" in base else base + "."
    names = [f"{prefix}onnx_{k}{suffix}" for k in "WRB"]
    for n, a in zip(names, (W, R, B)):
        g.add_initializer(n, a)
    return names


def _state(g, a) -> str:
    """An initial state (B, H) as ONNX's (1, B, H); "" (zeros, ONNX's default) for a constant
    zero state, so that the batch size is not baked into the graph."""
    if a is None:
        return ""
    if id(a) not in g.names and id(a) not in g.param_names and not np.any(to_numpy(a)):
        return ""
    if id(a) not in g.names:
        return g.const(to_numpy(a)[None], "state")
    return g.unsqueeze(g.value(a), [0])


def _outputs(g, y, states):
    """Y (T, 1, B, H) → (T, B, H); Y_h, Y_c (1, B, H) → (B, H)."""
    return [g.squeeze(y, [1])] + [g.squeeze(s, [0]) for s in states]


def _check(op):
    if op.consts.get("lengths") is not None:
        raise NotImplementedError(f"ember.onnx.export: {op.name} with packed sequences (lengths)")


def _lstm(g, op):
    _check(op)
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = (list(op.inputs) + [None] * 8)[:8]
    if w_hr is not None:  # ONNX's LSTM has no projection: the recurrence as a Scan
        return lstm_scan(g, op)
    W, R, B = _weights(g, op, w_ih, w_hh, b_ih, b_hh, "LSTM")
    H = w_hh.shape[0] // 4
    direction = "reverse" if op.consts.get("reverse", False) else "forward"
    ins = [g.value(x), W, R, B, "", _state(g, h0), _state(g, c0)]
    y, yh, yc = g.node("LSTM", ins, n_out=3, hidden_size=H, direction=direction)
    return _outputs(g, y, [yh, yc])


def _gru(g, op):
    _check(op)
    x, h0, w_ih, w_hh, b_ih, b_hh = (list(op.inputs) + [None] * 6)[:6]
    W, R, B = _weights(g, op, w_ih, w_hh, b_ih, b_hh, "GRU")
    H = w_hh.shape[0] // 3
    direction = "reverse" if op.consts.get("reverse", False) else "forward"
    lbr = int(bool(op.consts.get("reset_after", True)))  # torch's form: r ∗ (W_hn·h + b_hn)
    ins = [g.value(x), W, R, B, "", _state(g, h0)]
    y, yh = g.node("GRU", ins, n_out=2, hidden_size=H, direction=direction, linear_before_reset=lbr)
    return _outputs(g, y, [yh])


#: the initial-state inputs that ``_state`` leaves out of the graph when they are zeros (the
#: consistency check lets their shape follow the batch size)
ZERO_STATE_SLOTS = {"LSTMLayer": (1, 2), "GRULayer": (1,)}

RNN_CONVERTERS = {"LSTMLayer": _lstm, "GRULayer": _gru}
