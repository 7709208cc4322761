"""Sequence layers RNN, LSTM and GRU with torch's constructor, parameter names and shapes.

Each layer k and direction (suffix "" or "_reverse") owns ``weight_ih_l{k}``,
``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` (and ``weight_hr_l{k}`` for an LSTM
with ``proj_size``), laid out as torch lays them, so a torch ``state_dict`` loads unchanged.
The forward pass runs one fused op per layer and direction (``ember/ops/recurrent.py``);
``fused=False`` runs the equation-faithful cells of ``rnn_cells.py`` step by step instead, and
the tests hold the two equal.

ember adds to torch's API (never changes it):
- ``lengths=`` for variable-length batches without packing: outputs past a sequence's end are
  zero and the final state of each sequence is taken at its own last step. A torch
  ``PackedSequence`` (``nn.utils.rnn``) is taken too, and runs as padded input + ``lengths``;
- ``record_gates=True``: also return every gate at every step, per layer and direction;
- ``step(x_t, state)`` and ``stream()`` for streaming one element at a time;
- ``forget_bias=`` and ``recurrent_init="orthogonal"`` initialisation options.
"""

from __future__ import annotations

import math
import warnings

from .. import backend
from .. import functional as F
from ..amp.autocast_mode import autocast_active
from ..backend import xp
from ..errors import InputError
from ..ops.recurrent import LSTMLayer
from ..ops.recurrent_gru import GRULayer
from ..ops.recurrent_rnn import RNNLayer
from ..tensor import Tensor, apply, as_array
from . import init
from .module import Module, Parameter
from .rnn_cells import run_composed
from .rnn_tools import RecurrentStream, initial_states, resolve_mode, run_empty_batch
from .utils.rnn import PackedSequence, pack_as, pad_packed_sequence

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """The machinery shared by RNN, LSTM and GRU; see those classes for the equations.

    torch's signature: a leading ``mode``, 'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU' (ember's
    ``mode`` attribute: 'LSTM', 'GRU' or 'RNN'). torch's RNNBase has no forward; ember's runs
    the mode's, so ``RNNBase("LSTM", ...)`` works as an LSTM."""

    mode = "RNN"

    def __init__(
        self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
        bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
        bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None, *,
        nonlinearity: str | None = None, reset_after: bool = True,
        forget_bias: float | None = None, recurrent_init: str = "uniform", fused: bool = True,
    ):  # fmt: skip
        super().__init__()
        backend.check_device(device)
        self.mode, nonlinearity = resolve_mode(mode, nonlinearity)
        if input_size <= 0 or hidden_size <= 0 or num_layers <= 0:
            raise ValueError(
                "input_size, hidden_size and num_layers must be positive, got"
                f" {input_size}, {hidden_size}, {num_layers}"
            )
        if isinstance(dropout, bool) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1], got {dropout!r}")
        if dropout and num_layers == 1:
            warnings.warn(
                f"dropout={dropout} does nothing with num_layers=1: dropout is applied to the"
                " outputs of every layer but the last", stacklevel=2,
            )  # fmt: skip
        if proj_size and self.mode != "LSTM":
            raise ValueError(f"proj_size is an LSTM option; {self.mode} has no projection")
        if proj_size < 0 or (proj_size and proj_size >= hidden_size):
            raise ValueError(
                f"proj_size must be in [0, hidden_size={hidden_size}), got {proj_size}"
            )
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        if recurrent_init not in ("uniform", "orthogonal"):
            raise ValueError(
                f"recurrent_init must be 'uniform' or 'orthogonal', got {recurrent_init!r}"
            )
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self.nonlinearity, self.reset_after, self.fused = nonlinearity, reset_after, fused
        self.forget_bias, self.recurrent_init = forget_bias, recurrent_init
        self._grad_trace = None  # set by ember.diagnose.through_time to collect ‖∂L/∂h_t‖
        self._recorder = None  # a list while inside ``nn.record_gates(model)``
        G, H = _GATES[self.mode] * hidden_size, hidden_size
        P = proj_size or H
        dtype = dtype or backend.DEFAULT_DTYPE
        for k in range(num_layers):
            for sfx in self._suffixes():
                fan_in = input_size if k == 0 else P * self.num_directions
                setattr(self, f"weight_ih_l{k}{sfx}", Parameter(xp.empty((G, fan_in), dtype)))
                setattr(self, f"weight_hh_l{k}{sfx}", Parameter(xp.empty((G, P), dtype)))
                if bias:
                    setattr(self, f"bias_ih_l{k}{sfx}", Parameter(xp.empty(G, dtype)))
                    setattr(self, f"bias_hh_l{k}{sfx}", Parameter(xp.empty(G, dtype)))
                if proj_size:
                    setattr(self, f"weight_hr_l{k}{sfx}", Parameter(xp.empty((P, H), dtype)))
        self.reset_parameters()

    num_directions = property(lambda self: 2 if self.bidirectional else 1)

    def _suffixes(self):
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self) -> None:
        """torch's default (all uniform in ±1/√hidden_size), then ember's options.

        ``forget_bias=b`` sets the forget-gate slice of ``bias_ih`` to b and of ``bias_hh`` to 0,
        so the forget gate starts at σ(b) (Jozefowicz et al. 2015 recommend b = 1).
        ``recurrent_init="orthogonal"`` makes each gate's H×H block of ``weight_hh`` orthogonal.
        """
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)
        H = self.hidden_size
        for layer, sfx in self._layer_keys():
            if self.recurrent_init == "orthogonal":
                w = getattr(self, f"weight_hh_l{layer}{sfx}")
                for g in range(_GATES[self.mode]):
                    block = Tensor(xp.empty((H, w.shape[1]), w.dtype))
                    w.array[g * H : (g + 1) * H] = init.orthogonal_(block).array
            if self.forget_bias is not None and self.mode == "LSTM" and self.bias:
                getattr(self, f"bias_ih_l{layer}{sfx}").array[H : 2 * H] = self.forget_bias
                getattr(self, f"bias_hh_l{layer}{sfx}").array[H : 2 * H] = 0.0

    def _layer_keys(self):
        return [(k, sfx) for k in range(self.num_layers) for sfx in self._suffixes()]

    @property
    def _all_weights(self) -> list[list[str]]:
        """torch's: the parameter names of each layer and direction, in torch's order."""
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        names += ["weight_hr"] if self.proj_size else []
        return [[f"{n}_l{k}{sfx}" for n in names] for k, sfx in self._layer_keys()]

    _flat_weights_names = property(lambda self: [n for ns in self._all_weights for n in ns])
    _flat_weights = property(lambda self: [getattr(self, n) for n in self._flat_weights_names])
    all_weights = property(
        lambda self: [[getattr(self, n) for n in ns] for ns in self._all_weights]
    )

    def _weights(self, layer: int, sfx: str):
        names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
        if self.mode == "LSTM":
            names.append("weight_hr")
        return [getattr(self, f"{n}_l{layer}{sfx}", None) for n in names]

    # ------------------------------------------------------------ checking inputs
    def _prepare(self, input: Tensor, hx, lengths):
        if not isinstance(input, Tensor):
            input = Tensor(input)
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            layout = "(batch, seq, feature)" if self.batch_first else "(seq, batch, feature)"
            raise InputError(
                f"{type(self).__name__}: expected input of shape {layout} or (seq, feature) with"
                f" feature = input_size = {self.input_size}, got {tuple(input.shape)}"
            )
        w = self.weight_ih_l0
        # torch raises ValueError too; NumPy would promote silently; autocast casts both
        if input.dtype != w.dtype and not autocast_active():
            fix = f"convert the input (x.to({w.dtype}))"
            if input.dtype.kind == "f":
                fix += f" or the layer (layer.to({input.dtype}))"
            raise ValueError(
                f"{type(self).__name__}: expected input of the weights' dtype {w.dtype}, got"
                f" {input.dtype}; {fix}"
            )
        unbatched = input.ndim == 2
        if unbatched:
            x = input.unsqueeze(1)
        else:
            x = input.transpose(0, 1) if self.batch_first else input
        T, B = x.shape[0], x.shape[1]
        if T == 0:  # (no sequences is fine: empty outputs, as torch); torch: RuntimeError
            raise InputError(
                f"{type(self).__name__}: expected at least one time step, got input of shape"
                f" {tuple(input.shape)}"
            )
        if lengths is not None:
            lengths = as_array(lengths).astype(xp.int64).reshape(-1)
            if lengths.shape != (B,) or lengths.min() < 0 or lengths.max() > T:
                raise ValueError(
                    f"lengths must hold {B} integers in [0, {T}] (one per sequence), got"
                    f" {lengths.tolist()}"
                )
        hs = initial_states(self, x, hx, unbatched, input.shape)
        return x, hs, lengths, unbatched

    # ------------------------------------------------------------ forward
    def forward(self, input: Tensor, hx=None, lengths=None, record_gates: bool = False):
        """Run the whole sequence; returns (output, h_n), or (output, (h_n, c_n)) for LSTM.

        input (T, B, I), or (B, T, I) with ``batch_first``, or unbatched (T, I).
        output (T, B, D·H_out) (batch_first: (B, T, D·H_out)), D = 2 if bidirectional,
        H_out = proj_size or hidden_size; h_n (num_layers·D, B, H_out) and c_n
        (num_layers·D, B, hidden_size) whatever ``batch_first`` says, as in torch; in h_n the
        directions of a layer are adjacent (index 2k forward, 2k+1 reverse).
        ``lengths`` (B,) optional: sequence b is input[:lengths[b]] (see the module docstring).
        input may be a PackedSequence (data (Σ lengths, I)), as in torch: output is then one
        with the same batch_sizes and indices (data (Σ lengths, D·H_out)); h_n, c_n and a
        given hx are in the original batch order.
        ``record_gates=True`` appends a dict {"l0": {...}, "l0_reverse": {...}, ...} of
        Tensors in the output's layout: LSTM keys i, f, g (= C̃_t, torch's name for it), o,
        c (C_t), h (h_t); GRU keys r, z, n, h; RNN key h. For a packed input they stay padded,
        (T_max, B, H) or batch_first (B, T_max, H), original order, zero past each end.
        """
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx, lengths, record_gates)
        x, states, lengths, unbatched = self._prepare(input, hx, lengths)
        record = record_gates or self._recorder is not None
        out, finals, gates = self._run(x, states, lengths, record)
        if unbatched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        hn = [F.stack([s[j] for s in finals]) for j in range(len(finals[0]))]
        if unbatched:
            hn = [h.squeeze(1) for h in hn]
        result = (out, (hn[0], hn[1]) if self.mode == "LSTM" else hn[0])
        if record:
            gates = {k: {n: Tensor(self._layout(a, unbatched)) for n, a in g.items()}
                     for k, g in gates.items()}  # fmt: skip
            if self._recorder is not None:
                self._recorder.append(gates)
            if record_gates:
                result = result + (gates,)
        return result

    def _forward_packed(self, seq: PackedSequence, hx, lengths, record_gates: bool):
        """Unpack, run the padded batch with its lengths, pack the output like the input."""
        if lengths is not None or seq.data.ndim != 2 or seq.data.shape[1] != self.input_size:
            raise InputError(
                f"{type(self).__name__}: expected a PackedSequence with data (sum of lengths,"
                f" input_size={self.input_size}) and no lengths= (it carries its own), got data"
                f" of shape {tuple(seq.data.shape)} and lengths={as_array(lengths).tolist()}"
            )
        padded, lens = pad_packed_sequence(seq, self.batch_first)
        out, *rest = self.forward(padded, hx, lens.array, record_gates)
        return (pack_as(out, seq, self.batch_first), *rest)

    def _layout(self, a, unbatched: bool):
        """A recorded (T, B, H) array in the layout of the output."""
        if unbatched:
            return a[:, 0]
        return a.transpose(1, 0, 2) if self.batch_first else a

    def _run(self, x: Tensor, states, lengths, record: bool):
        if x.shape[1] == 0:  # no sequences: empty outputs, the (empty) states as they came
            return run_empty_batch(self, x, states)
        finals, gates = [], {}
        for layer in range(self.num_layers):
            outs = []
            for d, sfx in enumerate(self._suffixes()):
                key = f"l{layer}{sfx}"
                state = states[layer * self.num_directions + d]
                recorder = {} if record else None
                run = self._run_fused if self.fused else self._run_composed
                y, final = run(x, state, self._weights(layer, sfx), lengths, d == 1, recorder, key)
                outs.append(y)
                finals.append(final)
                if record:
                    gates[key] = recorder
            x = outs[0] if len(outs) == 1 else F.cat(outs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, finals, gates

    def _run_fused(self, x, state, weights, lengths, reverse, recorder, key):
        trace = None
        if self._grad_trace is not None:
            trace = self._grad_trace.setdefault(key, [])
        common = dict(lengths=lengths, reverse=reverse, recorder=recorder, grad_trace=trace)
        w_ih, w_hh, b_ih, b_hh, *w_hr = weights
        if self.mode == "LSTM":
            y, h, c = apply(LSTMLayer, x, *state, w_ih, w_hh, b_ih, b_hh, w_hr[0], **common)
            return y, (h, c)
        if self.mode == "GRU":
            op, extra = GRULayer, {"reset_after": self.reset_after}
        else:
            op, extra = RNNLayer, {"nonlinearity": self.nonlinearity}
        y, h = apply(op, x, state[0], w_ih, w_hh, b_ih, b_hh, **extra, **common)
        return y, (h,)

    def _run_composed(self, x, state, weights, lengths, reverse, recorder, key):
        """The same layer step by step with the one-step cells: the reference for the fused op."""
        options = dict(nonlinearity=self.nonlinearity, reset_after=self.reset_after)
        return run_composed(self.mode, x, state, weights, lengths, reverse, recorder, **options)

    # ------------------------------------------------------------ streaming
    def step(self, x_t: Tensor, state=None):
        """Advance one time step: x_t (B, I) or (I,) → (y_t, state).

        ``state`` is what the previous call returned (h_n, or (h_n, c_n) for LSTM; None for
        zeros); it is a plain value, so it can be kept, copied, saved and restored. Stepping
        through a sequence equals running it whole.
        """
        if self.bidirectional:
            raise ValueError("step(): a bidirectional layer needs the whole sequence")
        if not isinstance(x_t, Tensor):
            x_t = Tensor(x_t)
        if x_t.ndim not in (1, 2):
            raise ValueError(
                f"step(): expected x_t of shape (batch, input) or (input,), got {x_t.shape}"
            )
        seq = x_t.unsqueeze(0)
        if self.batch_first and x_t.ndim == 2:
            seq = seq.transpose(0, 1)
        y, state = self.forward(seq, state)
        return y.squeeze(1 if self.batch_first and x_t.ndim == 2 else 0), state

    def stream(self) -> RecurrentStream:
        """A stateful streaming wrapper: ``s = lstm.stream(); y_t = s(x_t); s.reset()``."""
        return RecurrentStream(self)

    def flatten_parameters(self) -> None:
        """torch API compatibility: the fused op needs no flattened weight buffer."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):  # fmt: skip
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh) per layer (or ReLU).

    torch's arguments: RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh",
    bias=True, batch_first=False, dropout=0.0, bidirectional=False). Shapes: see
    :meth:`RNNBase.forward`. The seed's warning made visible: the gradient reaching h_t from
    step t+k is multiplied by k Jacobians diag(1 - h²)·W_hh, so it vanishes or explodes with k
    (``ember.diagnose.through_time`` draws it).
    """

    mode = "RNN"

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, **options):  # fmt: skip
        super().__init__("RNN_TANH", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, nonlinearity=nonlinearity, **options)  # fmt: skip


