"""Sections 6-8: recurrent networks on the adding problem. The gradient through time of a tanh
RNN against an LSTM and a GRU, the LSTM's gates at work, and gradient clipping."""

from __future__ import annotations

import numpy as np

import ember
import ember.functional as F
from ember import nn, optim
from ember.data import adding_problem
from ember.diagnose.figures import gate_heatmaps, line_plot
from ember.diagnose.through_time import gradient_through_time

from .common import Tour, new_figure


class AddingModel(nn.Module):
    """A recurrent layer over (value, marker) pairs, a linear read-out of the last h_T."""

    def __init__(self, kind: str, hidden: int, **options):
        super().__init__()
        self.rnn = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind](2, hidden, **options)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.head(h[-1])


def train_adding(model, rng, steps: int, T: int, lr: float = 1e-2, clip: float | None = 1.0):
    opt = optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        x, y = adding_problem(64, T, rng)
        loss = F.mse_loss(model(ember.tensor(x)), ember.tensor(y))
        opt.zero_grad()
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()


def mse(model, x, y) -> float:
    with ember.no_grad():
        return F.mse_loss(model(ember.tensor(x)), ember.tensor(y)).item()


def _ratio(v: float) -> str:
    return f"{v:.1e}" if v > 0 else "0 (underflow: ‖·‖ squares the elements in float32)"


def vanishing(tour: Tour) -> dict:
    """‖∂L/∂h_t‖ against t for a tanh RNN, an LSTM and a GRU, at initialisation and after
    training on the adding problem."""
    T, steps = tour.steps(100, 50), tour.steps(1200, 700)
    probe = adding_problem(64, T, np.random.default_rng(123))
    test = adding_problem(500, T, np.random.default_rng(321))
    curves, errors = {"at initialisation": {}, "after training": {}}, {}
    for kind, label in (("RNN", "tanh RNN"), ("LSTM", "LSTM"), ("GRU", "GRU")):
        rng = tour.seed_all(6)
        model = AddingModel(kind, 32, **({"forget_bias": 1.0} if kind == "LSTM" else {}))

        def loss(model=model):
            return F.mse_loss(model(ember.tensor(probe[0])), ember.tensor(probe[1]))

        curves["at initialisation"][label] = gradient_through_time(model, loss)["rnn.l0"]
        train_adding(model, rng, steps, T)
        curves["after training"][label] = gradient_through_time(model, loss)["rnn.l0"]
        errors[label] = mse(model, *test)

    fig = new_figure(12.0, 4.0)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, (when, c) in zip(axes, curves.items()):
        series = {k: (np.arange(T), v) for k, v in c.items()}
        line_plot(series, f"{when}", "time step t (the loss is read at t = T - 1)",
                  "‖∂L/∂h_t‖ (mean over 64 sequences)", logy=True, ax=ax)  # fmt: skip
    fig.suptitle(f"Adding problem, T = {T}: how much of the loss's gradient reaches h_t"
                 " (missing points: the norm underflowed to 0)")  # fmt: skip
    tour.save(fig)
    rel = {w: {k: float(v[0] / v[-1]) for k, v in c.items()} for w, c in curves.items()}
    first = {w: {k: float(v[0]) for k, v in c.items()} for w, c in curves.items()}
    r = {"T": T, "steps": steps, "grad_t0_over_last": rel, "grad_t0": first, "test_mse": errors}
    init, trained = rel["at initialisation"], rel["after training"]
    tour.say(f"""
    A tanh RNN computes h_t = tanh(W_hh·h_{{t-1}} + W_ih·x_t + b), so ∂L/∂h_t is multiplied by
    diag(1 - h²)·W_hh once per step back: it shrinks geometrically. ‖∂L/∂h_0‖ / ‖∂L/∂h_{T - 1}‖
    at initialisation: tanh RNN {_ratio(init["tanh RNN"])}, LSTM {_ratio(init["LSTM"])}, GRU
    {_ratio(init["GRU"])}. After {steps} Adam steps the LSTM keeps its forget gates f_t open
    and the cell state C_t = f_t ∗ C_{{t-1}} + i_t ∗ C̃_t carries the gradient back: ratio
    {_ratio(trained["LSTM"])}; the GRU's update gate (h_t = (1 - z_t) ∗ n_t + z_t ∗ h_{{t-1}},
    forget and input gates in one) does the same: {_ratio(trained["GRU"])}; the tanh RNN:
    {_ratio(trained["tanh RNN"])}. Test MSE (predicting the mean scores 0.167): LSTM
    {errors["LSTM"]:.4f}, GRU {errors["GRU"]:.4f}, tanh RNN {errors["tanh RNN"]:.4f}: the RNN
    cannot learn what no gradient reaches.""")
    return r


