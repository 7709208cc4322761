"""Gradient through time: ‖∂L/∂h_t‖ for every step t of every recurrent layer.

For a loss L at the end of a sequence, the gradient reaching the hidden state h_t travels back
through every later step:

    ∂L/∂h_t = ∂L/∂y_t + (∂h_{t+1}/∂h_t)ᵀ · ∂L/∂h_{t+1}

For a tanh RNN ∂h_{t+1}/∂h_t = diag(1 - h_{t+1}²)·W_hh, so after k steps the gradient has been
multiplied by k such Jacobians and shrinks (or grows) geometrically: the vanishing-gradient
problem the seed describes. The LSTM's cell state adds a path ∂C_{t+1}/∂C_t = diag(f_{t+1}),
the conveyor belt, along which the gradient survives as long as the forget gates stay open.

The fused recurrent ops record ‖∂L/∂h_t‖ (the total gradient, through the output and through
the future) per sequence during backward when asked; this module asks, runs one batch and
draws the result.
"""

from __future__ import annotations

from pathlib import Path

import numpy

from ..backend import to_numpy
from ..nn.rnn import RNNBase


def gradient_through_time(model, loss_fn) -> dict[str, numpy.ndarray]:
    """Run ``loss_fn()`` (returns a scalar Tensor using ``model``) and backpropagate once.

    Returns {"<module>.<layer key>": norms of shape (T,)}: ‖∂L/∂h_t‖₂ per step averaged over the
    batch, for every layer and direction (keys like ``lstm.l0``, ``lstm.l1_reverse``). The
    model's existing ``.grad`` values are restored afterwards. Layers built with
    ``fused=False`` are run fused for the measurement.
    """
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, RNNBase)]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no RNN/LSTM/GRU layer to measure")
    saved = [(p, p.grad) for p in model.parameters()]
    fused = [m.fused for _, m in layers]
    try:
        for _, m in layers:
            m._grad_trace, m.fused = {}, True
        loss = loss_fn()
        loss.backward()
        out = {}
        for name, m in layers:
            for key, traces in m._grad_trace.items():
                norms = numpy.mean([to_numpy(t).mean(axis=1) for t in traces], axis=0)
                out[f"{name}.{key}" if name else key] = norms
    finally:
        for (_, m), f in zip(layers, fused):
            m._grad_trace, m.fused = None, f
        for p, g in saved:
            p.grad = g
    return out


def plot_gradient_through_time(curves: dict, path, title: str = "Gradient through time") -> Path:
    """Draw ‖∂L/∂h_t‖ against t (log scale) for each labelled curve; save a PNG at ``path``.

    ``curves`` maps a label to a (T,) array (e.g. the output of :func:`gradient_through_time`,
    or several models' curves side by side).
    """
    # a Figure of its own on the Agg canvas: pyplot's global state and the user's backend
    # stay as they were
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    underflow = False
    for label, norms in curves.items():
        norms = numpy.asarray(norms, dtype=float)
        underflow = underflow or bool((norms <= 0).any())
        # a gradient that underflowed to exactly 0 has no place on a log axis: not drawn
        ax.semilogy(numpy.arange(len(norms)), numpy.where(norms > 0, norms, numpy.nan), label=label)
    ax.set_xlim(0, max(len(n) for n in curves.values()) - 1)
    if underflow:
        ax.text(0.01, 0.02, "missing points: the gradient underflowed to exactly 0",
                transform=ax.transAxes, fontsize=8)  # fmt: skip
    ax.set_xlabel("time step t (the loss is computed at the last step)")
    ax.set_ylabel("‖∂L/∂h_t‖ (mean over the batch)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path
