"""Recorded derivatives (autograd_higher.py) of the fused recurrent layers: LSTM, GRU and the
vanilla RNN over a whole sequence, taken through the cells' equations built on the spot from ops
that have rules, step by step, with the layer's own variable-length masks and direction.

    LSTM:  i, f, o = σ(·), C̃ = tanh(·) of W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh (rows i, f, g, o)
           C_t = f ⊙ C_{t-1} + i ⊙ C̃,   h_t = o ⊙ tanh(C_t)   (then W_hr·h_t with proj_size)
    GRU:   r, z = σ(·),  n = tanh(W_in·x_t + b_in + r ⊙ (W_hn·h_{t-1} + b_hn)),
           h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}   (Cho et al.'s form: r ⊙ h_{t-1} inside W_hn·)
    RNN:   h_t = tanh or relu(W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh)

A masked step (past a sequence's length) keeps the state and outputs zero, as the fused op.
"""

from __future__ import annotations

from .autograd_higher import rule
from .autograd_higher_fused import _vjp, given_inputs
from .ops import recurrent as RL
from .ops import recurrent_gru as RG
from .ops import recurrent_rnn as RR
from .ops import shape as S
from .tensor import Tensor, apply


def _linear(x, w, b=None):
    y = x @ w.transpose(0, 1)
    return y if b is None else y + b


def _rows(t, lo: int, hi: int):
    return apply(S.GetItem, t, index=(slice(None), slice(lo, hi)))


def _run(fn, x, states, cell):
    """The recurrence over x (T, B, ·) in the op's direction; returns (y (T, B, ·), states)."""
    steps = range(x.shape[0] - 1, -1, -1) if fn.reverse else range(x.shape[0])
    ys = [None] * x.shape[0]
    for t in steps:
        new = cell(apply(S.GetItem, x, index=t), states)
        if fn.masks is not None:  # past its end a sequence keeps its state and outputs zero
            keep = Tensor(fn.masks[t].reshape(-1, 1).astype(x.array.dtype))
            new = tuple(n * keep + s * (1.0 - keep) for n, s in zip(new, states))
            ys[t] = new[0] * keep
        else:
            ys[t] = new[0]
        states = new
    return apply(S.Stack, *ys, axis=0), states


@rule(RL.LSTMLayer)
def _lstm(fn, gys):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = given_inputs(fn)
    hidden = c0.shape[1]

    def cell(x_t, states):
        h, c = states
        g = _linear(x_t, w_ih, b_ih) + _linear(h, w_hh, b_hh)
        i, f = _rows(g, 0, hidden).sigmoid(), _rows(g, hidden, 2 * hidden).sigmoid()
        c_tilde = _rows(g, 2 * hidden, 3 * hidden).tanh()
        o = _rows(g, 3 * hidden, 4 * hidden).sigmoid()
        c = f * c + i * c_tilde
        h = o * c.tanh()
        return (h if w_hr is None else _linear(h, w_hr)), c

    y, (h_n, c_n) = _run(fn, x, (h0, c0), cell)
    pairs = [(o, g) for o, g in zip((y, h_n, c_n), gys) if g is not None]
    return _vjp([o for o, _ in pairs], list(fn.parents), [g for _, g in pairs])


@rule(RG.GRULayer)
def _gru(fn, gys):
    x, h0, w_ih, w_hh, b_ih, b_hh = given_inputs(fn)
    hidden = h0.shape[1]

    def cell(x_t, states):
        (h,) = states
        gi = _linear(x_t, w_ih, b_ih)
        w_t = w_hh.transpose(0, 1)  # (H, 3H): columns r, z, n
        w_rz, w_n = _rows(w_t, 0, 2 * hidden), _rows(w_t, 2 * hidden, 3 * hidden)
        b_rz = None if b_hh is None else apply(S.GetItem, b_hh, index=slice(0, 2 * hidden))
        b_n = None if b_hh is None else apply(S.GetItem, b_hh, index=slice(2 * hidden, None))
        gh = h @ w_rz if b_rz is None else h @ w_rz + b_rz
        r = (_rows(gi, 0, hidden) + _rows(gh, 0, hidden)).sigmoid()
        z = (_rows(gi, hidden, 2 * hidden) + _rows(gh, hidden, 2 * hidden)).sigmoid()
        inner = h @ w_n if fn.reset_after else (r * h) @ w_n
        if b_n is not None:
            inner = inner + b_n
        n = (_rows(gi, 2 * hidden, 3 * hidden) + (r * inner if fn.reset_after else inner)).tanh()
        return ((1.0 - z) * n + z * h,)

    y, (h_n,) = _run(fn, x, (h0,), cell)
    pairs = [(o, g) for o, g in zip((y, h_n), gys) if g is not None]
    return _vjp([o for o, _ in pairs], list(fn.parents), [g for _, g in pairs])


@rule(RR.RNNLayer)
def _rnn(fn, gys):
    x, h0, w_ih, w_hh, b_ih, b_hh = given_inputs(fn)

    def cell(x_t, states):
        (h,) = states
        a = _linear(x_t, w_ih, b_ih) + _linear(h, w_hh, b_hh)
        return (a.tanh() if fn.nonlinearity == "tanh" else a.relu(),)

    y, (h_n,) = _run(fn, x, (h0,), cell)
    pairs = [(o, g) for o, g in zip((y, h_n), gys) if g is not None]
    return _vjp([o for o, _ in pairs], list(fn.parents), [g for _, g in pairs])
