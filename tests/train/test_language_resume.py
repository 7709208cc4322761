"""A language-model run resumes where it stopped: N steps straight equal N/2 + N/2 across a
stop, bit for bit (weights, Adam's moments, LR schedule, RNGs, data position, carried state)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

import ember
from ember.train import language as L

STEPS = 24


@pytest.fixture
def corpus(tmp_path):
    text = tmp_path / "corpus.txt"
    # ~540 training characters: 4 streams × 134 → 9 windows of 16 per epoch, so the stop at
    # step 12 falls inside the second pass over the streams.
    rng = np.random.default_rng(0)
    words = ["the ", "cat ", "sat ", "on ", "a ", "mat. ", "dog ", "ran "]
    text.write_text("".join(rng.choice(words, 160))[:600])
    return text


def _args(corpus, run_dir, model, options, **extra):
    given = dict(
        model=model, text=str(corpus), batch_size=4, bptt=16, lr=1e-2, eval_every=1000,
        log_every=4, run_dir=str(run_dir), sample_tokens=5, option=options,
    )  # fmt: skip
    return argparse.Namespace(**{**given, **extra})


def _weights(run):
    return {k: v.array for k, v in L.read_model_state(run / "checkpoint.safetensors").items()}


def _train_rows(run):
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["loss"], r["lr"]) for r in rows if r["split"] == "train"]


def _assert_same_run(straight, split):
    a, b = _weights(straight), _weights(split)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert _train_rows(straight) == _train_rows(split)
    assert [r[0] for r in _train_rows(split)] == list(range(4, STEPS + 1, 4))


def test_charlstm_resumes_bit_identically(tmp_path, corpus):
    options = ["hidden_size=12", "embedding_dim=6", "dropout=0.3"]  # dropout: ember's RNG
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert L.train_language_model(_args(corpus, straight, "charlstm", options, steps=STEPS)) == 0
    assert L.train_language_model(_args(corpus, split, "charlstm", options, steps=STEPS // 2)) == 0
    saved = ember.load(split / "checkpoint.safetensors")
    assert saved["loop"]["step"] == STEPS // 2 and saved["loop"]["epoch"] == 1
    assert saved["optimizer"]["state"], "Adam's moments are in the checkpoint"
    assert isinstance(saved["carried_state"], tuple)  # the LSTM's (h, c) between windows
    more = argparse.Namespace(model="charlstm", steps=STEPS, resume=str(split))
    assert L.train_language_model(more) == 0
    _assert_same_run(straight, split)


def test_gpt_with_cosine_schedule_resumes_bit_identically_after_an_interrupt(
    tmp_path, corpus, monkeypatch, capsys
):
    options = ["n_layer=1", "n_head=2", "n_embd=8", "block_size=8", "dropout=0.1"]
    extra = dict(steps=STEPS, lr_schedule="cosine")
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert L.train_language_model(_args(corpus, straight, "gpt", options, **extra)) == 0
    # The same run, stopped by Ctrl-C during step 13; its last checkpoint is step 12's.
    real_clip, calls = L.clip_grad_norm_, []

    def clip_then_interrupt(params, max_norm):
        calls.append(1)
        if len(calls) == STEPS // 2 + 1:
            raise KeyboardInterrupt
        return real_clip(params, max_norm)

    monkeypatch.setattr(L, "clip_grad_norm_", clip_then_interrupt)
    args = _args(corpus, split, "gpt", options, eval_every=STEPS // 2, **extra)
    assert L.train_language_model(args) == 130
    assert "ember train --resume" in capsys.readouterr().out
    monkeypatch.setattr(L, "clip_grad_norm_", real_clip)
    saved = ember.load(split / "checkpoint.safetensors")
    assert saved["scheduler"] == {"T_max": STEPS, "last_epoch": STEPS // 2, "base_lrs": [1e-2]}
    # with no --steps the resumed run keeps its length (and so its cosine horizon)
    assert L.train_language_model(argparse.Namespace(model="gpt", resume=str(split))) == 0
    _assert_same_run(straight, split)
    lrs = [r[2] for r in _train_rows(split)]
    assert lrs == sorted(lrs, reverse=True) and lrs[-1] < 1e-3  # annealed towards 0


def test_cosine_schedule_needs_a_run_length(tmp_path, corpus):
    args = _args(corpus, tmp_path / "r", "charlstm", ["hidden_size=4"], lr_schedule="cosine")
    with pytest.raises(ValueError, match="--steps or --epochs"):
        L.train_language_model(args)


def test_read_model_state_reads_the_old_weights_format(tmp_path):
    from safetensors.numpy import save_file

    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    save_file({"model.linear.weight": w}, str(tmp_path / "old.safetensors"),
              metadata={"format": "ember.language/1"})  # fmt: skip
    state = L.read_model_state(tmp_path / "old.safetensors")
    np.testing.assert_array_equal(state["linear.weight"].array, w)


def test_a_new_length_given_on_resume_is_kept_for_the_next_resume(tmp_path, corpus):
    run = tmp_path / "run"
    options = ["hidden_size=4", "embedding_dim=2"]
    assert L.train_language_model(_args(corpus, run, "charlstm", options, steps=4)) == 0
    L.train_language_model(argparse.Namespace(model="charlstm", steps=8, resume=str(run)))
    assert json.loads((run / "config.json").read_text())["steps"] == 8
    L.train_language_model(argparse.Namespace(model="charlstm", resume=str(run)))
    assert ember.load(run / "checkpoint.safetensors")["loop"]["step"] == 8


def test_an_old_weights_only_checkpoint_resumes_as_a_warm_restart(tmp_path, corpus, capsys):
    from safetensors.numpy import save_file

    run = tmp_path / "run"
    options = ["hidden_size=4", "embedding_dim=2"]
    assert L.train_language_model(_args(corpus, run, "charlstm", options, steps=4)) == 0
    best = L.read_model_state(run / "best.safetensors")
    weights = {f"model.{k}": v.array for k, v in best.items()}
    save_file(weights, str(run / "checkpoint.safetensors"), metadata={"format": "ember.language/1"})
    (run / "checkpoint.json").write_text(json.dumps({"step": 4, "epoch": 0}))
    more = argparse.Namespace(model="charlstm", steps=6, resume=str(run))
    assert L.train_language_model(more) == 0
    assert "optimizer state starts afresh" in capsys.readouterr().out
    assert ember.load(run / "checkpoint.safetensors")["loop"]["step"] == 6


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adamw"])
def test_every_optimizer_of_ember_train_resumes_bit_identically(tmp_path, corpus, optimizer):
    options = ["hidden_size=6", "embedding_dim=3"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    extra = dict(optimizer=optimizer, weight_decay=0.01)
    L.train_language_model(_args(corpus, straight, "charlstm", options, steps=STEPS, **extra))
    L.train_language_model(_args(corpus, split, "charlstm", options, steps=STEPS // 2, **extra))
    L.train_language_model(argparse.Namespace(model="charlstm", steps=STEPS, resume=str(split)))
    _assert_same_run(straight, split)
