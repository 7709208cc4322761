"""Tools around the recurrent layers: checking initial states, a stateful stream, and recording
the gates of a whole model."""

from __future__ import annotations

import contextlib

from ..backend import xp
from ..errors import InputError, InputTypeError
from ..tensor import Tensor, as_array

# torch's RNNBase modes → ember's mode (the subclass's) and nonlinearity
_MODES = {
    "LSTM": ("LSTM", "tanh"), "GRU": ("GRU", "tanh"),
    "RNN_TANH": ("RNN", "tanh"), "RNN_RELU": ("RNN", "relu"),
}  # fmt: skip


def resolve_mode(mode, nonlinearity: str | None) -> tuple[str, str]:
    """torch's ``RNNBase(mode, ...)``: 'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU', anything else
    a ValueError as torch's; an explicit ``nonlinearity`` (ember's RNN) wins over the mode's."""
    if mode not in _MODES:
        raise ValueError(f"Unrecognized RNN mode: {mode}")
    ember_mode, default = _MODES[mode]
    return ember_mode, default if nonlinearity is None else nonlinearity


@contextlib.contextmanager
def record_gates(model):
    """Record the gates of every RNN/LSTM/GRU layer inside ``model`` while in the block.

        with nn.record_gates(model) as rec:
            logits, state = model(x)
        rec["lstm"][0]["l1"]["f"]   # forget gate f_t of layer 1, every step: (B, T, H) or (T, B, H)

    ``rec`` maps each recurrent layer's dotted name to a list with one entry per call: the same
    dict ``forward(..., record_gates=True)`` returns. Outputs are unchanged.
    """
    layers = [(name, m) for name, m in model.named_modules() if hasattr(m, "_recorder")]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no RNN/LSTM/GRU layer to record")
    rec: dict[str, list] = {}
    for name, m in layers:
        m._recorder = rec.setdefault(name or type(m).__name__, [])
    try:
        yield rec
    finally:
        for _, m in layers:
            m._recorder = None


def initial_states(layer, x: Tensor, hx, unbatched: bool, input_shape):
    """A recurrent layer's hx (None: zeros), checked as torch checks it, as a list of
    per-(layer, direction) states: (h,), or (h, c) for the LSTM; x is time-major (T, B, I)."""
    LD, B = layer.num_layers * layer.num_directions, x.shape[1]
    P, H = layer.proj_size or layer.hidden_size, layer.hidden_size
    sizes = (P, H) if layer.mode == "LSTM" else (P,)
    name = type(layer).__name__
    if hx is None:
        parts = [Tensor(xp.zeros((LD, B, n), x.dtype)) for n in sizes]
    else:
        pair = isinstance(hx, (tuple, list))
        if pair != (layer.mode == "LSTM") or (pair and len(hx) != 2):
            want = "a pair (h_0, c_0) of Tensors" if layer.mode == "LSTM" else "one Tensor h_0"
            got = f"a {type(hx).__name__} of {len(hx)}" if pair else type(hx).__name__
            # torch: RuntimeError "lstm expects two hidden states" for a tuple of another length
            error = InputTypeError if pair and layer.mode == "LSTM" else TypeError
            raise error(f"{name}: expected hx to be {want}, got {got}")
        parts = [p if isinstance(p, Tensor) else Tensor(p) for p in (hx if pair else [hx])]
        for which, t, n in zip(("h_0", "c_0"), parts, sizes):
            want = (LD, n) if unbatched else (LD, B, n)
            layout = "" if unbatched else ", batch"
            if tuple(t.shape) != want:
                raise InputError(
                    f"{name}: {which} must have shape {want} (num_layers*num_directions"
                    f"{layout}, size) for input of shape {tuple(input_shape)}, got"
                    f" {tuple(t.shape)}"
                )
            if t.dtype != x.dtype:  # torch: RuntimeError from its mm
                raise InputError(
                    f"{name}: {which} must have the dtype of the input and the weights,"
                    f" {x.dtype}, got {t.dtype}"
                )
        parts = [p.unsqueeze(1) if unbatched else p for p in parts]
    return [tuple(p[k] for p in parts) for k in range(LD)]


class RecurrentStream:
    """Real-time use of a recurrent layer: feed one element at a time, the state stays inside.

    ``state_dict()`` / ``load_state_dict()`` save and restore the carried state (arrays);
    ``reset()`` forgets it. No graph is kept between calls unless the input requires grad.
    """

    def __init__(self, layer):
        self.layer, self.state = layer, None

    def __call__(self, x_t: Tensor) -> Tensor:
        y, state = self.layer.step(x_t, self.state)
        detach = (lambda s: s.detach()) if not y.requires_grad else (lambda s: s)
        self.state = tuple(map(detach, state)) if isinstance(state, tuple) else detach(state)
        return y

    def reset(self) -> None:
        self.state = None

    def state_dict(self) -> dict:
        if self.state is None:
            return {}
        parts = self.state if isinstance(self.state, tuple) else (self.state,)
        return {name: p.array.copy() for name, p in zip(("h", "c"), parts)}

    def load_state_dict(self, state: dict) -> None:
        if not state:
            self.state = None
        elif "c" in state:
            self.state = (Tensor(as_array(state["h"])), Tensor(as_array(state["c"])))
        else:
            self.state = Tensor(as_array(state["h"]))


def run_empty_batch(layer, x: Tensor, states):
    """A batch of no sequences, as torch: output (T, 0, D·H_out) on the graph of the input
    and every weight, so a backward gives them zero gradients, as torch's does; the (empty)
    states come back as they were given."""
    anchor = x.sum() * 0
    for p in layer.parameters():
        anchor = anchor + p.sum() * 0
    lstm = layer.mode == "LSTM"
    h_out = (layer.proj_size or layer.hidden_size) if lstm else layer.hidden_size
    shape = (x.shape[0], 0, layer.num_directions * h_out)
    out = Tensor(xp.zeros(shape, dtype=x.dtype)) + anchor
    return out, [tuple(s) for s in states], {}
