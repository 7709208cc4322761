"""Attention maps: what each head of each layer looks at, as heatmaps over the tokens.

A_l,h[i, j] = softmax_j(q_i·k_j/√d + M_ij) is the weight query token i gives key token j in
head h of layer l (each row sums to 1). Every attention module of ember that has a
``record_weights`` flag (nn.MultiheadAttention, GPT's CausalSelfAttention, BERT's
self-attention) keeps these weights while the flag is on; this module turns them into
heatmaps: ``attention_map_figures`` returns the Figures, ``draw_attention_maps`` writes PNGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..backend import to_numpy, xp
from ..function import no_grad

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def attention_modules(model) -> list:
    """The modules of ``model`` that can record attention weights, in forward order."""
    return [m for _, m in model.named_modules() if hasattr(m, "record_weights")]


def collect_attention(model, run) -> list:
    """Call ``run()`` (a forward of ``model``) with recording on, in eval mode, without grad;
    return one array (N, heads, L, S) per attention module."""
    mods = attention_modules(model)
    if not mods:
        raise ValueError(
            f"{type(model).__name__} has no attention modules with a record_weights flag"
        )
    was_training = model.training
    model.eval()
    for m in mods:
        m.record_weights, m.last_attn_weights = True, None
    try:
        with no_grad():
            run()
    finally:
        for m in mods:
            m.record_weights = False
        model.train(was_training)
    return [to_numpy(m.last_attn_weights) for m in mods if m.last_attn_weights is not None]


def _inputs(model, tokens, labels):
    """(forward callable, token labels) for a text with a tokenising model, or token ids."""
    if isinstance(tokens, str):
        if not hasattr(model, "tokenize"):
            raise TypeError(
                f"{type(model).__name__} cannot tokenise text: pass token ids (and labels)"
            )
        batch = model.tokenize([tokens])
        ids, mask = batch["input_ids"], batch["attention_mask"]
        return (lambda: model(ids, mask)), labels or batch["tokens"][0]
    ids = xp.asarray(tokens)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError(f"tokens must be a string or a 1-D sequence of ids, got {ids.shape}")
    return (lambda: model(ids[None])), labels or [str(int(i)) for i in ids]


def attention_map_figures(
    model,
    tokens,
    labels=None,
    max_heads: int = 16,
    max_labels: int = 48,
    captions: dict | None = None,
) -> dict[str, Figure]:
    """The figures ``draw_attention_maps`` writes, as Figures: {"layer0", "layer1", …: a grid
    of that layer's first ``max_heads`` heads, "overview": every layer's head-averaged map}.

    ``tokens``: a text (for models with ``tokenize``, e.g. SentenceEncoder) or a 1-D sequence
    of token ids (e.g. GPT), with optional ``labels`` for the axes (left off past
    ``max_labels`` tokens). Each figure has its own Agg canvas, outside pyplot (nothing to
    close, the user's backend untouched). ``captions``, if given, receives {key: what that
    figure shows}.
    """
    figures, described = {}, {}
    for key, fig, caption in _attention_figures(model, tokens, labels, max_heads, max_labels):
        figures[key], described[key] = fig, caption
    if captions is not None:
        captions.update(described)
    return figures


def _attention_figures(model, tokens, labels, max_heads, max_labels):
    """(key, Figure, caption) for each layer, then the overview."""
    # Figures of their own on the Agg canvas: pyplot's global state and the user's backend
    # stay as they were
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def subplots(rows, cols, figsize):
        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)
        return fig, fig.subplots(rows, cols, squeeze=False)

    run, labels = _inputs(model, tokens, labels)
    maps = collect_attention(model, run)
    show = len(labels) <= max_labels

    def decorate(ax, title, first_col=True, last_row=True):
        ax.set_title(title, fontsize=8)
        if show:
            ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=6)
            ax.set_yticks(range(len(labels)), labels if first_col else [], fontsize=6)
        if last_row:
            ax.set_xlabel("key token (attended to)", fontsize=7)
        if first_col:
            ax.set_ylabel("query token", fontsize=7)

    for layer, w in enumerate(maps):
        heads = min(w.shape[1], max_heads)
        cols = min(4, heads)
        rows = -(-heads // cols)
        fig, axes = subplots(rows, cols, (3.2 * cols, 3.2 * rows))
        for h in range(rows * cols):
            ax = axes[h // cols][h % cols]
            if h >= heads:
                ax.axis("off")
                continue
            im = ax.imshow(w[0, h], cmap="viridis", vmin=0.0, vmax=1.0)
            decorate(ax, f"layer {layer}, head {h}", h % cols == 0, h // cols == rows - 1)
        fig.colorbar(im, ax=axes, shrink=0.6, label="attention weight")
        fig.suptitle(f"Attention weights of layer {layer} (rows sum to 1)")
        caption = f"layer {layer}'s attention, head by head, over the {len(labels)} tokens"
        yield f"layer{layer}", fig, caption

    cols = min(3, len(maps))
    rows = -(-len(maps) // cols)
    fig, axes = subplots(rows, cols, (3.6 * cols, 3.6 * rows))
    for k in range(rows * cols):
        ax = axes[k // cols][k % cols]
        if k >= len(maps):
            ax.axis("off")
            continue
        ax.imshow(maps[k][0].mean(axis=0), cmap="viridis", vmin=0.0)
        decorate(ax, f"layer {k}, mean over heads")
    fig.suptitle("Attention per layer, averaged over heads")
    fig.tight_layout()
    caption = f"every layer's attention over the {len(labels)} tokens, averaged over heads"
    yield "overview", fig, caption


def draw_attention_maps(
    model,
    tokens,
    out_dir,
    labels=None,
    max_heads: int = 16,
    max_labels: int = 48,
    captions: dict | None = None,
) -> list[Path]:
    """One PNG per layer (``attention_layer{l}.png``, a grid of its heads) and an overview of
    the head-averaged maps of every layer (``attention_overview.png``): the figures of
    :func:`attention_map_figures`, at 110 dpi. ``tokens``: a text (for models with
    ``tokenize``, e.g. SentenceEncoder) or a 1-D sequence of token ids (e.g. GPT), with
    optional ``labels`` for the axes. Returns the paths written; ``captions``, if given,
    receives {path: what that figure shows} for each of them."""
    figures = list(_attention_figures(model, tokens, labels, max_heads, max_labels))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths, described = [], {}
    for key, fig, caption in figures:
        path = out / f"attention_{key}.png"
        fig.savefig(path, dpi=110)
        paths.append(path)
        described[path] = caption
    if captions is not None:
        captions.update(described)
    return paths
