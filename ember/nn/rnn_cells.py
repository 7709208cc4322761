"""Recurrent cells, one time step, composed from primitive ops (autograd derives the gradients).

These are the equation-faithful versions: the fused whole-sequence ops in
``ember/ops/recurrent.py`` must equal them (tests hold the two together). Parameter names and
layouts are torch's, so ``cell.load_state_dict(torch_cell.state_dict())`` works.
"""

from __future__ import annotations

import math

from .. import backend
from .. import functional as F
from ..amp.autocast_mode import autocast_active
from ..backend import xp
from ..errors import InputError, InputTypeError
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity: str = "tanh"):
    """h_t = tanh(W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh)   (or ReLU)."""
    a = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    return a.tanh() if nonlinearity == "tanh" else a.relu()


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, gates: dict | None = None):
    """One LSTM step, the seed's six equations; returns (h_t, C_t). See :class:`LSTMCell`."""
    z = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)  # W·[h_{t-1}, x_t] + b, all 4 gates
    z_i, z_f, z_C, z_o = z.chunk(4, 1)
    f_t = z_f.sigmoid()
    i_t = z_i.sigmoid()
    C_tilde = z_C.tanh()
    C_t = f_t * c + i_t * C_tilde
    o_t = z_o.sigmoid()
    h_t = o_t * C_t.tanh()
    if w_hr is not None:
        h_t = F.linear(h_t, w_hr)  # projection (Sak et al. 2014): h_t = W_hr·(o_t ∗ tanh C_t)
    if gates is not None:
        gates.update(i=i_t, f=f_t, g=C_tilde, o=o_t, c=C_t, h=h_t)
    return h_t, C_t


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, reset_after: bool = True, gates=None):
    """One GRU step; returns h_t. See :class:`GRUCell` for the two forms of n_t."""
    H = h.shape[-1]
    a_r, a_z, a_n = F.linear(x, w_ih, b_ih).chunk(3, 1)
    rows = (slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H))  # (split(H) fails for H = 0)
    w_hr, w_hz, w_hn = (w_hh[r] for r in rows)
    b_hr, b_hz, b_hn = (None if b_hh is None else b_hh[r] for r in rows)
    r_t = (a_r + F.linear(h, w_hr, b_hr)).sigmoid()
    z_t = (a_z + F.linear(h, w_hz, b_hz)).sigmoid()
    if reset_after:
        n_t = (a_n + r_t * F.linear(h, w_hn, b_hn)).tanh()
    else:
        n_t = (a_n + F.linear(r_t * h, w_hn, b_hn)).tanh()
    h_t = (1 - z_t) * n_t + z_t * h
    if gates is not None:
        gates.update(r=r_t, z=z_t, n=n_t, h=h_t)
    return h_t


def run_composed(mode, x, state, weights, lengths, reverse, recorder, nonlinearity, reset_after):
    """One layer and direction of RNN/LSTM/GRU step by step with the cells above: x (T, B, I),
    state (h_0,) or (h_0, c_0) → (y (T, B, H_out), final state); the reference for the fused
    ops. Past a sequence's end (t ≥ lengths[b]) the state is kept and the output is zero."""
    w_ih, w_hh, b_ih, b_hh, *w_hr = weights
    T = x.shape[0]
    state = list(state)
    ys = [None] * T
    per_step = {}
    for t in range(T - 1, -1, -1) if reverse else range(T):
        g = {} if recorder is not None else None
        if mode == "LSTM":
            new = lstm_cell(x[t], state[0], state[1], w_ih, w_hh, b_ih, b_hh, w_hr[0], g)
        elif mode == "GRU":
            new = (gru_cell(x[t], state[0], w_ih, w_hh, b_ih, b_hh, reset_after, g),)
        else:
            new = (rnn_cell(x[t], state[0], w_ih, w_hh, b_ih, b_hh, nonlinearity),)
            g = None if g is None else {"h": new[0]}
        if lengths is None:
            state, ys[t] = list(new), new[0]
        else:
            m = Tensor((t < lengths)[:, None])
            state = [F.where(m, n, s) for n, s in zip(new, state)]
            ys[t] = F.where(m, new[0], 0.0)
        if g is not None:
            m = 1.0 if lengths is None else (t < lengths)[:, None]
            for n, v in g.items():
                per_step.setdefault(n, [None] * T)[t] = v.array * m
    if recorder is not None:
        recorder.update({n: xp.stack(v) for n, v in per_step.items()})
    return F.stack(ys), tuple(state)


