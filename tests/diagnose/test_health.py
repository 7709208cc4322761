"""Activation and gradient health on networks broken on purpose, and on a healthy one."""

import math

import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
import ember.optim as optim
from ember.diagnose import activation_health, gradient_health
from ember.diagnose.gradients import snapshot


def dead_relu_mlp():
    """ReLU MLP whose second hidden layer starts with a large negative bias: it never fires."""
    model = nn.Sequential(
        nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4)
    )
    nn.init.constant_(model[2].bias, -20.0)
    return model


def deep_sigmoid_mlp(depth=8, width=64):
    """σ MLP with N(0, 1) weights: pre-activations of std ≈ 5, far in σ's flat tails."""
    layers = []
    for _ in range(depth):
        lin = nn.Linear(width, width)
        nn.init.normal_(lin.weight, 0.0, 1.0)
        layers += [lin, nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(width, 3))


def healthy_relu_mlp():
    model = nn.Sequential(
        nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4)
    )
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def test_dead_relu_layer_is_named_with_he_fix():
    h = activation_health(dead_relu_mlp(), ember.randn(128, 16))
    assert h.dead_layers == ["3"]  # the ReLU after the biased Linear, and only it
    dead = {r.name: r.dead_fraction for r in h.layers if r.dead_fraction is not None}
    assert dead["3"] == 1.0 and dead["1"] < 0.2
    text = h.report()
    assert "3 (dead)" in text and "He (Kaiming)" in text
    assert h.to_dict()["problems"][0]["layer"] == "3"


def test_deep_sigmoid_flags_saturation_and_vanishing_gradients():
    model = deep_sigmoid_mlp()
    x, t = ember.randn(64, 64), ember.randint(0, 3, (64,))
    h = activation_health(model, x)
    assert len(h.saturated_layers) >= 6  # most of the 8 σ layers
    assert "Xavier" in h.report()
    F.cross_entropy(model(x), t).backward()
    g = gradient_health(model)
    assert "0.weight" in g.vanishing and "2.weight" in g.vanishing
    assert "16.weight" not in g.vanishing  # the output layer still learns
    rms = [p.grad_rms for p in g.params if p.name.endswith("weight")]
    assert rms[0] < 0.01 * rms[-1]
    assert any(p.kind == "vanishing" for p in g.problems) and "vanishing" in g.report()


def test_healthy_network_has_no_problems():
    model = healthy_relu_mlp()
    x, t = ember.randn(256, 16), ember.randint(0, 4, (256,))
    h = activation_health(model, x)
    assert h.problems == [], h.report()
    F.cross_entropy(model(x), t).backward()
    g = gradient_health(model)
    assert g.problems == [], g.report()


def test_signal_dies_names_first_layer_and_suggests_init():
    """Tiny weights: the signal shrinks ~100× per layer and dies on the way."""
    model = nn.Sequential(*[nn.Linear(32, 32) for _ in range(4)])
    for m in model:
        nn.init.normal_(m.weight, 0.0, 1e-3)
        nn.init.zeros_(m.bias)
    h = activation_health(model, ember.randn(64, 32))
    dies = [p for p in h.problems if p.kind == "signal-dies"]
    assert [p.layer for p in dies] == ["2"]  # 1e-2 after layer 1, 1e-4 after layer 2 (< 1e-3)
    assert "initialisation" in dies[0].fix


def test_signal_explodes_is_flagged():
    model = nn.Sequential(*[nn.Linear(32, 32) for _ in range(3)])
    for m in model:
        nn.init.normal_(m.weight, 0.0, 10.0)
    h = activation_health(model, ember.randn(64, 32))
    assert h.layers_with("signal-explodes") == ["2"]


class GatedCell(nn.Module):
    """F.sigmoid and F.tanh inside one forward, with a recurrent weight name."""

    def __init__(self):
        super().__init__()
        self.weight_hh = nn.Parameter(ember.randn(8, 8) * 5.0)

    def forward(self, h):
        z = h @ self.weight_hh
        return F.sigmoid(z) * F.tanh(z)


def test_functional_activations_inside_a_module_and_recurrent_fix():
    h = activation_health(GatedCell(), ember.randn(32, 8))
    names = [r.name for r in h.layers]
    # its two activation ops, then the module's own output (a leaf with parameters)
    assert names == ["(model)/Sigmoid#0", "(model)/Tanh#0", "(model)"]
    sat = {p.layer: p.fix for p in h.problems if p.kind == "saturated"}
    assert "(model)/Tanh#0" in sat and "orthogonal" in sat["(model)/Tanh#0"]


def test_softmax_entropy_and_conv_unit_axis():
    class Head(nn.Module):
        def forward(self, x):
            return F.softmax(x * 0.0, dim=-1), F.relu(x)

    x = np.zeros((4, 3, 5, 5), dtype=np.float32)
    x[:, 0] = 1.0  # channel 0 fires everywhere, channels 1 and 2 never
    h = activation_health(Head(), ember.tensor(x))
    sm, relu = h.layers
    assert sm.entropy == pytest.approx(math.log(5)) and sm.entropy_ratio == pytest.approx(1.0)
    assert relu.dead_fraction == pytest.approx(2 / 3)  # units are channels of (N, C, H, W)


def test_update_ratio_and_no_update_flags():
    model = healthy_relu_mlp()
    x, t = ember.randn(32, 16), ember.randint(0, 4, (32,))
    F.cross_entropy(model(x), t).backward()
    before = snapshot(model.named_parameters())
    optim.SGD(model.parameters(), lr=0.1).step()
    g = gradient_health(model, before)
    w = model[0].weight
    w0 = before["0.weight"]
    expected = np.linalg.norm(w.array - w0) / np.linalg.norm(w0)  # ‖ΔW‖ / ‖W before‖
    assert g.params[0].update_ratio == pytest.approx(expected, rel=1e-5)
    assert g.params[0].grad_norm == pytest.approx(np.linalg.norm(w.grad.array), rel=1e-5)
    before = snapshot(model.named_parameters())
    optim.SGD(model.parameters(), lr=0.0).step()
    g = gradient_health(model, before)
    assert set(g.flagged("no-update")) == {n for n, _ in model.named_parameters()}


def test_unused_and_nonfinite_gradients_are_flagged():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    model[0](ember.randn(3, 4)).sum().backward()  # model[1] never used
    model[0].bias.grad.array[0] = np.inf
    g = gradient_health(model)
    assert g.flagged("no-gradient") == ["1.weight", "1.bias"]
    assert g.flagged("nonfinite") == ["0.bias"]
    assert {p.kind for p in g.problems} >= {"no-gradient", "nonfinite"}


def test_bad_arguments_are_explained():
    with pytest.raises(TypeError, match="ember Module"):
        activation_health("model", ember.randn(2, 2))
    with pytest.raises(TypeError, match="at least one input"):
        activation_health(nn.Linear(2, 2))
