"""A tiny training loop that follows the callback contract, and a run-folder builder.

ember.train.fit is written elsewhere; this loop calls the hooks the same way so the
diagnostics and the report are tested on their own.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

import ember
import ember.functional as F
import ember.nn as nn
import ember.optim as optim
from ember.diagnose import DiagnosticsCallback
from ember.diagnose.figures import (
    gate_heatmaps,
    gradient_through_time_figure,
    heatmap,
    image_grid,
    save_png,
)


def tiny_fit(model, optimizer, batches, callbacks, run_dir=None, val=None, on_metrics=None):
    """forward, loss, zero_grad, backward, on_after_backward, step, on_step_end; validation
    every 10 steps when ``val`` = (x, t) is given; ``on_metrics(dict)`` receives metric lines."""
    trainer = SimpleNamespace(
        model=model,
        optimizer=optimizer,
        step=0,
        epoch=0,
        run_dir=run_dir,
        last_loss=None,
        history=[],
    )
    for cb in callbacks:
        cb.on_train_begin(trainer)
    for x, t in batches:
        logits = model(x)
        loss = F.cross_entropy(logits, t)
        optimizer.zero_grad()
        loss.backward()
        for cb in callbacks:
            cb.on_after_backward(trainer)
        optimizer.step()
        trainer.step += 1
        trainer.last_loss = loss.item()
        trainer.history.append({"step": trainer.step, "loss": trainer.last_loss})
        if on_metrics is not None:
            acc = float((logits.array.argmax(1) == t.array).mean())
            lr = optimizer.param_groups[0]["lr"]
            on_metrics(
                {
                    "step": trainer.step,
                    "epoch": 0,
                    "split": "train",
                    "loss": trainer.last_loss,
                    "accuracy": acc,
                    "lr": lr,
                }
            )
            if val is not None and trainer.step % 10 == 0:
                model.eval()
                with ember.no_grad():
                    vl = model(val[0])
                model.train()
                vacc = float((vl.array.argmax(1) == val[1].array).mean())
                on_metrics(
                    {
                        "step": trainer.step,
                        "epoch": 0,
                        "split": "val",
                        "loss": F.cross_entropy(vl, val[1]).item(),
                        "accuracy": vacc,
                    }
                )
        for cb in callbacks:
            cb.on_step_end(trainer)
    for cb in callbacks:
        cb.on_train_end(trainer)
    return trainer


def deep_sigmoid(depth=8, width=64, n_in=8):
    """σ MLP with N(0, 1) weights: its pre-activations sit far in σ's flat tails."""
    layers = [nn.Linear(n_in, width), nn.Sigmoid()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.Sigmoid()]
    for m in layers[::2]:
        nn.init.normal_(m.weight, 0.0, 1.0)
    return nn.Sequential(*layers, nn.Linear(width, 3))


def make_run(
    root, name, bias=0.0, steps=40, lr=1e-2, figures=True, samples=True, model=None, dim=8
):
    """A run folder as ember.train would leave it: config, metrics, diagnostics, figures,
    samples. ``bias`` sets the second hidden layer's bias (-20: a dead layer); ``model``
    replaces the ReLU MLP (``dim`` inputs, 3 classes)."""
    run_dir = root / name
    run_dir.mkdir(parents=True)
    if model is None:
        model = nn.Sequential(
            nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3)
        )
        nn.init.constant_(model[2].bias, bias)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, dim)).astype(np.float32) * 2

    def batch(n):
        t = rng.integers(0, 3, n)
        x = centres[t] + rng.normal(size=(n, dim)).astype(np.float32)
        return ember.tensor(x), ember.tensor(t)

    opt = optim.Adam(model.parameters(), lr=lr)
    sched_lr = [lr * (1 - k / (2 * steps)) for k in range(steps)]
    (run_dir / "config.json").write_text(
        json.dumps(
            {
                "model": "mlp",
                "options": {"hidden": 32, "bias": bias},
                "data": "blobs",
                "lr": lr,
                "batch_size": 32,
                "steps": steps,
            }
        )
    )
    metrics = open(run_dir / "metrics.jsonl", "w")  # noqa: SIM115

    def log(m):
        metrics.write(json.dumps(m) + "\n")
        opt.param_groups[0]["lr"] = sched_lr[min(m["step"], steps - 1)]  # a schedule to plot

    cb = DiagnosticsCallback(every=5, activations_every=10)
    tiny_fit(
        model,
        opt,
        (batch(32) for _ in range(steps)),
        [cb],
        run_dir=run_dir,
        val=batch(64),
        on_metrics=log,
    )
    metrics.close()
    if figures:
        T, H = 30, 16
        t = np.arange(T)[:, None] / T
        gates = {
            "f_t": 1 / (1 + np.exp(-(2 + rng.normal(size=(T, H))))),
            "i_t": 1 / (1 + np.exp(-rng.normal(size=(T, H)))),
            "C̃_t": np.tanh(rng.normal(size=(T, H))),
            "o_t": 1 / (1 + np.exp(-rng.normal(size=(T, H)))),
            "C_t": np.cumsum(rng.normal(size=(T, H)) * 0.3, axis=0),
            "h_t": np.tanh(rng.normal(size=(T, H))) * 0.5,
        }
        save_png(gate_heatmaps(gates), run_dir / "figures" / "gates.png")
        norms = {"RNN": 0.5 ** (T - np.arange(T)), "LSTM": 0.9 + 0.1 * t[:, 0]}
        save_png(
            gradient_through_time_figure(norms), run_dir / "figures" / "gradient_through_time.png"
        )
        scores = np.tril(rng.normal(size=(12, 12))) + np.triu(np.full((12, 12), -1e9), 1)
        attn = np.exp(scores - scores.max(1, keepdims=True))
        attn /= attn.sum(1, keepdims=True)
        save_png(
            heatmap(attn, "attention", "key position", "query position"),
            run_dir / "figures" / "attention" / "layer0_head0.png",
        )
        save_png(
            image_grid(
                list(rng.normal(size=(6, 8, 8))),
                titles=range(6),
                ncols=6,
                title="conv1 feature maps",
            ),
            run_dir / "figures" / "feature_maps.png",
        )
        (run_dir / "figures" / "captions.json").write_text(
            json.dumps({"gates.png": "LSTM gates f_t, i_t, C̃_t, o_t, C_t, h_t on one sequence"})
        )
    if samples:
        (run_dir / "samples.txt").write_text("ROMEO: <sample> & what light through yonder\n")
    return run_dir
