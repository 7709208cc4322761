"""Sections 4-5: deep networks. Initialisation, batch norm and residual connections; dead ReLUs."""

from __future__ import annotations

import re

import numpy as np

import ember
import ember.functional as F
from ember import nn, optim
from ember.diagnose import activation_health, gradient_health

from .common import Tour, new_figure

INITS = {  # name: how the weights of every Linear are drawn (biases zero)
    "N(0, 0.01²)": lambda w, act: nn.init.normal_(w, 0.0, 0.01),
    "N(0, 1)": lambda w, act: nn.init.normal_(w, 0.0, 1.0),
    "Kaiming (He)": lambda w, act: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "Xavier (Glorot)": lambda w, act: nn.init.xavier_normal_(
        w, gain=nn.init.calculate_gain("tanh")
    ),
}


def deep_mlp(depth: int, width: int, act, init: str) -> nn.Sequential:
    """depth hidden layers Linear → act, then a 10-way Linear, weights drawn by INITS[init]."""
    layers, fan_in = [], 64
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), act()]
        fan_in = width
    model = nn.Sequential(*layers, nn.Linear(width, 10))
    for m in model:
        if isinstance(m, nn.Linear):
            INITS[init](m.weight, act)
            nn.init.zeros_(m.bias)
    return model


class DeepTanh(nn.Module):
    """h_l = tanh(W_l·h_{l-1}) (plain), h_l = h_{l-1} + tanh(W_l·h_{l-1}) (residual), or
    h_l = tanh(BN(W_l·h_{l-1})) (batch norm); torch's default init in all three."""

    def __init__(self, depth: int, width: int, kind: str):
        super().__init__()
        self.kind = kind
        self.inp = nn.Linear(64, width)
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
        self.norms = nn.ModuleList([nn.BatchNorm1d(width) for _ in range(depth)])
        self.out = nn.Linear(width, 10)

    def forward(self, x):
        h = F.tanh(self.inp(x))
        for lin, bn in zip(self.layers, self.norms):
            z = lin(h)
            if self.kind == "batch norm":
                z = bn(z)
            h = h + F.tanh(z) if self.kind == "residual" else F.tanh(z)
        return self.out(h)


def _standardised_digits(tour: Tour, n: int):
    x, y, _, _ = tour.digits()
    x = x.reshape(len(x), -1)[:n]
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    return ember.tensor(x.astype(np.float32)), ember.tensor(y[:n])


def initialisation(tour: Tour) -> dict:
    """Activation std per layer of a deep MLP under four inits; gradient norm per layer of a
    deep tanh net, plain, residual and with batch norm."""
    depth, width = 20, tour.steps(256, 128)
    x, y = _standardised_digits(tour, 256)
    stds, saturated = {}, {}
    for act, inits in ((nn.ReLU, ("N(0, 0.01²)", "N(0, 1)", "Kaiming (He)")),
                       (nn.Tanh, ("N(0, 0.01²)", "N(0, 1)", "Xavier (Glorot)"))):  # fmt: skip
        for init in inits:
            tour.seed_all(4)
            model = deep_mlp(depth, width, act, init)
            with ember.no_grad():
                health = activation_health(model, x)
            rows = [r for r in health.layers if r.kind == act.__name__]
            stds[("ReLU" if act is nn.ReLU else "tanh", init)] = np.array([r.std for r in rows])
            if act is nn.Tanh:
                saturated[init] = float(np.mean([r.saturated_fraction for r in rows]))
    grads, vanishing = {}, {}
    for kind in ("plain", "residual", "batch norm"):
        tour.seed_all(4)
        model = DeepTanh(depth, width, kind)
        F.cross_entropy(model(x), y).backward()
        health = gradient_health(model)
        weights = [p for p in health.params if re.fullmatch(r"layers\.\d+\.weight", p.name)]
        grads[kind] = np.array([p.grad_norm for p in weights])
        vanishing[kind] = len(health.vanishing)

    fig = new_figure(14.0, 4.2)
    axes = fig.subplots(1, 3)
    layer = np.arange(1, depth + 1)
    for (act, init), s in stds.items():
        ax = axes[0] if act == "ReLU" else axes[1]
        ax.semilogy(layer, s, "o-", ms=3, label=init)
    axes[0].set(title=f"ReLU MLP, {depth} layers × {width}: std of h_l",
                xlabel="layer l", ylabel="std of the activations")  # fmt: skip
    axes[1].set(title=f"tanh MLP: std of h_l (N(0, 1): {100 * saturated['N(0, 1)']:.0f}% "
                "saturated)", xlabel="layer l")  # fmt: skip
    for kind, g in grads.items():
        axes[2].semilogy(layer, g, "o-", ms=3, label=kind)
    axes[2].set(title="tanh, torch's default init: ‖∂L/∂W_l‖", xlabel="layer l",
                ylabel="gradient norm")  # fmt: skip
    for ax in axes:
        ax.set_xticks(range(1, depth + 1, 2))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    tour.save(fig)
    last = {f"{a} {i}": float(s[-1]) for (a, i), s in stds.items()}
    ratio = {k: float(g[0] / g[-1]) for k, g in grads.items()}
    r = {"last_layer_std": last, "tanh_saturated": saturated, "grad_first_over_last": ratio,
         "vanishing_flags": vanishing, "depth": depth, "width": width}  # fmt: skip
    tour.say(f"""
    Each layer computes h_l = act(W_l·h_{{l-1}} + b_l). With weights N(0, 0.01²) the signal
    shrinks at every layer: the ReLU net's 20th layer has std {last["ReLU N(0, 0.01²)"]:.1e};
    with N(0, 1) it grows to {last["ReLU N(0, 1)"]:.1e}; Kaiming's Var(W) = 2/fan_in keeps it
    at {last["ReLU Kaiming (He)"]:.2f}. For tanh, N(0, 1) saturates
    {100 * saturated["N(0, 1)"]:.0f}% of the units (|x| > 2, tanh' < 0.07) while Xavier's
    saturates {100 * saturated["Xavier (Glorot)"]:.0f}% and keeps std
    {last["tanh Xavier (Glorot)"]:.2f}. Right: the gradient reaching layer 1 against layer 20
    of a deep tanh net: plain {ratio["plain"]:.1e} (gradient_health flags
    {vanishing["plain"]} weights as vanishing), with residual connections h_l = h_{{l-1}} +
    f(h_{{l-1}}) {ratio["residual"]:.2f}, with batch norm {ratio["batch norm"]:.2f}.""")
    return r


