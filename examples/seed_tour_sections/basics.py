"""Sections 1-3: activations and their derivatives, backpropagation, the optimizers."""

from __future__ import annotations

import math

import numpy as np

import ember
import ember.functional as F
from ember import nn, optim
from ember.diagnose import autograd_graph
from ember.func import functional_call

from .common import Tour, new_figure

ACTIVATIONS = {
    "ReLU  max(0, x)": F.relu,
    "sigmoid  σ(x)": F.sigmoid,
    "tanh": F.tanh,
    "GELU  x·Φ(x)": F.gelu,
    "Swish/SiLU  x·σ(x)": F.silu,
}


def activations(tour: Tour) -> dict:
    """f(x) and f'(x) for the seed's activations, the derivative from ember's autograd."""
    x = ember.linspace(-5.0, 5.0, 1001, dtype=ember.float64, requires_grad=True)
    curves = {}
    for name, f in ACTIVATIONS.items():
        y = f(x)
        (dy,) = ember.autograd.grad(y.sum(), x)  # one backward gives f'(x) at all 1001 points
        curves[name] = (y.detach().numpy(), dy.numpy())
    xs = x.detach().numpy()

    def d(name, at):
        return float(np.interp(at, xs, curves[name][1]))

    sig = 1 / (1 + np.exp(-xs))
    check = float(np.abs(curves["sigmoid  σ(x)"][1] - sig * (1 - sig)).max())
    logits = ember.tensor([2.0, 1.0, 0.1])
    probs = {t: F.softmax(logits / t, dim=0).numpy() for t in (0.5, 1.0, 2.0)}

    fig = new_figure(13.0, 3.8)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    for name, (y, dy) in curves.items():
        ax1.plot(xs, y, label=name)
        ax2.plot(xs, dy, label=name)
    ax1.set(title="f(x)", xlabel="x", ylim=(-1.5, 3))
    ax2.set(title="f'(x) from ember.autograd.grad", xlabel="x")
    ax2.axhline(0.25, color="0.6", ls=":", lw=1)
    ax2.annotate("σ' ≤ 0.25", (2.2, 0.27), fontsize=8)
    ax1.legend(fontsize=7)
    for k, (t, p) in enumerate(probs.items()):
        ax3.bar(np.arange(3) + 0.27 * (k - 1), p, 0.27, label=f"softmax(z/{t:g})")
    ax3.set(title="softmax([2, 1, 0.1]/T): sums to 1", xticks=range(3), ylim=(0, 1))
    ax3.legend(fontsize=7)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    tour.save(fig)
    r = {
        "relu_grad_neg": d("ReLU  max(0, x)", -1.0),
        "relu_grad_pos": d("ReLU  max(0, x)", 1.0),
        "sigmoid_grad_0": d("sigmoid  σ(x)", 0.0),
        "sigmoid_grad_4": d("sigmoid  σ(x)", 4.0),
        "tanh_grad_0": d("tanh", 0.0),
        "tanh_grad_3": d("tanh", 3.0),
        "gelu_grad_0": d("GELU  x·Φ(x)", 0.0),
        "silu_grad_0": d("Swish/SiLU  x·σ(x)", 0.0),
        "sigmoid_grad_error": check,
        "softmax_sum": float(probs[1.0].sum()),
    }
    tour.say(f"""
    Without activations any stack of layers is one linear map. Derivatives by autograd
    (one backward through f at 1001 points): ReLU' = {r["relu_grad_neg"]:.0f} for x < 0 and
    {r["relu_grad_pos"]:.0f} for x > 0 (a unit stuck at x < 0 learns nothing: a dead ReLU);
    σ'(0) = {r["sigmoid_grad_0"]:.4f} and σ'(4) = {r["sigmoid_grad_4"]:.4f} (saturated sigmoids
    pass almost no gradient); tanh'(0) = {r["tanh_grad_0"]:.3f} but tanh'(3) =
    {r["tanh_grad_3"]:.4f}; GELU'(0) = {r["gelu_grad_0"]:.3f}, Swish'(0) =
    {r["silu_grad_0"]:.3f}, both smooth and slightly negative for x < 0. Autograd's σ' equals
    σ(1 - σ) to {check:.1e}. Softmax turns logits [2, 1, 0.1] into probabilities
    [{", ".join(f"{v:.3f}" for v in probs[1.0])}] (sum {r["softmax_sum"]:.6f}); a temperature T < 1
    sharpens them, T > 1 flattens them.""")
    return r


