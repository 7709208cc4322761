"""Language-model training: TBPTT streams, state carrying, memory estimate, a short run that
learns, the run folder, and `ember generate` reading it back."""

from __future__ import annotations

import argparse
import json

import numpy as np

import ember
from ember.cli import generate as gen_cli
from ember.models import CharLSTM
from ember.train import language as L


def test_tbptt_stream_windows_continue_each_stream():
    ids = np.arange(101)
    s = L.TBPTTStream(ids, batch_size=4, bptt=7)
    xs, ys = zip(*s)
    x, y = np.concatenate(xs, axis=1), np.concatenate(ys, axis=1)
    np.testing.assert_array_equal(x, np.arange(100).reshape(4, 25))
    np.testing.assert_array_equal(y, x + 1)
    assert len(s) == 4 and xs[0].shape == (4, 7) and xs[-1].shape == (4, 4)


def test_carried_state_equals_one_long_sequence():
    """Windows with the state carried (and detached) see exactly the whole-stream forward."""
    model = CharLSTM(11, embedding_dim=5, hidden_size=6).double()
    ids = np.random.default_rng(0).integers(0, 11, (2, 12))
    whole, _ = model(ember.tensor(ids))
    state, parts = None, []
    for i in range(0, 12, 4):
        state = L.detach_state(state)
        logits, state = model(ember.tensor(ids[:, i : i + 4]), state)
        parts.append(logits.array)
        assert not state[0].requires_grad or state[0].grad_fn is not None
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole.array, atol=1e-12)


def test_activation_memory_grows_linearly_with_the_window():
    model = CharLSTM(65, embedding_dim=128, hidden_size=256)
    m64 = L.activation_memory_estimate(model, 32, 64)
    assert L.activation_memory_estimate(model, 32, 128) == 2 * m64
    # 2 layers × (4H + h + C + tanh C = 7H) + inputs (128 + 256) + embedding 128 + head 2·65
    per_step = 2 * 7 * 256 + 128 + 256 + 128 + 2 * 65
    assert m64 == per_step * 32 * 64 * 4


def test_training_run_learns_and_writes_the_run_folder(tmp_path, capsys):
    text = tmp_path / "corpus.txt"
    text.write_text("the cat sat on the mat. " * 200)
    args = argparse.Namespace(
        model="charlstm", text=str(text), steps=60, eval_every=30, batch_size=8, bptt=16,
        lr=1e-2, run_dir=str(tmp_path / "run"), sample_tokens=40,
        option=["hidden_size=32", "embedding_dim=16"],
    )  # fmt: skip
    assert L.train_language_model(args) == 0
    out = capsys.readouterr().out
    assert "truncated BPTT" in out and "MiB" in out and "sample" in out
    run = tmp_path / "run"
    for name in ("config.json", "vocab.json", "metrics.jsonl", "checkpoint.safetensors",
                 "checkpoint.json", "best.safetensors", "samples.txt"):  # fmt: skip
        assert (run / name).is_file(), name
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    val = [r["loss"] for r in rows if r["split"] == "val"]
    assert len(val) == 2 and val[-1] < 1.5  # from ln(11) ≈ 2.4 to a repeated phrase learnt
    assert {"step", "epoch", "split", "loss", "lr"} <= set(rows[0])
    # ember generate reads the run back and continues a prompt
    model, vocab = gen_cli.load_language_run(run)
    model.load_state_dict(L.read_model_state(run / "best.safetensors"))
    ids = model.generate(vocab.encode("the c"), 20, temperature=0)
    assert vocab.decode(ids).startswith("the cat sat")
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    gen_cli.add_parser(sub)
    ns = parser.parse_args(
        ["generate", str(run), "--prompt", "the", "--tokens", "10", "--seed", "1"]
    )
    assert ns.run(ns) == 0
    assert capsys.readouterr().out.startswith("the")
    # --resume continues the run: same options, weights and step count
    more = argparse.Namespace(model="charlstm", steps=70, resume=str(run))  # the rest: config
    assert L.train_language_model(more) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 70 and rows[-1]["split"] == "val" and rows[-1]["loss"] < 1.5


def test_epochs_set_the_number_of_steps(tmp_path):
    text = tmp_path / "c.txt"
    text.write_text("abcd" * 300)
    args = argparse.Namespace(model="charlstm", text=str(text), epochs=2, eval_every=1000,
                              batch_size=4, bptt=16, run_dir=str(tmp_path / "r"), sample_tokens=3,
                              option=["hidden_size=8", "embedding_dim=4"])  # fmt: skip
    L.train_language_model(args)
    meta = json.loads((tmp_path / "r" / "checkpoint.json").read_text())
    # 1080 training chars → 4 streams of 269 → 17 windows of 16 per epoch
    assert meta["step"] == 34 and meta["epoch"] == 1


class _TinyGPT(ember.nn.Module):
    """A stateless next-token model (bigram table): forward(x) -> logits."""

    block_size = 8

    def __init__(self, vocab_size):
        super().__init__()
        self.table = ember.nn.Embedding(vocab_size, vocab_size)

    def forward(self, x):
        return self.table(x)

    def generate(self, prompt_ids, max_new_tokens, temperature=1.0, top_k=None):
        prompt_ids = np.asarray(prompt_ids)
        assert prompt_ids.ndim == 2  # (B, T), as GPT.generate takes it
        return np.concatenate([prompt_ids, np.zeros((1, max_new_tokens), np.int64)], axis=1)


def test_stateless_models_train_on_random_windows(tmp_path):
    from ember.models.registry import MODELS, register_model

    register_model("tinybigram_test", task="language")(lambda vocab_size: _TinyGPT(vocab_size))
    try:
        text = tmp_path / "c.txt"
        text.write_text("abcabcabc" * 100)
        args = argparse.Namespace(model="tinybigram_test", text=str(text), steps=80,
                                  eval_every=40, batch_size=8, lr=0.1, run_dir=str(tmp_path / "r"),
                                  sample_tokens=5)  # fmt: skip
        assert L.train_language_model(args) == 0
        rows = [
            json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().split("\n") if x
        ]
        assert rows[-1]["split"] == "val" and rows[-1]["loss"] < 0.5
        assert json.loads((tmp_path / "r" / "config.json").read_text())["recurrent"] is False
    finally:
        MODELS.pop("tinybigram_test")
