"""``ember inspect`` on a run folder: rebuilds the model, loads weights, writes figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ember
from ember.cli import main
from ember.models import get_model

serialization = pytest.importorskip(
    "ember.serialization", reason="ember.save/load land with the workflow branch"
)
cli = pytest.importorskip("ember.cli.inspect", reason="needs ember.data and ember.serialization")


def _run_folder(tmp_path, data="digits", data_root=None):
    options = {"input_shape": [1, 8, 8], "in_channels": 1, "num_classes": 10}
    model = get_model("lenet")["builder"](**options)
    run = tmp_path / "run"
    run.mkdir()
    config = {"model": "lenet", "options": options, "data": data, "data_root": data_root}
    (run / "config.json").write_text(json.dumps(config))
    serialization.save({"model": model.state_dict()}, run / "checkpoint.safetensors")
    return run, model


def test_inspect_input_file(tmp_path, capsys):
    from ember.cli import main

    run, model = _run_folder(tmp_path)
    x = np.random.default_rng(0).random((1, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert main(["inspect", str(run), "--input", str(tmp_path / "x.npy")]) == 0
    out = capsys.readouterr().out
    pngs = [line for line in out.splitlines() if line.endswith(".png")]
    assert len(pngs) == 4 and all(p.startswith(str(run / "figures" / "inspect-x")) for p in pngs)
    with ember.no_grad():
        expected = int(model(ember.Tensor(x[None])).array.argmax())
    assert f"predicted class {expected}" in out
    captions = json.loads((run / "figures" / "captions.json").read_text())
    assert (
        len(captions) == 4 and captions["inspect-x/filters_conv1.png"] == "the filters of conv1 (x)"
    )


def test_inspect_dataset_index(tmp_path, capsys, shared_data):
    from ember.cli import main

    run, _ = _run_folder(tmp_path, data_root=str(shared_data / "digits"))
    assert main(["inspect", str(run), "--index", "3", "--out", str(tmp_path / "figs")]) == 0
    assert len(list((tmp_path / "figs").glob("*.png"))) == 4
    assert not (run / "figures" / "captions.json").exists()  # drawn outside the run: no captions


def test_inspect_errors(tmp_path, capsys):
    from ember.cli import main

    assert main(["inspect", str(tmp_path), "--index", "0"]) == 2
    assert "no config.json" in capsys.readouterr().err
    run, _ = _run_folder(tmp_path)
    np.save(tmp_path / "bad.npy", np.zeros((3, 3), np.float32))
    assert main(["inspect", str(run), "--input", str(tmp_path / "bad.npy")]) == 2
    assert "expected an array of shape (1, 8, 8)" in capsys.readouterr().err


def test_ember_train_of_a_cnn_draws_the_feature_maps_of_the_first_test_example(
    shared_data, tmp_path, capsys
):
    run = tmp_path / "run"
    argv = ["train", "lenet", "--data", "digits", "--data-root", str(shared_data / "digits"),
            "--run-dir", str(run), "--steps", "2", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "feature maps of the first test example" in out and f"ember inspect {run}" in out
    (folder,) = (run / "figures").glob("feature-maps-test-0-label-*")
    drawn = sorted(p.name for p in folder.iterdir())
    assert "input.png" in drawn and any(n.startswith("filters_") for n in drawn)
    assert sum(n.startswith("feature_maps_") for n in drawn) == 2  # LeNet's two conv layers
    captions = json.loads((run / "figures" / "captions.json").read_text())
    assert (
        captions[f"{folder.name}/filters_conv1.png"]
        == "the filters of conv1 (the first test example)"
    )
    assert captions[f"{folder.name}/input.png"].startswith("the input")
    assert len([k for k in captions if k.startswith(folder.name)]) == len(drawn)
