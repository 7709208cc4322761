"""Tools around the recurrent layers: a stateful stream, and recording gates of a whole model."""

from __future__ import annotations

import contextlib

from ..tensor import Tensor, as_array


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
        return {name: p.data.copy() for name, p in zip(("h", "c"), parts)}

    def load_state_dict(self, state: dict) -> None:
        if not state:
            self.state = None
        elif "c" in state:
            self.state = (Tensor(as_array(state["h"])), Tensor(as_array(state["c"])))
        else:
            self.state = Tensor(as_array(state["h"]))