def dead_relus(tour: Tour) -> dict:
    """The same MLP trained with a sane and a too-high learning rate: dead ReLUs per layer."""
    x, y, xt, yt = tour.digits()
    x, xt = x.reshape(len(x), -1), xt.reshape(len(xt), -1)
    steps, lrs = tour.steps(400, 200), {"sane η = 0.3": 0.3, "too high η = 3": 3.0}
    dead, curves, accuracy = {}, {}, {}
    for label, lr in {"at initialisation": 0.0, **lrs}.items():
        rng = tour.seed_all(5)
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                              nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))  # fmt: skip
        opt = optim.SGD(model.parameters(), lr=lr)
        curve = []
        for _ in range(steps if lr else 0):
            i = rng.integers(0, len(x), 64)
            loss = F.cross_entropy(model(ember.tensor(x[i])), ember.tensor(y[i]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            curve.append(loss.item())
        with ember.no_grad():
            health = activation_health(model, ember.tensor(x))  # the whole training set
            accuracy[label] = float((model(ember.tensor(xt)).numpy().argmax(1) == yt).mean())
        dead[label] = [r.dead_fraction for r in health.layers if r.kind == "ReLU"]
        curves[label] = curve

    fig = new_figure(11.0, 4.0)
    ax1, ax2 = fig.subplots(1, 2)
    for k, (label, fractions) in enumerate(dead.items()):
        ax1.bar(np.arange(3) + 0.27 * (k - 1), fractions, 0.27,
                label=f"{label} (test acc {100 * accuracy[label]:.0f}%)")  # fmt: skip
    ax1.set(title="dead ReLUs: units that never fire on any training digit",
            xticks=range(3), xticklabels=["ReLU 1", "ReLU 2", "ReLU 3"], ylim=(0, 1.05),
            ylabel="fraction of the layer's 128 units")  # fmt: skip
    ax1.legend(fontsize=8)
    for label in lrs:
        c = np.array(curves[label])
        ax2.plot(np.convolve(c, np.ones(10) / 10, "valid"), label=label)
    ax2.set(title="training loss (moving average of 10 steps)", xlabel="step",
            ylabel="cross-entropy", ylim=(0, 3))  # fmt: skip
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    tour.save(fig)
    sane, high = (dead[k] for k in lrs)
    r = {"dead_fraction": dead, "test_accuracy": accuracy, "steps": steps}
    tour.say(f"""
    A ReLU unit whose pre-activation W·x + b is ≤ 0 for every input outputs 0 and gets
    ReLU' = 0: no gradient, so it never recovers. activation_health counts such units on the
    whole training set. After {steps} steps of SGD at η = 0.3 the three layers have
    {", ".join(f"{100 * v:.0f}%" for v in sane)} dead units (test accuracy
    {100 * accuracy["sane η = 0.3"]:.1f}%); at η = 3 overshooting steps (the early spike)
    push the biases far negative: {", ".join(f"{100 * v:.0f}%" for v in high)} dead, test
    accuracy
    {100 * accuracy["too high η = 3"]:.1f}% (chance is 10%).""")
    return r
