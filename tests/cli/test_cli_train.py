"""`ember train` through the command's main(): runs, run folders, resume, help and errors."""

import json

import pytest

import ember
from ember.cli import main
from ember.train import load_checkpoint, read_metrics


def _train(shared_data, run_dir, *extra):
    data = extra[extra.index("--data") + 1] if "--data" in extra else "digits"
    argv = ["train", "mlp", "--data-root", str(shared_data / data), "--run-dir", str(run_dir)]
    argv += ["--no-progress", *extra]
    if "--data" not in extra:
        argv += ["--data", "digits"]
    return main(argv)


def test_train_mlp_on_digits_then_resume(shared_data, tmp_path, capsys):
    run = tmp_path / "run"
    assert _train(shared_data, run, "--epochs", "12", "-o", "hidden_sizes=128") == 0
    out = capsys.readouterr().out
    assert f"run saved to {run}" in out and "test accuracy" in out
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "mlp" and config["data"] == "digits" and config["epochs"] == 12
    assert config["options"] == {"in_features": 64, "num_classes": 10, "hidden_sizes": 128}
    test = [r for r in read_metrics(run) if r["split"] == "test"]
    assert len(test) == 1 and test[0]["accuracy"] >= 0.95
    assert load_checkpoint(run)["loop"]["epoch"] == 12

    assert main(["train", "--resume", str(run), "--epochs", "14", "--no-progress"]) == 0
    assert load_checkpoint(run)["loop"]["epoch"] == 14
    records = read_metrics(run)
    assert [r["epoch"] for r in records if r["split"] == "val"] == list(range(1, 15))
    assert len([r for r in records if r["split"] == "test"]) == 1


@pytest.mark.parametrize("data", ["mnist", "fashion-mnist", "mnist1d"])
def test_train_mlp_on_the_other_datasets_for_a_few_steps(shared_data, tmp_path, capsys, data):
    assert _train(shared_data, tmp_path, "--data", data, "--steps", "5") == 0
    assert f"run saved to {tmp_path}" in capsys.readouterr().out
    assert load_checkpoint(tmp_path)["loop"]["step"] == 5


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for option in ["--data", "--epochs", "--steps", "--batch-size", "--lr", "--seed", "--resume",
                   "--run-dir", "--optimizer", "--device"]:  # fmt: skip
        assert option in out


def test_errors_are_clear(capsys, tmp_path):
    assert main(["train", "no-such-model"]) == 2
    assert "unknown model 'no-such-model'" in capsys.readouterr().err
    assert main(["train", "mlp", "--data", "cifar", "--run-dir", str(tmp_path)]) == 2
    assert "unknown dataset 'cifar'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "mlp", "--epochs", "1", "--steps", "2"])  # one or the other


def test_model_options_are_parsed():
    from ember.cli.train import parse_option

    assert parse_option("hidden_sizes=512,256") == ("hidden_sizes", [512, 256])
    assert parse_option("dropout=0.1") == ("dropout", 0.1)
    assert parse_option("activation=tanh") == ("activation", "tanh")
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_option("dropout")


def test_language_models_are_handed_to_the_language_trainer(monkeypatch):
    """The dispatch only: ember.train.language is the recurrent work's module."""
    import sys
    import types

    import ember.cli.generate  # noqa: F401 - imported for real before the fake stands in
    from ember.models import registry

    calls = []
    fake = types.ModuleType("ember.train.language")
    fake.train_language_model = lambda args, on_finish=None: calls.append(args) or 0
    fake.language_arguments = lambda parser: parser.add_argument("--bptt", type=int, default=64)
    monkeypatch.setitem(sys.modules, "ember.train.language", fake)
    monkeypatch.setitem(
        registry.MODELS, "charlstm", {"builder": None, "task": "language", "description": ""}
    )
    assert main([]) == 0  # `ember` alone = `ember train` = the default charlstm
    assert calls[0].model == "charlstm" and calls[0].data is None
    assert main(["train", "charlstm", "--data", "tinyshakespeare", "--steps", "7"]) == 0
    assert calls[1].data == "tinyshakespeare" and calls[1].steps == 7
    assert main(["train", "--bptt", "32"]) == 0  # the language trainer's own options
    assert calls[2].bptt == 32 and calls[0].bptt == 64


def test_an_unavailable_device_is_a_clear_error(shared_data, tmp_path, capsys):
    assert _train(shared_data, tmp_path, "--device", "tpu", "--steps", "1") == 2
    assert "--device tpu" in capsys.readouterr().err
    if not ember.backend.cuda_unavailable_reason():
        pytest.skip("this machine has CUDA: --device cuda is a device it can train on")
    assert _train(shared_data, tmp_path, "--device", "cuda", "--steps", "1") == 2
    err = capsys.readouterr().err
    assert "--device cuda" in err and "EMBER_DEVICE=cuda" in err
    assert not (tmp_path / "config.json").exists()  # refused before any run folder was made


def test_a_language_model_is_not_trained_silently_on_another_device(monkeypatch, capsys):
    """--device cuda is refused before the language trainer starts (it used to ignore it)."""
    import ember.train.language as language

    if not ember.backend.cuda_unavailable_reason():
        pytest.skip("this machine has CUDA: --device cuda is a device it can train on")
    monkeypatch.setattr(language, "train_language_model", lambda args: pytest.fail("trained"))
    assert main(["train", "charlstm", "--device", "cuda", "--steps", "1"]) == 2
    assert "--device cuda" in capsys.readouterr().err


def test_cosine_schedule_anneals_the_learning_rate_per_step(shared_data, tmp_path):
    pytest.importorskip("ember.optim.lr_scheduler")  # the core's schedulers
    assert _train(shared_data, tmp_path, "--epochs", "2", "--lr-schedule", "cosine") == 0
    lrs = [r["lr"] for r in read_metrics(tmp_path) if r["split"] == "train"]
    assert lrs == sorted(lrs, reverse=True) and lrs[0] < 3e-3 and lrs[-1] < 1e-5
    assert json.loads((tmp_path / "config.json").read_text())["lr_schedule"] == "cosine"


def test_ctrl_c_says_how_to_resume(shared_data, tmp_path, capsys, monkeypatch):
    from ember.train import Trainer

    real = Trainer.train_step

    def interrupt_at_step_50(self, batch):
        if self.step == 50:
            raise KeyboardInterrupt
        return real(self, batch)

    monkeypatch.setattr(Trainer, "train_step", interrupt_at_step_50)
    assert _train(shared_data, tmp_path, "--epochs", "3") == 130  # 41 steps per epoch
    out = capsys.readouterr().out
    assert "interrupted at step 50" in out and "(step 41)" in out
    assert f"ember train --resume {tmp_path}" in out
    monkeypatch.undo()
    assert main(["train", "--resume", str(tmp_path), "--no-progress"]) == 0
    assert load_checkpoint(tmp_path)["loop"]["epoch"] == 3
