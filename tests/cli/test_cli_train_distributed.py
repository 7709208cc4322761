"""`ember train` data-parallel: ``--nproc-per-node 2`` runs the job through the launcher (in
this process), ``python -m ember.distributed.run … -m ember.cli train`` resumes it; one run
folder, written by rank 0, output printed once. Language models refuse several ranks."""

import json
import subprocess
import sys

from ember.cli import main
from ember.cli.train_options import without_option
from ember.train import load_checkpoint, read_metrics
from tests.distributed.dist_harness import ROOT, child_env


def _argv(shared_data, run, steps):
    return ["train", "lenet", "--data", "digits", "--data-root", str(shared_data / "digits"),
            "--run-dir", str(run), "--steps", str(steps), "--augment", "crop:1", "--no-progress",
            "--nproc-per-node", "2"]  # fmt: skip


def test_lenet_on_two_processes_then_resumed_under_the_launcher(shared_data, tmp_path, capfd):
    run = tmp_path / "run"
    assert main(_argv(shared_data, run, 4)) == 0
    out, err = capfd.readouterr()
    assert out.count("test accuracy") == 1 and out.count(f"run saved to {run}") == 1, out + err
    assert "data-parallel on 2 processes, batch 32 per process" in err
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # one run folder
    config = json.loads((run / "config.json").read_text())
    assert config["world_size"] == 2 and config["batch_size"] == 32
    state = load_checkpoint(run)
    assert state["loop"]["step"] == 4 and state["loop"]["world_size"] == 2
    assert [r["split"] for r in read_metrics(run)] == ["test"]

    # continued by the launcher itself, with torchrun's command line
    command = [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2",
               "--standalone", "-m", "ember.cli", "train", "--resume", str(run), "--steps", "6",
               "--no-progress"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=child_env(), capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("test accuracy") == 1
    resumed = load_checkpoint(run)
    assert resumed["loop"]["step"] == 6
    assert [r["split"] for r in read_metrics(run)] == ["test"]  # the old test record replaced

    # 4 + 2 steps end where 6 straight do: each rank's crops and the sampler continued
    assert main(_argv(shared_data, tmp_path / "straight", 6)) == 0
    straight = load_checkpoint(tmp_path / "straight")
    for k, v in straight["model"].items():
        assert resumed["model"][k].numpy().tobytes() == v.numpy().tobytes(), k


def test_language_models_refuse_several_processes(monkeypatch, capsys, tmp_path):
    assert main(["train", "charlstm", "--nproc-per-node", "2", "--run-dir", str(tmp_path)]) == 2
    assert "supported for the classification models" in capsys.readouterr().err
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")  # as a launcher would start it
    assert main(["train", "charlstm", "--run-dir", str(tmp_path)]) == 2
    assert "supported for the classification models" in capsys.readouterr().err
    assert main(["train", "mlp", "--nproc-per-node", "2"]) == 2  # under a launcher already
    assert "already one of 2" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_the_relaunch_drops_only_its_own_option():
    argv = ["train", "mlp", "--nproc-per-node", "2", "--steps", "3", "--nproc=4", "--no-progress"]
    assert without_option(argv, "--nproc-per-node") == ["train", "mlp", "--steps", "3",
                                                        "--no-progress"]  # fmt: skip