def lstm_gates(tour: Tour) -> dict:
    """f_t, i_t, C̃_t, o_t, C_t, h_t of a trained LSTM on one adding-problem sequence."""
    T, hidden, steps = 20, 12, tour.steps(1200, 800)
    rng = tour.seed_all(7)
    model = AddingModel("LSTM", hidden, forget_bias=1.0)
    train_adding(model, rng, steps, T)
    x, y = adding_problem(500, T, np.random.default_rng(77))
    with ember.no_grad():
        out, _, gates = model.rnn(ember.tensor(x), record_gates=True)
        error = F.mse_loss(model.head(out[-1]), ember.tensor(y)).item()
    g = {k: v.numpy() for k, v in gates["l0"].items()}  # each (T, B, H)
    marked = x[..., 1] > 0  # (T, B)
    i_marked, i_other = g["i"][marked].mean(0), g["i"][~marked].mean(0)
    order = np.argsort(i_other - i_marked)  # units whose input gate opens at markers first
    b = 0
    shown = {k: g[k][:, b, order] for k in ("f", "i", "g", "o", "c", "h")}
    labels = [f"{v:.2f}" if m else "·" for v, m in zip(x[:, b, 0], marked[:, b])]
    title = (f"A trained LSTM on one adding-problem sequence (T = {T}):\nthe marked values"
             f" (red lines) sum to {y[b, 0]:.2f}; units sorted, those whose\ninput gate i_t"
             " opens at the markers on top")  # fmt: skip
    fig = gate_heatmaps(shown, title=title, time_labels=labels)
    for ax in fig.axes[: len(shown)]:  # the heatmaps (their colorbars come after)
        ax.set_yticks(range(0, hidden, 3))
        for t in np.flatnonzero(marked[:, b]):
            ax.axvline(t, color="red", lw=0.8, ls="--")
    tour.save(fig)
    best = int(order[0])
    r = {"test_mse": error, "steps": steps, "hidden": hidden,
         "input_gate_marked": float(i_marked[best]), "input_gate_unmarked": float(i_other[best]),
         "input_gate_gap_max": float((i_marked - i_other).max()),
         "forget_gate_mean": float(g["f"][~marked].mean())}  # fmt: skip
    tour.say(f"""
    The seed's equations, recorded at every step (nn.LSTM(..., record_gates=True)):
    f_t = σ(W_f·[h_{{t-1}}, x_t] + b_f), i_t = σ(W_i·[h_{{t-1}}, x_t] + b_i),
    C̃_t = tanh(W_C·[h_{{t-1}}, x_t] + b_C), C_t = f_t ∗ C_{{t-1}} + i_t ∗ C̃_t,
    o_t = σ(W_o·[h_{{t-1}}, x_t] + b_o), h_t = o_t ∗ tanh(C_t). Trained {steps} steps (test MSE
    {error:.4f}), units sorted by how much their input gate opens at the markers (red lines):
    unit {best}'s i_t averages {i_marked[best]:.2f} at marked steps and {i_other[best]:.2f}
    elsewhere: that unit writes (almost) only the marked values into its C_t, where they are
    summed and kept (mean forget gate off the markers {r["forget_gate_mean"]:.2f}) until the
    read-out.""")
    return r


