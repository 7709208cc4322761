"""The CNN example and experiment scripts run end to end on short settings and learn."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path):
    sys.path.insert(0, str(ROOT / "experiments"))
    spec = importlib.util.spec_from_file_location(path.stem + "_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_transfer_learning_example_short_run(tmp_path, shared_data):
    example = _load(ROOT / "examples" / "transfer_learning.py")
    out = tmp_path / "transfer.json"
    argv = ["--pretrain-epochs", "1", "--max-pretrain-steps", "40", "--budget", "256"]
    argv += ["--test-size", "500"]
    assert example.main(argv + ["--epochs", "3", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    for name in ("transfer", "scratch"):
        curve = result["curves"][name]
        assert curve[-1]["train_loss"] < curve[0]["train_loss"], name  # it learns
    acc = result["fashion_test_accuracy"]
    assert acc["transfer_frozen_convs"] > 20 and acc["from_scratch"] > 20  # chance is 10%
    assert result["trainable_parameters"]["transfer"] < result["trainable_parameters"]["scratch"]


def test_mnist1d_baselines_short_run(shared_data):
    experiment = _load(ROOT / "experiments" / "mnist1d_baselines.py")
    for name in ("mlp1d", "cnn1d"):
        r = experiment.train(name, steps=300, seed=0)
        assert r["curve"][-1]["loss"] < r["curve"][0]["loss"]
        assert r["test_accuracy"] > 30, r["test_accuracy"]


@pytest.mark.parametrize("script", ["lenet_mnist.py", "resnet_fashion_mnist.py"])
def test_experiment_scripts_parse(script):
    module = _load(ROOT / "experiments" / script)
    assert callable(module.main)
