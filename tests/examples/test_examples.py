"""Each example runs and learns."""

import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_train_digits_mlp_example(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / "train_digits_mlp.py"), run_name="__main__")
    out = capsys.readouterr().out
    accuracy = float(out.split("test accuracy ")[1].split("%")[0])
    assert accuracy >= 97.0
    assert (tmp_path / "runs" / "example-digits" / "model.safetensors").is_file()