def clipping(tour: Tour) -> dict:
    """A ReLU RNN with recurrent weights 1.05·I (the IRNN of Le et al. 2015, a little past
    the edge) trained by SGD, with and without nn.utils.clip_grad_norm_."""
    T, steps, max_norm = 50, tour.steps(300, 150), 1.0
    runs = {}
    for clip in (None, max_norm):
        rng = tour.seed_all(8)
        model = AddingModel("RNN", 32, nonlinearity="relu")
        with ember.no_grad():  # ‖∂h_{t+1}/∂h_t‖ up to 1.05, compounded over 50 steps
            model.rnn.weight_hh_l0.copy_(1.05 * ember.eye(32))
            model.rnn.bias_hh_l0.zero_()
            model.rnn.bias_ih_l0.zero_()
        opt = optim.SGD(model.parameters(), lr=1e-2)
        norms, losses = [], []
        with np.errstate(over="ignore", invalid="ignore"):  # the unclipped run overflows
            for _ in range(steps):
                x, y = adding_problem(32, T, rng)
                loss = F.mse_loss(model(ember.tensor(x)), ember.tensor(y))
                opt.zero_grad()
                loss.backward()
                grads = [p.grad for p in model.parameters()]
                norm = (nn.utils.clip_grad_norm_(model.parameters(), clip) if clip
                        else nn.utils.get_total_norm(grads))  # fmt: skip
                norms.append(float(norm))
                losses.append(loss.item())
                if not np.isfinite(losses[-1]):
                    break  # the weights are NaN from here on
                opt.step()
        runs["clipped at 1" if clip else "no clipping"] = (np.array(norms), np.array(losses))

    fig = new_figure(12.0, 4.0)
    ax1, ax2 = fig.subplots(1, 2)
    for label, (norms, losses) in runs.items():
        (line,) = ax1.semilogy(norms, "o-" if len(norms) < 20 else "-", ms=4, lw=1, label=label)
        ax2.semilogy(losses, "o-" if len(losses) < 20 else "-", ms=4, lw=1, label=label,
                     color=line.get_color())  # fmt: skip
        if not np.isfinite(losses[-1]):
            ax2.plot(len(losses) - 1, np.nanmax(losses[np.isfinite(losses)]), "rx", ms=12,
                     label="loss NaN: training is over")  # fmt: skip
    ax1.axhline(max_norm, color="0.4", ls=":", label="max_norm = 1")
    ax1.set(title="‖g‖ before clipping, at every SGD step", xlabel="step", ylabel="‖g‖₂")
    ax2.set(title="training loss (MSE)", xlabel="step")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"ReLU RNN with W_hh = 1.05·I on the adding problem (T = {T}), SGD η = 0.01")
    tour.save(fig)
    (n0, l0), (n1, l1) = runs["no clipping"], runs["clipped at 1"]
    r = {"unclipped_max_norm": float(np.nanmax(n0)), "unclipped_steps": len(l0),
         "unclipped_finite": bool(np.isfinite(l0).all()), "clipped_max_norm": float(n1.max()),
         "clipped_finite": bool(np.isfinite(l1).all()), "clipped_steps": len(l1),
         "clipped_last_loss": float(l1[-20:].mean()), "first_loss": float(l0[0])}  # fmt: skip
    tour.say(f"""
    With W_hh = 1.05·I the gradient through time is multiplied by W_hhᵀ·diag(ReLU') at each
    step back and grows (up to 1.05⁵⁰ ≈ 11×) instead of shrinking. The first gradient has
    ‖g‖ = {n0[0]:.0f}; plain SGD takes the full step η·g, the weights jump, and the next
    gradients are
    {", ".join(f"{v:.1e}" for v in n0[1:4])}: the loss is
    {"NaN" if not r["unclipped_finite"] else "finite"} after {len(l0)} steps. With
    clip_grad_norm_(params, 1.0) (g ← g·min(1, 1/‖g‖)) the direction is kept and the step
    bounded: all {len(l1)} steps finite although raw norms reach {n1.max():.0f}; mean loss
    {l1[:20].mean():.3f} over the first 20 steps, {r["clipped_last_loss"]:.3f} over the last
    20 (0.167 is the mean predictor's: clipping buys stability; the memory to solve the task
    takes longer, or an LSTM).""")
    return r