def backprop(tour: Tour) -> dict:
    """The graph backward walks, and autograd's gradient against finite differences."""
    rng = tour.seed_all(1)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x = ember.tensor(rng.normal(size=(5, 3)))
    y = ember.tensor(rng.integers(0, 2, 5))
    loss = F.cross_entropy(net(x), y)
    graph = autograd_graph(loss, net)
    loss.backward()  # one backward pass: every parameter's gradient

    names = [n for n, _ in net.named_parameters()]
    params = [p for _, p in net.named_parameters()]
    n_params = sum(p.numel() for p in params)
    # finite differences: nudge each weight by ±ε, two forward passes per weight
    eps, worst = 1e-6, 0.0
    with ember.no_grad():
        for p in params:
            flat = p.array.reshape(-1)
            fd = np.empty(flat.size)
            for i in range(flat.size):
                old = flat[i]
                flat[i] = old + eps
                up = F.cross_entropy(net(x), y).item()
                flat[i] = old - eps
                down = F.cross_entropy(net(x), y).item()
                flat[i] = old
                fd[i] = (up - down) / (2 * eps)
            worst = max(worst, float(np.abs(p.grad.numpy().reshape(-1) - fd).max()))
    # ember.gradcheck: the whole Jacobian against central differences, in float64
    leaves = tuple(p.detach().clone().requires_grad_(True) for p in params)

    def loss_of(*ps):
        return F.cross_entropy(functional_call(net, dict(zip(names, ps)), (x,)), y)

    passed = ember.gradcheck(loss_of, leaves, eps=1e-6, atol=1e-8, rtol=1e-6)
    # and how close it came: max |J − J_num| per parameter, the largest of them
    report = ember.gradcheck_report(loss_of, leaves, eps=1e-6)
    closest = max(d.max_abs_diff for d in report.values())
    title = (f"autograd graph of the loss: {len(graph.ops())} ops, {len(graph.leaves())} "
             f"parameters\nmax |autograd − finite difference| = {worst:.1e}")  # fmt: skip
    graph.save_png(tour.figure_path, title=title)
    r = {"max_abs_diff": worst, "gradcheck": bool(passed), "gradcheck_max_abs_diff": closest,
         "ops": len(graph.ops()), "parameters": n_params,
         "forward_passes_fd": 2 * n_params}  # fmt: skip
    print("  the graph, from the loss down to the parameters:")
    print("\n".join("    " + line for line in str(graph).splitlines()))
    tour.say(f"""
    Backpropagation applies the chain rule from the loss down this graph: each op turns the
    gradient of its output into gradients of its inputs; where a tensor feeds two ops the
    gradients add. One backward pass gave all {n_params} gradients. Finite differences
    needed {2 * n_params} forward passes (two per weight: the O(n²) alternative) and agree
    with it to a max difference of {worst:.1e}; ember.gradcheck (the full Jacobian,
    float64, atol 1e-8) says {passed}, and ember.gradcheck_report puts its largest
    difference at {closest:.1e}.""")
    return r


def rosenbrock(p):
    """f(x, y) = (1 - x)² + 100·(y - x²)²: a curved, narrow valley with its minimum at (1, 1)."""
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


OPTIMIZERS = {  # name: (class, options): learning rates each about the largest that is stable
    "SGD  θ ← θ - η·g": (optim.SGD, {"lr": 1e-3}),
    "SGD + momentum 0.9": (optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
    "RMSprop": (optim.RMSprop, {"lr": 1e-2}),
    "Adam": (optim.Adam, {"lr": 5e-2}),
}


def optimizers(tour: Tour) -> dict:
    """Four optimizers from one start on the Rosenbrock valley: the training loop in 2-D."""
    steps, start = tour.steps(1000, 1000), [-1.5, 2.0]  # 2-D steps are cheap: same in --quick
    paths, losses = {}, {}
    for name, (cls, options) in OPTIMIZERS.items():
        p = nn.Parameter(ember.tensor(start, dtype=ember.float64))
        opt = cls([p], **options)
        path, curve = [p.detach().numpy().copy()], []
        for _ in range(steps):  # the training loop: forward, loss, backward, update
            loss = rosenbrock(p)
            opt.zero_grad()
            loss.backward()
            opt.step()
            path.append(p.detach().numpy().copy())
            curve.append(loss.item())
        curve.append(rosenbrock(p).item())
        paths[name], losses[name] = np.array(path), np.array(curve)

    fig = new_figure(12.0, 4.6)
    ax1, ax2 = fig.subplots(1, 2)
    gx, gy = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
    fz = (1 - gx) ** 2 + 100 * (gy - gx**2) ** 2
    ax1.contour(gx, gy, np.log10(fz + 1e-3), levels=25, cmap="Greys", linewidths=0.6)
    for k, (name, path) in enumerate(paths.items()):  # wide lines first: all stay visible
        (line,) = ax1.plot(path[:, 0], path[:, 1], lw=4.5 - k, alpha=0.8, label=name.split("  ")[0])
        ax1.plot(*path[-1], "o", color=line.get_color(), ms=7, mec="k")
        ax2.semilogy(losses[name], label=f"{name.split('  ')[0]}: {losses[name][-1]:.1e}")
    ax1.plot(*start, "ko")
    ax1.plot(1, 1, "r*", ms=12)
    ax1.set(title=f"Rosenbrock valley, {steps} steps from (-1.5, 2)", xlabel="x", ylabel="y",
            xlim=(-2, 2), ylim=(-1, 3))  # fmt: skip
    ax1.legend(fontsize=8, loc="lower right")
    ax2.set(title="loss against step", xlabel="step", ylabel="f(x, y)")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    tour.save(fig)
    final = {name.split("  ")[0]: float(c[-1]) for name, c in losses.items()}
    r = {"final_loss": final, "steps": steps}
    tour.say(f"""
    The training loop (forward, loss, backward, optimizer step) on a 2-D loss whose valley
    is steep across and flat along. Final losses after {steps} steps: plain SGD
    {final["SGD"]:.2g} (its η must stay small for the steep walls, so it crawls along the
    floor), momentum {final["SGD + momentum 0.9"]:.2g} (v ← μ·v + g builds speed along the
    floor), RMSprop {final["RMSprop"]:.2g} and Adam {final["Adam"]:.2g} (each coordinate's step
    divided by √(running mean of g²): an adaptive learning rate). The minimum is 0 at (1, 1).""")
    if not all(math.isfinite(v) for v in final.values()):
        raise RuntimeError(f"an optimizer diverged on the Rosenbrock function: {final}")
    return r
