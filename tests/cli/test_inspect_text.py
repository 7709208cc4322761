"""ember inspect RUN --text: attention maps of a GPT run; gates and the gradient through time
of a recurrent (CharLSTM) run."""

import json

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import nn
from ember.cli import main
from ember.data.text import CharVocab
from ember.diagnose.recurrent_text import draw_recurrent_inspection, text_gradient_through_time
from ember.models import get_model
from ember.train.language import write_weights


def _language_run(tmp_path, model_name: str, text: str, options: dict):
    """A run folder as ``ember train`` writes one for a language model (untrained weights)."""
    vocab = CharVocab.from_text(text)
    model = get_model(model_name)["builder"](vocab_size=len(vocab), **options)
    run = tmp_path / f"{model_name}-run"
    run.mkdir()
    (run / "config.json").write_text(
        json.dumps({"model": model_name, "task": "language", "options": options})
    )
    vocab.save(run / "vocab.json")
    write_weights(run / "checkpoint.safetensors", model, {"step": 0})
    return run


def _gpt_run(tmp_path):
    options = {"block_size": 16, "n_layer": 2, "n_head": 2, "n_embd": 16}
    return _language_run(tmp_path, "gpt", "to be or not to be", options)


def _inspect_pngs(run, text: str, capsys) -> tuple[list, list]:
    """Run ``ember inspect RUN --text``; (sorted file names, paths) of the PNGs it printed."""
    assert main(["inspect", str(run), "--text", text]) == 0
    printed = capsys.readouterr().out.split()
    for p in printed:
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    return sorted(p.rsplit("/", 1)[-1] for p in printed), printed


def test_inspect_text_draws_one_map_per_layer_and_an_overview(tmp_path, capsys):
    ember.manual_seed(0)
    names, _ = _inspect_pngs(_gpt_run(tmp_path), "not to be", capsys)
    assert names == ["attention_layer0.png", "attention_layer1.png", "attention_overview.png"]


def test_inspect_text_names_characters_outside_the_vocabulary(tmp_path, capsys):
    run = _gpt_run(tmp_path)
    assert main(["inspect", str(run), "--text", "XYZ"]) == 2
    assert "ember inspect" in capsys.readouterr().err


def _charlstm_run(tmp_path):
    options = {"embedding_dim": 8, "hidden_size": 12, "num_layers": 2}
    return _language_run(tmp_path, "charlstm", "def f(x):\n    return x\n", options)


def test_inspect_text_of_a_charlstm_draws_its_gates_and_the_gradient_through_time(tmp_path, capsys):
    ember.manual_seed(0)
    run = _charlstm_run(tmp_path)
    names, printed = _inspect_pngs(run, "def f(x):", capsys)
    assert names == ["gates_lstm_l0.png", "gates_lstm_l1.png", "gradient_through_time.png"]
    assert all("inspect-recurrent" in p for p in printed)
    captions = json.loads((run / "figures" / "captions.json").read_text())
    assert captions["inspect-recurrent/gates_lstm_l0.png"] == (
        "lstm l0: its gates at each of the 8 characters (of 'def f(x):')"
    )
    assert captions["inspect-recurrent/gradient_through_time.png"].startswith(
        "‖∂L/∂h_t‖ of predicting character 9 from the 8 before"
    )
    assert main(["inspect", str(run), "--text", "d"]) == 2  # nothing before a target
    assert "at least two characters" in capsys.readouterr().err


class _Tagger(nn.Module):
    """Embedding → one recurrent layer (any kind, any direction) → Linear, batch-first or not."""

    def __init__(self, kind, bidirectional=False, batch_first=True):
        super().__init__()
        self.batch_first = batch_first
        self.embedding = nn.Embedding(7, 5)
        self.rnn = getattr(nn, kind)(5, 6, batch_first=batch_first, bidirectional=bidirectional)
        self.head = nn.Linear(6 * (2 if bidirectional else 1), 7)

    def forward(self, x):
        e = self.embedding(x)
        y, _ = self.rnn(e if self.batch_first else e.transpose(0, 1))
        return self.head(y if self.batch_first else y.transpose(0, 1))


