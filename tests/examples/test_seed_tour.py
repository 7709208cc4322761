"""The seed tour (examples/seed_tour.py --quick): every section draws a real figure, and the
mechanism each one shows holds in the numbers it measured and printed."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECTIONS = ["activations", "backprop", "optimizers", "initialisation", "dead_relus", "vanishing",
            "lstm_gates", "clipping", "cnn", "attention", "transfer"]  # fmt: skip


def _load_tour():
    spec = importlib.util.spec_from_file_location("seed_tour", EXAMPLES / "seed_tour.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_quick_tour_shows_every_mechanism(shared_data, tmp_path):
    """One --quick run (about 15 s; one test, so that parallel workers do not each run it),
    then one check per section on the numbers it returned and printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        results = _load_tour().main(["--quick", "--out", str(tmp_path), "--data", str(shared_data)])
    tour = (results, tmp_path, " ".join(printed.getvalue().split()))
    for check in (check_every_section_draws_a_non_trivial_figure, check_activation_derivatives,
                  check_backprop_agrees_with_finite_differences, check_optimizers,
                  check_initialisation, check_dead_relus, check_vanishing_gradient,
                  check_lstm_input_gate, check_clipping, check_cnn, check_attention,
                  check_transfer):  # fmt: skip
        check(tour)


def check_every_section_draws_a_non_trivial_figure(tour):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image as mpimg

    results, out, _ = tour
    assert list(results) == SECTIONS
    for k, name in enumerate(SECTIONS, 1):
        path = out / f"{k:02d}_{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        img = mpimg.imread(path)
        assert img.ndim == 3 and img.shape[0] >= 250 and img.shape[1] >= 400, (path, img.shape)
        rgb = img[..., :3]
        drawn = (np.abs(rgb - rgb[0, 0]).sum(axis=-1) > 0.1).mean()  # pixels off the background
        assert drawn > 0.03 and rgb.std() > 0.05, (path, drawn, rgb.std())
    assert (out / "results.json").is_file()


def check_activation_derivatives(tour):
    r = tour[0]["activations"]
    assert r["relu_grad_neg"] == 0.0 and r["relu_grad_pos"] == 1.0
    assert r["sigmoid_grad_0"] == pytest.approx(0.25, abs=1e-6)
    assert r["sigmoid_grad_4"] == pytest.approx(np.exp(-4) / (1 + np.exp(-4)) ** 2, rel=1e-3)
    assert r["tanh_grad_0"] == pytest.approx(1.0, abs=1e-6)
    assert r["tanh_grad_3"] == pytest.approx(1 - np.tanh(3.0) ** 2, rel=1e-3)
    assert r["gelu_grad_0"] == pytest.approx(0.5, abs=1e-6)
    assert r["silu_grad_0"] == pytest.approx(0.5, abs=1e-6)
    assert r["sigmoid_grad_error"] < 1e-12
    assert r["softmax_sum"] == pytest.approx(1.0, abs=1e-6)


def check_backprop_agrees_with_finite_differences(tour):
    results, _, printed = tour
    shown = float(re.search(r"max difference of ([0-9.e+-]+);", printed).group(1))
    assert shown < 1e-7
    assert results["backprop"]["max_abs_diff"] == pytest.approx(shown, rel=0.06)
    assert results["backprop"]["gradcheck"] is True
    assert "ember.gradcheck (the full Jacobian, float64, atol 1e-8) says True" in printed


def check_optimizers(tour):
    final = tour[0]["optimizers"]["final_loss"]
    start = 2.5**2 + 100 * (2.0 - 1.5**2) ** 2  # f(-1.5, 2) = 12.5
    assert 0.1 < final["SGD"] < start  # it descends, slowly: still far from the minimum 0
    assert final["SGD + momentum 0.9"] < 1e-2 * final["SGD"]
    assert final["Adam"] < 1e-2 * final["SGD"]
    assert final["RMSprop"] < 0.1 * final["SGD"]