class RNNCellBase(Module):
    """What RNNCell, LSTMCell and GRUCell share (torch's name, for ``isinstance`` checks):
    weight_ih (G·H, I), weight_hh (G·H, H) and biases (G·H,), G the number of gates: torch's
    ``num_chunks``, which defaults here to the subclass's own count."""

    n_gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, num_chunks: int | None = None,
        device=None, dtype=None,
    ):  # fmt: skip
        super().__init__()
        if num_chunks is not None and num_chunks != self.n_gates:
            self.n_gates = num_chunks
        backend.check_device(device)
        if input_size < 0 or hidden_size < 0:  # zero sizes build, as torch's cells do
            raise InputError(
                f"input_size and hidden_size must not be negative, got {input_size}, {hidden_size}"
            )
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        G, dtype = self.n_gates * hidden_size, dtype or backend.DEFAULT_DTYPE
        self.weight_ih = Parameter(xp.empty((G, input_size), dtype))
        self.weight_hh = Parameter(xp.empty((G, hidden_size), dtype))
        self.bias_ih = Parameter(xp.empty(G, dtype)) if bias else None
        self.bias_hh = Parameter(xp.empty(G, dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: every weight and bias uniform in ±1/√hidden_size."""
        k = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def _check(self, x: Tensor, hx):
        """x as (B, I) and whether it came unbatched; hx (a state or a tuple of them) must be
        (B, H) for a (B, I) input and (H,) for an (I,) one, as torch checks."""
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise InputError(
                f"{type(self).__name__}: expected input of shape (batch, {self.input_size}) or"
                f" ({self.input_size},), got {tuple(x.shape)}"
            )
        name, w_dtype = type(self).__name__, self.weight_ih.dtype
        # torch raises; NumPy would silently promote; under autocast the op casts both
        if x.dtype != w_dtype and not autocast_active():  # torch: RuntimeError from its mm
            raise InputError(
                f"{name}: expected input of the weights' dtype {w_dtype}, got {x.dtype}"
            )
        if self.n_gates == 4 and hx is not None:
            if not isinstance(hx, (tuple, list)):
                raise TypeError(f"{name}: expected hx = (h, c), a pair of Tensors, got {hx!r:.40}")
            if len(hx) != 2:  # torch's RuntimeError "lstm_cell expects two hidden states"
                raise InputTypeError(f"{name}: expected hx = (h, c), two states, got {len(hx)}")
        states = () if hx is None else hx if self.n_gates == 4 else (hx,)
        unbatched = x.ndim == 1
        want = (self.hidden_size,) if unbatched else (x.shape[0], self.hidden_size)
        for which, s in zip(("h", "c"), states):
            shape, dtype = tuple(getattr(s, "shape", ())), getattr(s, "dtype", None)
            if shape != want or dtype != w_dtype:  # torch: RuntimeError
                raise InputError(
                    f"{name}: expected {which} of shape {want} and dtype {w_dtype} for input of"
                    f" shape {tuple(x.shape)}, got {shape} and {dtype}"
                )
        if unbatched:
            x = x.unsqueeze(0)
        return x, unbatched

    def _zeros(self, x: Tensor) -> Tensor:
        return Tensor(xp.zeros((x.shape[0], self.hidden_size), x.dtype))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """Elman cell: h_t = tanh(W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh)  (nonlinearity "relu": ReLU).

    x (B, I) or (I,), h (B, H) → h_t (B, H). Weights as torch: weight_ih (H, I), weight_hh (H, H).
    """

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x = input
        x, unbatched = self._check(x, hx)
        h = self._zeros(x) if hx is None else (hx.unsqueeze(0) if unbatched else hx)
        h_t = rnn_cell(
            x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity
        )
        return h_t.squeeze(0) if unbatched else h_t


class LSTMCell(RNNCellBase):
    """Long short-term memory cell (Hochreiter & Schmidhuber 1997), one time step.

        f_t = σ(W_f·[h_{t-1}, x_t] + b_f)        forget gate
        i_t = σ(W_i·[h_{t-1}, x_t] + b_i)        input gate
        C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C)     candidate cell state
        C_t = f_t ∗ C_{t-1} + i_t ∗ C̃_t          cell state: the conveyor belt
        o_t = σ(W_o·[h_{t-1}, x_t] + b_o)        output gate
        h_t = o_t ∗ tanh(C_t)                    hidden state

    Storage: the seed's W·[h_{t-1}, x_t] + b splits the weight by columns into the part that
    multiplies h and the part that multiplies x, W = [W_hh | W_ih], so
    W·[h_{t-1}, x_t] + b = W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh with b = b_ih + b_hh. ember keeps
    them as torch does: ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh``
    (4H,), the four gates stacked in rows in the order i, f, g (= C̃), o. (Keras stacks
    i, f, c, o in an I×4H kernel; ONNX i, o, f, c: see ``ember.nn.rnn_layout``.)

    Shapes: x (B, I) or (I,); hx = (h, c), each (B, H), zeros if None → (h_t, C_t).
    """

    n_gates = 4

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ):  # torch's arguments: no num_chunks (RNNCellBase's), the cell is its own count
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx=None):  # noqa: A002
        x = input
        x, unbatched = self._check(x, hx)
        if hx is None:
            h = c = self._zeros(x)
        else:
            h, c = hx
            if unbatched:
                h, c = h.unsqueeze(0), c.unsqueeze(0)
        h_t, C_t = lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h_t.squeeze(0), C_t.squeeze(0)) if unbatched else (h_t, C_t)


class GRUCell(RNNCellBase):
    """Gated recurrent unit (Cho et al. 2014), one time step.

        r_t = σ(W_ir·x_t + b_ir + W_hr·h_{t-1} + b_hr)              reset gate
        z_t = σ(W_iz·x_t + b_iz + W_hz·h_{t-1} + b_hz)              update gate
        n_t = tanh(W_in·x_t + b_in + r_t ∗ (W_hn·h_{t-1} + b_hn))   reset_after=True (torch)
        n_t = tanh(W_in·x_t + b_in + W_hn·(r_t ∗ h_{t-1}) + b_hn)   reset_after=False (Cho 2014)
        h_t = (1 - z_t) ∗ n_t + z_t ∗ h_{t-1}

    The two candidate forms differ (torch, cuDNN and Keras' default use the first; the paper and
    Keras' ``reset_after=False`` the second), so a model trained in one gives other outputs in
    the other. Weights as torch: ``weight_ih`` (3H, I), ``weight_hh`` (3H, H), gates r, z, n.
    Shapes: x (B, I) or (I,), h (B, H) → h_t (B, H).
    """

    n_gates = 3

    def __init__(
        self, input_size, hidden_size, bias=True, device=None, dtype=None, *, reset_after=True
    ):
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x = input
        x, unbatched = self._check(x, hx)
        h = self._zeros(x) if hx is None else (hx.unsqueeze(0) if unbatched else hx)
        h_t = gru_cell(
            x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.reset_after
        )
        return h_t.squeeze(0) if unbatched else h_t
