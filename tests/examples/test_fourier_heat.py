"""examples/fourier_heat.py: a Fourier layer's complex weights, trained by Adam through
ember.fft, become the heat equation's per-mode decay e^(−νk²t)."""

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fourier_heat.py"


def test_the_spectral_layer_learns_the_heat_kernel(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("fourier_heat", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--steps", "300", "--figure", str(tmp_path / "heat.png")])
    out = capsys.readouterr().out
    assert result["relative_error"] < 1e-4 and result["weight_error"] < 1e-4
    assert "test relative error" in out and (tmp_path / "heat.png").stat().st_size > 1000
    first = float(out.split("step    0  mse ")[1].split()[0])
    last = float(out.split("step  300  mse ")[1].split()[0])
    assert last < first * 1e-6