def check_initialisation(tour):
    r = tour[0]["initialisation"]
    std = r["last_layer_std"]
    good = std["ReLU Kaiming (He)"]
    assert 0.2 < good < 5.0
    assert std["ReLU N(0, 0.01²)"] < 1e-6 * good  # vanished
    assert std["ReLU N(0, 1)"] > 1e6 * good  # exploded
    assert 0.2 < std["tanh Xavier (Glorot)"] < 1.0 and std["tanh N(0, 0.01²)"] < 1e-6
    assert r["tanh_saturated"]["N(0, 1)"] > 0.5 > 0.2 > r["tanh_saturated"]["Xavier (Glorot)"]
    ratio = r["grad_first_over_last"]  # ‖∂L/∂W_1‖ / ‖∂L/∂W_20‖
    assert ratio["plain"] < 1e-2 and r["vanishing_flags"]["plain"] >= 5
    assert ratio["residual"] > 0.3 and ratio["batch norm"] > 0.3
    assert r["vanishing_flags"]["residual"] == r["vanishing_flags"]["batch norm"] == 0


def check_dead_relus(tour):
    r = tour[0]["dead_relus"]
    sane, high = r["dead_fraction"]["sane η = 0.3"], r["dead_fraction"]["too high η = 3"]
    assert max(high) > 0.5 and min(high) > max(sane) + 0.3
    assert max(sane) < 0.2
    assert r["test_accuracy"]["sane η = 0.3"] > 0.8 > 0.3 > r["test_accuracy"]["too high η = 3"]


def check_vanishing_gradient(tour):
    r = tour[0]["vanishing"]
    # ‖∂L/∂h_0‖ on the T = 50 probe batch, absolute and relative to ‖∂L/∂h_49‖
    for when, below, below_rel in (("at initialisation", 1e-3, 1e-3),
                                   ("after training", 1e-1, 1e-2)):  # fmt: skip
        g0, rel = r["grad_t0"][when], r["grad_t0_over_last"][when]
        assert g0["tanh RNN"] < below * g0["LSTM"], (when, g0)
        assert rel["tanh RNN"] < below_rel * rel["LSTM"], (when, rel)
    assert r["grad_t0_over_last"]["after training"]["LSTM"] > 1e-2  # the conveyor belt
    assert r["test_mse"]["LSTM"] < 0.02 and r["test_mse"]["GRU"] < 0.02
    assert r["test_mse"]["tanh RNN"] > 0.1  # the mean predictor scores 0.167


def check_lstm_input_gate(tour):
    r = tour[0]["lstm_gates"]
    assert r["test_mse"] < 0.03
    assert r["input_gate_marked"] > 0.5 > 0.2 > r["input_gate_unmarked"]
    assert r["forget_gate_mean"] > 0.5


def check_clipping(tour):
    r = tour[0]["clipping"]
    assert not r["unclipped_finite"] and r["unclipped_max_norm"] > 100
    assert r["unclipped_steps"] <= 30 and r["clipped_steps"] == 150
    assert r["clipped_finite"] and r["clipped_max_norm"] > 10  # it did have to clip
    assert r["clipped_last_loss"] < 0.5


def check_cnn(tour):
    r = tour[0]["cnn"]
    assert r["test_accuracy"] > 0.9
    assert r["filters_shape"] == [6, 1, 5, 5]
    assert r["conv1_maps_shape"] == [6, 8, 8] and r["conv2_maps_shape"] == [16, 4, 4]


def check_attention(tour):
    r = tour[0]["attention"]
    acc = r["accuracy"]
    assert acc["with positions"] > 0.95 > 0.5 > acc["without positions"]
    assert acc["without positions"] > r["chance"]
    mass = r["anti_diagonal_mass"]
    heads = mass["with positions"]  # uniform attention would put 1/8 there
    assert max(heads) > 0.5 and np.mean(heads) > 0.3
    assert max(mass["without positions"]) < 0.2


def check_transfer(tour):
    r = tour[0]["transfer"]
    acc = r["accuracy"]
    for n in r["budgets"]:  # starting from the digits' weights beats starting from noise
        assert acc[f"fine-tune all, from digits @ {n}"] > acc[f"from scratch @ {n}"] + 0.05, n
    assert r["frozen_layers_unchanged"]
    assert min(acc.values()) > r["zero_shot"] > 0.15  # 10 classes: chance is 0.1


def test_only_runs_the_chosen_sections(tmp_path, capsys):
    results = _load_tour().main(["--only", "activations,backprop", "--out", str(tmp_path)])
    assert list(results) == ["activations", "backprop"]
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "01_activations.png",
        "02_backprop.png",
    ]
    assert "σ'(0) = 0.2500" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        _load_tour().main(["--only", "no_such_section", "--out", str(tmp_path)])
