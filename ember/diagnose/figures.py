"""Figure helpers shared by the diagnostics, the recorders and the run report.

matplotlib with the Agg canvas only (no pyplot, no global state, no display): every helper
returns a ``matplotlib.figure.Figure``; ``to_png_bytes`` and ``save_png`` turn it into a PNG.

    line_plot(series, ...)          curves, e.g. loss against step, several runs overlaid
    heatmap(array, ...)             one matrix, e.g. attention weights or a gate over time
    image_grid(images, ...)         many small maps, e.g. a conv layer's feature maps
    gate_heatmaps(gates, ...)       an LSTM's f_t, i_t, C̃_t, o_t, C_t, h_t over time, stacked
    gradient_through_time_figure(norms)  ‖∂L/∂h_t‖ against t, log scale, models overlaid
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..serialization import atomic_write_text

#: a run's colour in comparisons (A, B, C, …): colour-blind-safe, distinct in grey
RUN_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]


def depth_colour(k: int, n: int):
    """The colour of layer ``k`` of ``n``: dark (first layer) to light (last), viridis."""
    return colormaps["viridis"](0.9 * k / max(1, n - 1))


def new_figure(width: float = 7.0, height: float = 3.6) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_png(fig: Figure, path, dpi: int = 100) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_png_bytes(fig, dpi))
    return path


def add_captions(fig_dir, captions: dict) -> Path:
    """Merge {path relative to ``fig_dir``: caption} into ``fig_dir/captions.json``, the file
    the run report reads its figure captions from (written atomically)."""
    path = Path(fig_dir) / "captions.json"
    known = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    known.update(captions)
    atomic_write_text(path, json.dumps(known, indent=1, ensure_ascii=False))
    return path


def line_plot(
    series,
    title: str,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
    ax=None,
    reference: float | None = None,
    reference_label: str | None = None,
    width: float = 7.0,
    height: float = 3.6,
) -> Figure:
    """Curves from ``series``: {label: (x, y)} or {label: (x, y, style dict)}.

    ``reference`` draws a dotted horizontal line (e.g. the healthy update ratio 1e-3).
    Non-finite and (with ``logy``) non-positive values are left out of the curve.
    """
    fig = ax.figure if ax is not None else new_figure(width, height)
    ax = ax if ax is not None else fig.add_subplot()
    for label, spec in series.items():
        x, y = np.asarray(spec[0], dtype=float), np.asarray(spec[1], dtype=float)
        style = dict(spec[2]) if len(spec) > 2 else {}
        keep = np.isfinite(y) & (y > 0 if logy else True)
        if not keep.any():
            continue
        style.setdefault("lw", 1.4)
        ax.plot(x[keep], y[keep], label=label, **style)
    if reference is not None:
        ax.axhline(reference, color="0.4", ls=":", lw=1, label=reference_label)
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        n = len(ax.get_legend_handles_labels()[0])
        ax.legend(fontsize=7 if n > 6 else 8, ncol=2 if n > 8 else 1, loc="best")
    return fig


def _range_of(a):
    """(cmap, vmin, vmax): [0, 1] for gates and probabilities, [-1, 1] for tanh outputs,
    symmetric around 0 otherwise (a cell state, a gradient)."""
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    if lo >= 0.0 and hi <= 1.0:
        return "viridis", 0.0, 1.0
    m = max(abs(lo), abs(hi))
    if m <= 1.0:
        return "RdBu_r", -1.0, 1.0
    return "RdBu_r", -m, m


def heatmap(
    array,
    title: str,
    xlabel: str,
    ylabel: str,
    ax=None,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar_label: str | None = None,
) -> Figure:
    """One matrix as an image: rows down the y axis, columns along x."""
    a = np.asarray(array, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"heatmap needs a 2-d array, got shape {a.shape}")
    auto_cmap, auto_lo, auto_hi = _range_of(a)
    fig = ax.figure if ax is not None else new_figure(6.0, 4.0)
    ax = ax if ax is not None else fig.add_subplot()
    im = ax.imshow(
        a,
        aspect="auto",
        interpolation="nearest",
        cmap=cmap or auto_cmap,
        vmin=auto_lo if vmin is None else vmin,
        vmax=auto_hi if vmax is None else vmax,
    )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    cb = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.01)
    if colorbar_label:
        cb.set_label(colorbar_label)
    return fig


def image_grid(
    images, titles=None, title: str = "", ncols: int = 8, cmap: str = "viridis"
) -> Figure:
    """Small 2-d maps in a grid (feature maps, filters), each scaled to its own range."""
    images = [np.asarray(im, dtype=float) for im in images]
    if not images:
        raise ValueError("image_grid needs at least one image")
    ncols = min(ncols, len(images))
    nrows = math.ceil(len(images) / ncols)
    fig = new_figure(1.5 * ncols, 1.6 * nrows + 0.4)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= len(images):
            ax.set_visible(False)
            continue
        ax.imshow(images[k], cmap=cmap, interpolation="nearest")
        if titles is not None:
            ax.set_title(str(titles[k]), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


#: the recurrent layers' short record keys -> the seed's names
GATE_NAMES = {
    "f": "f_t  forget gate",
    "i": "i_t  input gate",
    "g": "C̃_t  candidate cell state",
    "o": "o_t  output gate",
    "c": "C_t  cell state",
    "h": "h_t  hidden state",
    "r": "r_t  reset gate",
    "z": "z_t  update gate",
    "n": "n_t  candidate state",
}


def gate_heatmaps(
    gates: dict,
    title: str = "LSTM gates over time",
    max_units: int = 64,
    sequence: int = 0,
    time_labels: list | None = None,
) -> Figure:
    """One heatmap per recorded quantity, units down, time across, stacked in the given order.

    ``gates``: {name: array (T, H)} for one sequence, or (T, B, H) for a batch (sequence
    ``sequence`` is drawn), e.g. the LSTM's f_t, i_t, C̃_t, o_t, C_t, h_t. The short keys
    the recurrent layers record ("f", "i", "g", "o", "c", "h"; GRU "r", "z", "n") are shown
    with the seed's names. Gates in [0, 1] share the viridis scale 0..1 (dark: closed,
    yellow: open); tanh outputs the diverging scale -1..1; the cell state a diverging scale
    symmetric around 0. At most ``max_units`` units are drawn. Units and time steps get
    whole-number ticks; ``time_labels`` (one per step, e.g. the characters of a text) label
    the time axis instead.
    """
    if not gates:
        raise ValueError("gate_heatmaps needs at least one recorded gate")
    arrays = {}
    for name, a in gates.items():
        a = np.asarray(getattr(a, "array", a), dtype=float)
        if a.ndim == 3:
            if not 0 <= sequence < a.shape[1]:
                raise IndexError(f"sequence {sequence} is out of range for {a.shape[1]} sequences")
            a = a[:, sequence, :]
        if a.ndim != 2:
            raise ValueError(
                f"gate {name!r} must be (T, H) for one sequence or (T, B, H), got shape {a.shape}"
            )
        arrays[GATE_NAMES.get(name, name)] = a[:, :max_units]
    n = len(arrays)
    fig = new_figure(8.0, 1.9 * n + 0.6)
    axes = fig.subplots(n, 1, squeeze=False, sharex=True)[:, 0]
    for ax, (name, a) in zip(axes, arrays.items()):
        heatmap(a.T, "", "", "unit", ax=ax, colorbar_label=name.split()[0])
        ax.set_title(name, loc="left", fontsize=10)
        # units and steps are whole numbers: no ticks at 2.5 (imshow's default locator)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    axes[-1].set_xlabel("time step t")
    if time_labels is not None:
        steps = next(iter(arrays.values())).shape[0]
        if len(time_labels) != steps:
            raise ValueError(f"time_labels: {len(time_labels)} labels for {steps} time steps")
        shown = [repr(c)[1:-1] if c.isspace() else c for c in map(str, time_labels)]
        axes[-1].set_xticks(range(steps), shown, fontsize=7)
    fig.suptitle(title)
    return fig


def gradient_through_time_figure(norms: dict, title: str = "Gradient through time") -> Figure:
    """‖∂L/∂h_t‖ against t for each model ({label: array (T,)}), log scale: a line that
    falls steeply towards t = 0 is a gradient vanishing through time."""
    series = {
        label: (np.arange(len(v)), np.asarray(getattr(v, "array", v), dtype=float))
        for label, v in norms.items()
    }
    return line_plot(series, title, "time step t", "‖∂L/∂h_t‖", logy=True)
