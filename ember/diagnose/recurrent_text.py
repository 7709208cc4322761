"""Inside a recurrent language model over one text: its gates at every character, and how far
back the prediction at the end of the text reaches. The seed's LSTM story on a text of the
user's choosing (``ember inspect RUN --text ...`` for a CharLSTM run).

    draw_recurrent_inspection(model, ids, out_dir, labels)   the PNGs below; returns their paths
      gates_<module>_<layer>.png   f_t, i_t, C̃_t, o_t, C_t, h_t (a GRU: r_t, z_t, n_t, h_t; an
                                   RNN: h_t) of each layer and direction, units down, the text's
                                   characters across
      gradient_through_time.png    ‖∂L/∂h_t‖ against t for every layer, with L the loss of
                                   predicting the text's last character from the ones before
                                   it: how much each earlier step still moves that prediction
    text_gradient_through_time(model, ids)   those curves as arrays

The model takes a (1, T) batch of ids and returns logits (1, T, V), alone or first in a tuple
(CharLSTM returns (logits, state)). The text's last character is the target only; the
figures show the T − 1 steps before it.
"""

from __future__ import annotations

from pathlib import Path

from ..backend import to_numpy, xp
from ..function import no_grad
from ..functional import cross_entropy
from ..nn.rnn import RNNBase
from ..nn.rnn_tools import record_gates
from ..tensor import Tensor
from .figures import gate_heatmaps, save_png
from .through_time import gradient_through_time, plot_gradient_through_time


def recurrent_modules(model) -> list[tuple[str, RNNBase]]:
    """(dotted name, module) of every RNN/LSTM/GRU layer inside ``model``."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, RNNBase)]


def _batch(ids) -> tuple[Tensor, Tensor]:
    ids = [int(i) for i in ids]
    if len(ids) < 2:
        raise ValueError(
            f"the text needs at least two characters (the last one is the target), got {len(ids)}"
        )
    return Tensor(xp.asarray([ids[:-1]], dtype=xp.int64)), Tensor(xp.asarray([ids[-1]]))


def _logits(out) -> Tensor:
    return out[0] if isinstance(out, tuple) else out


def text_gradient_through_time(model, ids) -> dict:
    """{"<module>.<layer key>": ‖∂L/∂h_t‖ (T − 1,)} for L = cross-entropy of the prediction
    after the text's first T − 1 characters against its last one (model in eval mode)."""
    x, target = _batch(ids)
    model.eval()
    return gradient_through_time(model, lambda: cross_entropy(_logits(model(x))[:, -1], target))


def draw_recurrent_inspection(
    model, ids, out_dir, labels=None, max_labels: int = 80, captions: dict | None = None
) -> list[Path]:
    """Write the gate heatmaps and the gradient-through-time figure (module docstring).
    ``captions``, if given, receives {path: what that figure shows} for every figure written."""
    layers = dict(recurrent_modules(model))
    if not layers:
        raise ValueError(f"{type(model).__name__} has no RNN/LSTM/GRU layer to inspect")
    x, _ = _batch(ids)
    steps = x.shape[1]
    labels = None if labels is None else [str(c) for c in list(labels)[:steps]]
    time_labels = labels if labels is not None and steps <= max_labels else None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    with no_grad(), record_gates(model) as rec:
        model(x)
    paths, described = [], {}
    for name, calls in rec.items():
        batch_first = getattr(layers.get(name), "batch_first", False)
        for key, gates in calls[0].items():  # "l0", "l0_reverse", "l1", ...
            arrays = {
                g: to_numpy(a)[0] if batch_first else to_numpy(a)[:, 0] for g, a in gates.items()
            }
            title = f"{name} {key}: gates at every character (dark: closed, yellow: open)"
            fig = gate_heatmaps(arrays, title, time_labels=time_labels)
            paths.append(save_png(fig, out / f"gates_{name.replace('.', '_')}_{key}.png"))
            described[paths[-1]] = f"{name} {key}: its gates at each of the {steps} characters"
    curves = text_gradient_through_time(model, ids)
    title = "‖∂L/∂h_t‖: how much step t still matters to predicting the last character"
    paths.append(plot_gradient_through_time(curves, out / "gradient_through_time.png", title))
    described[paths[-1]] = f"‖∂L/∂h_t‖ of predicting character {steps + 1} from the {steps} before"
    if captions is not None:
        captions.update(described)
    return paths
