"""`ember train --resume RUN` with other options: what would change the saved computation is an
error naming both values; length, patience, device, data folder and printing may change."""

import json

import numpy as np
import pytest

from ember.cli import main
from ember.cli.train import add_parser
from ember.cli.train_options import explicit_options
from ember.train import load_checkpoint


def test_explicit_options_count_a_default_written_out():
    argv = ["train", "--resume", "r", "--seed", "0", "--lr=0.1", "-o", "a=1", "--no-progress"]
    given = explicit_options(argv, add_parser)
    assert given == {
        "command": "train", "resume": "r", "seed": 0, "lr": 0.1, "option": ["a=1"],
        "no_progress": True,
    }  # fmt: skip
    assert explicit_options(["train", "lenet", "--batch", "3"], add_parser) == {
        "command": "train", "model": "lenet", "batch_size": 3
    }  # fmt: skip
    assert explicit_options(None, add_parser) == {}


@pytest.fixture
def digits_run(shared_data, tmp_path):
    run = tmp_path / "run"
    argv = ["train", "mlp", "--data", "digits", "--data-root", str(shared_data / "digits")]
    argv += ["--run-dir", str(run), "--steps", "10", "-o", "hidden_sizes=32", "--no-progress"]
    assert main([*argv, "--lr", "0.002", "--seed", "3"]) == 0
    return run


def _resume(run, *extra):
    return main(["train", "--resume", str(run), "--no-progress", *extra])


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--lr", "0.01"], "--lr 0.01: the run in {run} was trained with --lr 0.002"),
        (["--seed", "0"], "--seed 0: the run in {run} was trained with --seed 3"),
        (["--batch-size", "64"], "--batch-size 64: the run in {run} was trained with "
         "--batch-size 32"),
        (["--optimizer", "sgd"], "--optimizer sgd: the run in {run} was trained with "
         "--optimizer adam"),
        (["--data", "mnist"], "--data mnist: the run in {run} was trained with --data digits"),
        (["-o", "hidden_sizes=64"], "-o hidden_sizes=64: the run in {run} was built with "
         "hidden_sizes=32"),
        (["-o", "dropout=0.5"], "-o dropout=0.5: the run in {run} was built without -o dropout"),
        (["--run-dir", "elsewhere"], "--run-dir elsewhere: a resumed run stays in its folder"),
    ],
)  # fmt: skip
def test_a_conflicting_option_is_an_error_naming_both_values(digits_run, capsys, extra, message):
    step = load_checkpoint(digits_run)["loop"]["step"]
    assert _resume(digits_run, "--steps", "20", *extra) == 2
    err = capsys.readouterr().err
    assert message.format(run=digits_run) in err
    assert "a resumed run keeps the settings it was started with" in err
    assert load_checkpoint(digits_run)["loop"]["step"] == step  # nothing ran


def test_a_different_model_is_an_error(digits_run, capsys):
    assert main(["train", "lenet", "--resume", str(digits_run), "--no-progress"]) == 2
    assert f"lenet: the run in {digits_run} trains mlp" in capsys.readouterr().err


def test_every_conflict_is_listed_at_once(digits_run, capsys):
    assert _resume(digits_run, "--lr", "0.5", "--seed", "9") == 2
    err = capsys.readouterr().err
    assert "--lr 0.5" in err and "--seed 9" in err


def test_agreeing_and_free_options_resume(shared_data, tmp_path, capsys):
    straight, split = tmp_path / "straight", tmp_path / "split"
    common = ["train", "mlp", "--data", "digits", "--no-progress", "-o", "hidden_sizes=32"]
    common += ["--data-root", str(shared_data / "digits"), "--lr", "0.002"]
    assert main([*common, "--run-dir", str(straight), "--steps", "20"]) == 0
    assert main([*common, "--run-dir", str(split), "--steps", "10"]) == 0
    # the same values written out again, a new length, patience, device and data folder
    again = ["--lr", "2e-3", "--seed", "0", "--data", "DIGITS", "-o", "hidden_sizes=32"]
    free = ["--steps", "20", "--patience", "5", "--device", "cpu"]
    free += ["--data-root", str(shared_data / "digits"), "--run-dir", str(split)]
    assert _resume(split, *again, *free) == 0
    a, b = load_checkpoint(straight), load_checkpoint(split)
    assert b["loop"]["step"] == 20
    for k in a["model"]:
        np.testing.assert_array_equal(a["model"][k].numpy(), b["model"][k].numpy(), err_msg=k)
    assert json.loads((split / "config.json").read_text())["steps"] == 20


def test_a_language_run_refuses_a_new_bptt_and_corpus_but_takes_a_new_temperature(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat. " * 40)
    run = tmp_path / "run"
    argv = ["train", "charlstm", "--text", str(corpus), "--bptt", "16", "--batch-size", "4"]
    argv += ["-o", "hidden_size=8", "-o", "embedding_dim=4", "--eval-every", "1000"]
    argv += ["--sample-tokens", "5", "--no-progress", "--run-dir", str(run), "--steps", "2"]
    assert main(argv) == 0
    capsys.readouterr()
    assert _resume(run, "--steps", "4", "--bptt", "32") == 2
    assert f"--bptt 32: the run in {run} was trained with --bptt 16" in capsys.readouterr().err
    other = tmp_path / "other.txt"
    other.write_text("a different corpus")
    assert _resume(run, "--steps", "4", "--text", str(other)) == 2
    assert "--text" in capsys.readouterr().err
    assert _resume(run, "--steps", "4", "-o", "hidden_size=16") == 2
    assert "-o hidden_size=16: the run in" in capsys.readouterr().err
    assert _resume(run, "--steps", "4", "--temperature", "0.5", "--text", str(corpus)) == 0
    assert load_checkpoint(run)["loop"]["step"] == 4


def test_a_language_run_on_a_named_corpus_refuses_a_text_file(tmp_path, capsys):
    run = tmp_path / "run"
    (run).mkdir()
    config = {"model": "charlstm", "task": "language", "data": "pydoc", "options": {}}
    (run / "config.json").write_text(json.dumps(config))
    assert _resume(run, "--text", str(tmp_path / "x.txt")) == 2
    assert f"the run in {run} was trained on --data pydoc" in capsys.readouterr().err
