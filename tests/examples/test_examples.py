"""Each example runs and learns."""

import importlib.util
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


def test_vae_example_learns_the_digits(shared_data, tmp_path, monkeypatch, capsys):
    """The ELBO rises from about −45 to about −24.5 nats per digit, and digits decoded from
    prior draws have the data's mean intensity (about 0.30)."""
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / "vae_digits.py"), run_name="__main__")
    out = capsys.readouterr().out
    before = float(out.split("test ELBO before training: ")[1].split(" ")[0])
    after = float(out.split("test ELBO after training: ")[1].split(" ")[0])
    intensity = float(out.split("mean intensity of 8 sampled digits: ")[1].split()[0])
    assert before < -40.0 and after > -26.0
    assert 0.2 < intensity < 0.4


def test_physics_informed_example_finds_the_sine(capsys):
    """Trained only on u'' + u = 0, u(0) = 0, u'(0) = 1 (second derivatives through
    create_graph), the network is sin x to within 1e-2 after 600 steps."""
    spec = importlib.util.spec_from_file_location("pinn", EXAMPLES / "physics_informed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    error = module.main(["--steps", "600"])
    out = capsys.readouterr().out
    first = float(out.split("boundary ")[1].split()[0])
    assert first > 0.5 and error < 1e-2
