"""A small training loop shared by the CNN experiments: shuffled mini-batches, step decay of
the learning rate, test accuracy per epoch, wall time. (The project's fit loop lives in
``ember.train``; this keeps the experiment scripts self-contained.)"""

from __future__ import annotations

import time

import numpy as np

import ember
import ember.functional as F


def evaluate(model, x, y, batch: int = 1000) -> tuple[float, float]:
    """(accuracy %, mean cross-entropy) on arrays x, y in eval mode."""
    model.eval()
    correct, loss_sum = 0, 0.0
    with ember.no_grad():
        for i in range(0, len(x), batch):
            logits = model(ember.Tensor(x[i : i + batch]))
            yb = y[i : i + batch]
            loss_sum += F.cross_entropy(logits, ember.Tensor(yb)).item() * len(yb)
            correct += int((logits.array.argmax(1) == yb).sum())
    model.train()
    return 100.0 * correct / len(x), loss_sum / len(x)


def fit(model, opt, data, epochs: int, batch_size: int, lr_at=None, seed: int = 0,
        max_steps: int | None = None, log=print, on_epoch=None) -> dict:  # fmt: skip
    """Train; ``lr_at(epoch)`` sets the learning rate at the start of each epoch;
    ``on_epoch(history)`` runs after each epoch's evaluation (e.g. to save partial results)."""
    x_tr, y_tr, x_te, y_te = data
    rng = np.random.default_rng(seed)
    history, step, t0 = [], 0, time.perf_counter()
    for epoch in range(epochs):
        if lr_at is not None:
            for g in opt.param_groups:
                g["lr"] = lr_at(epoch)
        order = rng.permutation(len(x_tr))
        losses = []
        for i in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[i : i + batch_size]
            loss = F.cross_entropy(model(ember.Tensor(x_tr[idx])), ember.Tensor(y_tr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            step += 1
            if max_steps is not None and step >= max_steps:
                break
        acc, test_loss = evaluate(model, x_te, y_te)
        record = {
            "epoch": epoch + 1,
            "step": step,
            "lr": opt.param_groups[0]["lr"],
            "train_loss": float(np.mean(losses)),
            "test_loss": test_loss,
            "test_accuracy": acc,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        history.append(record)
        log(
            f"epoch {epoch + 1}: train loss {record['train_loss']:.4f}, test loss {test_loss:.4f},"
            f" test accuracy {acc:.2f}% ({record['seconds']} s)"
        )
        if on_epoch is not None:
            on_epoch(history)
        if max_steps is not None and step >= max_steps:
            break
    return {"history": history, "wall_seconds": round(time.perf_counter() - t0, 1)}
