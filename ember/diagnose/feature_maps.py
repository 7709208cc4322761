"""Seeing inside a CNN: each conv layer's feature maps for one input, and the first filters.

    feature map of channel o at layer ℓ:  h^ℓ_o = (W^ℓ_o ⋆ h^{ℓ−1}) + b^ℓ_o      (before ReLU)
    filter o of the first layer:          W¹_o   (C × kh × kw), shown per input channel

``capture_feature_maps`` records the output of every Conv1d/Conv2d with forward hooks
(one forward pass, no graph); ``feature_map_figures`` draws one grid per conv layer, the
first layer's filters as a grid, and the input itself, and returns the Figures;
``save_feature_maps`` writes those figures as PNGs. Early layers respond to edges
and strokes, later ones to larger parts (Zeiler & Fergus 2014, "Visualizing and
Understanding Convolutional Networks").

matplotlib's Agg canvas only: no pyplot, no display, no global state.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import backend, nn
from ..function import no_grad
from ..tensor import Tensor

CONV_TYPES = (nn.Conv1d, nn.Conv2d)


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(dotted name, module) of every convolution, in the order they are registered."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, CONV_TYPES)]


def capture_feature_maps(model: nn.Module, x: Tensor) -> dict[str, np.ndarray]:
    """{conv layer name: its output for ``x`` (N, C_out, ...)} from one eval-mode forward pass."""
    layers = conv_layers(model)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no Conv1d/Conv2d layers to show")
    maps: dict[str, np.ndarray] = {}
    handles = []
    for name, m in layers:

        def record(module, inputs, output, name=name):
            maps[name] = np.array(backend.to_numpy(output.array))

        handles.append(m.register_forward_hook(record))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(x if isinstance(x, Tensor) else Tensor(x))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return maps


def first_conv_filters(model: nn.Module) -> tuple[str, np.ndarray]:
    """(name, weight (O, C, kh, kw) or (O, C, k)) of the first convolution."""
    layers = conv_layers(model)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no Conv1d/Conv2d layers")
    name, m = layers[0]
    return name, np.array(backend.to_numpy(m.weight.array))


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, max(1, math.ceil(math.sqrt(n))))
    return math.ceil(n / cols), cols


def plot_image_grid(images, title: str, labels=None, cmap: str = "viridis",
                    symmetric: bool = False) -> Figure:  # fmt: skip
    """Small maps side by side: 2-D arrays as images, 1-D arrays as curves."""
    n = len(images)
    rows, cols = _grid(n)
    fig = _figure(1.4 * cols + 0.6, 1.4 * rows + 0.6)
    fig.suptitle(title, fontsize=10)
    for i, img in enumerate(images):
        ax = fig.add_subplot(rows, cols, i + 1)
        img = np.asarray(img)
        if img.ndim == 1:
            ax.plot(img, linewidth=1)
            ax.set_xticks([])
            ax.tick_params(labelsize=6)
        else:
            kw = {}
            if symmetric:
                v = float(np.abs(img).max()) or 1.0
                kw = {"vmin": -v, "vmax": v}
            ax.imshow(img, cmap=cmap, interpolation="nearest", **kw)
            ax.set_xticks([])
            ax.set_yticks([])
        if labels is not None:
            ax.set_title(labels[i], fontsize=7)
    return fig


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "layer"


def feature_map_figures(
    model: nn.Module,
    x: Tensor,
    sample: int = 0,
    max_channels: int = 32,
    captions: dict | None = None,
) -> dict[str, Figure]:
    """The figures ``save_feature_maps`` writes, as Figures: {"input": the input, each conv
    layer's dotted name: a grid of its first ``max_channels`` feature maps, "filters": the
    first layer's filters}, in that order.

    ``x`` is a batch; ``sample`` picks which of its inputs to show. Each figure has its own
    Agg canvas, outside pyplot (nothing to close, the user's backend untouched): show it in a
    notebook, or ``fig.savefig(...)``.
    A conv layer named "input" or "filters" is keyed "<name> (feature maps)". ``captions``,
    if given, receives {key: what that figure shows}.
    """
    figures, described = {}, {}
    for key, fig, caption, _ in _feature_map_figures(model, x, sample, max_channels):
        figures[key], described[key] = fig, caption
    if captions is not None:
        captions.update(described)
    return figures


def _feature_map_figures(model, x, sample, max_channels):
    """(key, Figure, caption, file name) of each figure, input first, filters last."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    maps = capture_feature_maps(model, x)
    shown = np.array(backend.to_numpy(x.array))[sample]
    img = shown[0] if shown.ndim == 3 and shown.shape[0] == 1 else shown
    if img.ndim == 3:  # colour: channels last for imshow, scaled to [0, 1]
        img = img.transpose(1, 2, 0)
        img = (img - img.min()) / (np.ptp(img) or 1.0)
    fig = plot_image_grid([img], f"input (sample {sample})", cmap="gray")
    yield "input", fig, f"the input (sample {sample})", "input.png"
    for k, (name, fmap) in enumerate(maps.items()):
        channels = fmap[sample]
        c = min(len(channels), max_channels)
        title = (
            f"{name}: feature maps ({c} of {len(channels)} channels, "
            f"{'×'.join(map(str, channels.shape[1:]))})"
        )
        fig = plot_image_grid(list(channels[:c]), title, labels=[f"ch {i}" for i in range(c)])
        key = f"{name} (feature maps)" if name in ("input", "filters") else name
        filename = f"feature_maps_{k:02d}_{_safe(name)}.png"
        yield key, fig, f"feature maps of {name} for the input", filename
    name, w = first_conv_filters(model)
    filters = w[:max_channels]
    if w.ndim == 4 and w.shape[1] == 3:  # RGB filters shown in colour
        shown_f = [(f.transpose(1, 2, 0) - f.min()) / (np.ptp(f) or 1.0) for f in filters]
        labels = [f"filter {i}" for i in range(len(filters))]
    else:  # one map per (filter, input channel), the first few input channels
        shown_f, labels = [], []
        for i, f in enumerate(filters):
            for c in range(min(f.shape[0], 3)):
                shown_f.append(f[c])
                labels.append(f"{i}" if f.shape[0] == 1 else f"{i}/in {c}")
    legend = " (blue < 0 < red)" if w.ndim == 4 and w.shape[1] != 3 else ""
    fig = plot_image_grid(
        shown_f, f"{name}: learned filters {tuple(w.shape)}{legend}", labels,
        cmap="RdBu_r", symmetric=True,
    )  # fmt: skip
    yield "filters", fig, f"the filters of {name}", f"filters_{_safe(name)}.png"


def save_feature_maps(
    model: nn.Module,
    x: Tensor,
    out_dir,
    sample: int = 0,
    max_channels: int = 32,
    captions: dict | None = None,
) -> list[Path]:
    """Write input.png, one feature_maps_<k>_<layer>.png per conv layer, filters_<layer>.png:
    the figures of :func:`feature_map_figures`, at 100 dpi.

    ``x`` is a batch; ``sample`` picks which of its inputs to show. Returns the paths;
    ``captions``, if given, receives {path: what that figure shows} for each of them.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths, described = [], {}
    for _, fig, caption, filename in _feature_map_figures(model, x, sample, max_channels):
        paths.append(_save(fig, out / filename))
        described[paths[-1]] = caption
    if captions is not None:
        captions.update(described)
    return paths


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, format="png", dpi=100)
    return path
