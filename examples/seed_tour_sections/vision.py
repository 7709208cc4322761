"""Sections 9 and 11: a CNN's filters and feature maps on the 8x8 digits, and transfer learning
from those digits to MNIST (another scanner, other writers) on a small budget."""

from __future__ import annotations

import numpy as np

import ember
import ember.functional as F
from ember import optim
from ember.diagnose.feature_maps import capture_feature_maps, first_conv_filters
from ember.models import LeNet5

from .common import Tour, new_figure


def train_classifier(model, params, x, y, steps: int, rng, batch: int = 64, lr: float = 3e-3):
    opt = optim.Adam(params, lr=lr)
    for _ in range(steps):
        i = rng.integers(0, len(x), min(batch, len(x)))
        loss = F.cross_entropy(model(ember.tensor(x[i])), ember.tensor(y[i]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def accuracy(model, x, y) -> float:
    model.eval()
    with ember.no_grad():
        return float((model(ember.tensor(x)).numpy().argmax(1) == y).mean())


def digits_cnn(tour: Tour):
    """LeNet-5 (6 and 16 filters of 5×5, 2×2 max pools, 120-84-10) trained on the 8x8 digits;
    trained once per tour, shared by the CNN and transfer sections."""
    if "digits_cnn" not in tour.cache:
        x, y, xt, yt = tour.digits()
        rng = tour.seed_all(9)
        model = LeNet5(in_channels=1, num_classes=10, input_size=8)
        steps = tour.steps(1000, 250)
        train_classifier(model, model.parameters(), x, y, steps, rng)
        tour.cache["digits_cnn"] = (model, steps, accuracy(model, xt, yt))
    return tour.cache["digits_cnn"]


def cnn(tour: Tour) -> dict:
    """The first layer's learned filters and both conv layers' feature maps for one digit."""
    model, steps, acc = digits_cnn(tour)
    _, _, xt, yt = tour.digits()
    k = int(np.flatnonzero(yt == 3)[0])  # a 3: curved strokes, open on the left
    maps = capture_feature_maps(model, ember.tensor(xt[k : k + 1]))  # {layer: (1, C, H, W)}
    name, w = first_conv_filters(model)  # (6, 1, 5, 5)
    m1, m2 = maps["conv1"][0], maps["conv2"][0]

    fig = new_figure(12.0, 6.6)
    axes = fig.subplots(4, 8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_frame_on(False)
    axes[0, 0].imshow(xt[k, 0], cmap="gray_r")
    axes[0, 0].set_title(f"input (label {yt[k]})", fontsize=8)
    v = np.abs(w).max()
    for c in range(6):
        axes[0, c + 1].imshow(w[c, 0], cmap="RdBu_r", vmin=-v, vmax=v)
        axes[0, c + 1].set_title(f"filter {c} (5×5)", fontsize=8)
        axes[1, c + 1].imshow(m1[c], cmap="viridis")
        axes[1, c + 1].set_title(f"conv1 map {c}", fontsize=8)
    for c in range(16):
        ax = axes[2 + c // 8, c % 8]
        ax.imshow(m2[c], cmap="viridis")
        ax.set_title(f"conv2 map {c}", fontsize=8)
    fig.suptitle(f"LeNet-5 on the 8×8 digits ({steps} Adam steps, test accuracy "
                 f"{100 * acc:.1f}%)\nconv1's filters (blue < 0 < red), then the feature maps "
                 "of conv1 and conv2 (before ReLU) for one test digit")  # fmt: skip
    tour.save(fig)
    conv_params = sum(p.numel() for p in model.conv1.parameters())
    r = {"test_accuracy": acc, "steps": steps, "filters_shape": list(w.shape),
         "conv1_maps_shape": list(m1.shape), "conv2_maps_shape": list(m2.shape),
         "conv1_parameters": conv_params}  # fmt: skip
    tour.say(f"""
    Each conv1 feature map is one 5×5 filter slid over the image, h_o = W_o ⋆ x + b_o: the
    same {conv_params // 6} weights at every position (weight sharing: conv1 has
    {conv_params} parameters for {m1.size} outputs), so a stroke is detected wherever it is.
    After {steps} steps ({100 * acc:.1f}% test accuracy) conv1's filters are light/dark
    patterns side by side, oriented edge and stroke detectors, each map lighting up where
    its pattern is in the digit; conv2 combines them, after ReLU and 2×2 max pooling, into
    {m2.shape[0]} maps of {m2.shape[1]}×{m2.shape[2]}: coarser, more abstract parts.""")
    return r


def mnist_as_digits(tour: Tour):
    """MNIST's test images brought to the digits' format: 24×24 centre, 3×3 average pooling
    (ember's F.avg_pool2d) to 8×8, each image scaled to a maximum of 1."""
    images, labels = tour.mnist_test_images()
    crop = ember.tensor(images[:, None, 2:26, 2:26].astype(np.float32) / 255.0)
    x = F.avg_pool2d(crop, 3).numpy()
    x = x / np.maximum(x.max(axis=(1, 2, 3), keepdims=True), 1e-6)
    return x.astype(np.float32), labels


MODES = ("frozen conv1+conv2, new head", "fine-tune all, from digits", "from scratch")


def transfer(tour: Tour) -> dict:
    """Reuse the digits CNN on MNIST with a few labelled images: frozen early layers and a new
    head, or everything fine-tuned, against the same network trained from scratch."""
    source, _, _ = digits_cnn(tour)
    x, y = mnist_as_digits(tour)
    pool, (xt, yt) = (x[:5000], y[:5000]), (x[5000:], y[5000:])
    budgets = (20, 100, 500) if not tour.quick else (20, 100)
    seeds, steps = tour.steps(5, 2), tour.steps(200, 100)
    zero_shot = accuracy(source, xt, yt)
    scores = {(m, n): [] for m in MODES for n in budgets}
    frozen_kept = True  # requires_grad_(False): no gradient, so the optimizer never moves them
    for n in budgets:
        for s in range(seeds):
            pick = np.random.default_rng(1000 + s).choice(len(pool[0]), n, replace=False)
            for mode in MODES:
                rng = tour.seed_all(20 + s)
                model = LeNet5(1, 10, input_size=8)  # a fresh head: fc1, fc2, fc3
                if mode == MODES[0]:
                    for part in ("conv1", "conv2"):
                        getattr(model, part).load_state_dict(getattr(source, part).state_dict())
                        getattr(model, part).requires_grad_(False)  # no gradient, no update
                elif mode == MODES[1]:
                    model.load_state_dict(source.state_dict())
                params = [p for p in model.parameters() if p.requires_grad]
                train_classifier(model, params, pool[0][pick], pool[1][pick], steps, rng, 32)
                if mode == MODES[0]:
                    frozen_kept &= all(
                        bool((p.array == q.array).all())
                        for p, q in zip(model.conv1.parameters(), source.conv1.parameters())
                    )
                scores[mode, n].append(accuracy(model, xt, yt))

    total = sum(p.numel() for p in source.parameters())
    frozen = sum(p.numel() for part in (source.conv1, source.conv2) for p in part.parameters())
    fig = new_figure(9.0, 4.2)
    ax = fig.subplots()
    for j, mode in enumerate(MODES):
        means = [np.mean(scores[mode, n]) for n in budgets]
        pos = np.arange(len(budgets)) + 0.27 * (j - 1)
        ax.bar(pos, means, 0.27, label=mode)
        for p, n in zip(pos, budgets):
            ax.plot([p] * seeds, scores[mode, n], "k.", ms=4)
            ax.text(p, max(scores[mode, n]) + 0.02, f"{100 * np.mean(scores[mode, n]):.0f}%",
                    ha="center", fontsize=8)  # fmt: skip
    ax.axhline(zero_shot, color="0.4", ls=":", label=f"digits CNN as is: {100 * zero_shot:.0f}%")
    ax.axhline(0.1, color="0.7", ls="--", lw=0.8, label="chance")
    ax.set(xticks=range(len(budgets)), xticklabels=[f"{n} labelled MNIST images" for n in budgets],
           ylabel="MNIST test accuracy (5000 images)", ylim=(0, 1),
           title=f"Transfer 8×8 digits → MNIST at 8×8: {steps} Adam steps each, "
                 f"{seeds} draws of the images (dots)")  # fmt: skip
    ax.legend(fontsize=8, loc="upper left")
    tour.save(fig)
    mean = {f"{m} @ {n}": float(np.mean(v)) for (m, n), v in scores.items()}
    r = {"accuracy": mean, "zero_shot": zero_shot, "budgets": list(budgets), "seeds": seeds,
         "steps": steps, "frozen_layers_unchanged": frozen_kept}  # fmt: skip
    n0, n1 = budgets[0], budgets[-1]

    def gain(mode, n):
        return 100 * (mean[f"{mode} @ {n}"] - mean[f"{MODES[2]} @ {n}"])

    table = "; ".join(
        f"{n} images: " + " / ".join(f"{100 * mean[f'{m} @ {n}']:.0f}" for m in MODES) + "%"
        for n in budgets
    )
    limit = (f"; with {n1} labels the frozen {frozen} of {total} weights start to limit the"
             " fit" if gain(MODES[0], n1) < 0 < gain(MODES[1], n1) else "")  # fmt: skip
    tour.say(f"""
    Early layers learn general features (strokes, edges), later ones the task. The digits CNN
    reads MNIST (other writers, another scanner) as it is at {100 * zero_shot:.0f}%. A small
    labelled MNIST budget, {steps} Adam steps, test accuracy for conv1 + conv2 frozen
    (requires_grad_(False)) with a new head / every layer fine-tuned from the digits weights /
    the same LeNet-5 from scratch: {table}. Against scratch, at {n0} and {n1} images: frozen
    layers {gain(MODES[0], n0):+.0f} and {gain(MODES[0], n1):+.0f} points, fine-tuning all
    {gain(MODES[1], n0):+.0f} and {gain(MODES[1], n1):+.0f}{limit}.""")
    return r