class LSTM(RNNBase):
    """Long short-term memory over a sequence, layer after layer (equations: :class:`LSTMCell`).

        f_t = σ(W_f·[h_{t-1}, x_t] + b_f)    i_t = σ(W_i·[h_{t-1}, x_t] + b_i)
        C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C)  C_t = f_t ∗ C_{t-1} + i_t ∗ C̃_t
        o_t = σ(W_o·[h_{t-1}, x_t] + b_o)    h_t = o_t ∗ tanh(C_t)   (W_hr·(o_t ∗ tanh C_t) with
        proj_size)

    torch's arguments: LSTM(input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, proj_size=0); weights per layer k
    ``weight_ih_lk`` (4H, I), ``weight_hh_lk`` (4H, H_out), ``bias_ih_lk``, ``bias_hh_lk``
    (4H,), ``weight_hr_lk`` (proj_size, H), gates stacked i, f, g(=C̃), o. Layers after the
    first take D·H_out inputs. Returns (output, (h_n, c_n)); shapes in :meth:`RNNBase.forward`.
    ember options: ``forget_bias``, ``recurrent_init="orthogonal"``, ``fused=False``.
    """

    mode = "LSTM"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, **options):  # fmt: skip
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, **options)  # fmt: skip


class GRU(RNNBase):
    """Gated recurrent unit over a sequence (equations and the two forms: :class:`GRUCell`).

        r_t = σ(W_ir·x_t + b_ir + W_hr·h_{t-1} + b_hr)
        z_t = σ(W_iz·x_t + b_iz + W_hz·h_{t-1} + b_hz)
        n_t = tanh(W_in·x_t + b_in + r_t ∗ (W_hn·h_{t-1} + b_hn))
            (reset_after=False: n_t = tanh(W_in·x_t + b_in + W_hn·(r_t ∗ h_{t-1}) + b_hn), Cho 2014)
        h_t = (1 - z_t) ∗ n_t + z_t ∗ h_{t-1}

    torch's arguments: GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False); ``weight_ih_lk`` (3H, I), ``weight_hh_lk`` (3H, H), gates
    r, z, n. Returns (output, h_n).
    """

    mode = "GRU"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, **options):  # fmt: skip
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, **options)  # fmt: skip
