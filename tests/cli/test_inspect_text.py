"""ember inspect RUN --text: attention maps of a language-model run."""

import json

import ember
from ember.cli import main
from ember.data.text import CharVocab
from ember.models import GPT
from ember.train.language import write_weights


def _gpt_run(tmp_path):
    text = "to be or not to be"
    vocab = CharVocab.from_text(text)
    options = {"block_size": 16, "n_layer": 2, "n_head": 2, "n_embd": 16}
    model = GPT(vocab_size=len(vocab), **options)
    run = tmp_path / "gpt-run"
    run.mkdir()
    (run / "config.json").write_text(
        json.dumps({"model": "gpt", "task": "language", "options": options})
    )
    vocab.save(run / "vocab.json")
    write_weights(run / "checkpoint.safetensors", model, {"step": 0})
    return run


def test_inspect_text_draws_one_map_per_layer_and_an_overview(tmp_path, capsys):
    ember.manual_seed(0)
    run = _gpt_run(tmp_path)
    assert main(["inspect", str(run), "--text", "not to be"]) == 0
    printed = capsys.readouterr().out.split()
    names = sorted(p.rsplit("/", 1)[-1] for p in printed)
    assert names == ["attention_layer0.png", "attention_layer1.png", "attention_overview.png"]
    for p in printed:
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_inspect_text_names_characters_outside_the_vocabulary(tmp_path, capsys):
    run = _gpt_run(tmp_path)
    assert main(["inspect", str(run), "--text", "XYZ"]) == 2
    assert "ember inspect" in capsys.readouterr().err