IDS = [1, 4, 2, 6, 0, 3, 5, 2, 1]


@pytest.mark.parametrize(
    "kind, bidirectional, batch_first, gates",
    [
        ("LSTM", False, True, "cfghio"),
        ("GRU", True, False, "hnrz"),
        ("RNN", False, True, "h"),
    ],
)
def test_recurrent_inspection_records_every_layer_and_gate(
    tmp_path, kind, bidirectional, batch_first, gates
):
    ember.manual_seed(1)
    model = _Tagger(kind, bidirectional, batch_first)
    captions = {}
    paths = draw_recurrent_inspection(model, IDS, tmp_path, labels="abcdefghi", captions=captions)
    assert sorted(captions) == sorted(paths)
    keys = ["l0"] + (["l0_reverse"] if bidirectional else [])
    assert sorted(p.name for p in paths) == sorted(
        [f"gates_rnn_{k}.png" for k in keys] + ["gradient_through_time.png"]
    )
    with nn.record_gates(model) as rec:
        model(ember.tensor([IDS[:-1]]))
    assert "".join(sorted(rec["rnn"][0]["l0"])) == gates


def test_the_gradient_through_time_is_the_gradient_at_each_hidden_state():
    """‖∂L/∂h_t‖ of the last character's loss, against the same gradient taken through the
    composed cells step by step (retain_grad on every h_t)."""
    ember.manual_seed(2)
    model = _Tagger("LSTM").double()
    curves = text_gradient_through_time(model, IDS)
    (curve,) = curves.values()
    x = ember.tensor([IDS[:-1]])
    cell = nn.LSTMCell(5, 6).double()
    cell.load_state_dict({k[:-3]: v for k, v in model.rnn.state_dict().items()})
    e = model.embedding(x)
    h = c = ember.zeros(1, 6, dtype=ember.float64)
    hs = []
    for t in range(e.shape[1]):
        h, c = cell(e[:, t], (h, c))
        h.retain_grad()
        hs.append(h)
    logits = model.head(hs[-1])
    F.cross_entropy(logits, ember.tensor([IDS[-1]])).backward()
    want = np.array([np.linalg.norm(h.grad.numpy()) for h in hs])
    np.testing.assert_allclose(curve, want, rtol=1e-10)
    assert curve[0] < curve[-1]  # it fades going back in time


def _train_language_run(tmp_path, capsys, model: str, *options: str) -> tuple:
    """``ember train MODEL`` for a few steps on a small corpus: (run folder, what it printed)."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat. " * 100)
    run = tmp_path / "run"
    argv = ["train", model, "--text", str(corpus), "--steps", "3", "--batch-size", "2",
            "--run-dir", str(run), "--no-progress", "--sample-tokens", "5"]  # fmt: skip
    for option in options:
        argv += ["-o", option]
    assert main(argv + ["--bptt", "8" if model == "charlstm" else "16"]) == 0
    return run, capsys.readouterr().out


def test_ember_train_of_a_charlstm_draws_its_gates_over_the_validation_text(tmp_path, capsys):
    run, out = _train_language_run(tmp_path, capsys, "charlstm", "hidden_size=8", "embedding_dim=4")
    assert "gates over the first 64 validation characters" in out
    drawn = sorted(p.name for p in (run / "figures" / "gates-validation").iterdir())
    assert drawn == ["gates_lstm_l0.png", "gates_lstm_l1.png", "gradient_through_time.png"]
    captions = json.loads((run / "figures" / "captions.json").read_text())
    assert captions["gates-validation/gates_lstm_l1.png"].startswith("lstm l1: its gates")


def test_ember_train_of_a_gpt_draws_its_attention_over_the_validation_text(tmp_path, capsys):
    run, out = _train_language_run(tmp_path, capsys, "gpt", "n_layer=2", "n_head=2", "n_embd=8")
    assert "attention over the first 16 validation characters" in out
    drawn = sorted(p.name for p in (run / "figures" / "attention-validation").iterdir())
    assert drawn == ["attention_layer0.png", "attention_layer1.png", "attention_overview.png"]
