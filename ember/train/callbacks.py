"""Callbacks, early stopping, and the history a run returns.

A callback is any object with some of these methods, called by the Trainer:

    on_train_begin(trainer)
    on_after_backward(trainer)              gradients present, before clipping and the step
    on_step_end(trainer)
    on_validation_end(trainer, metrics)     metrics: {"loss": …, "accuracy": …}
    on_epoch_end(trainer)
    on_train_end(trainer)

The trainer exposes model, optimizer, scheduler, step, epoch, run_dir, last_loss, last_batch,
last_output, grad_norm, history and lr; setting ``trainer.should_stop = True`` ends the run
after the current step. A callback with ``state_dict()``/``load_state_dict()`` is saved in
checkpoints and restored on resume.

Data-parallel (distributed_training.py): callbacks run on every rank, on global numbers
(``last_loss``, validation metrics), and a stop asked for on one rank stops all of them at that
step. ``trainer.model`` is then the DistributedDataParallel wrapper and ``trainer.module`` the
plain model; a callback that writes files should do so where ``trainer.is_main`` (rank 0).
"""

from __future__ import annotations

import math
from pathlib import Path

HOOKS = (
    "on_train_begin",
    "on_after_backward",
    "on_step_end",
    "on_validation_end",
    "on_epoch_end",
    "on_train_end",
)


class Callback:
    """Optional base class: every hook does nothing until a subclass defines it."""

    def on_train_begin(self, trainer) -> None:
        pass

    def on_after_backward(self, trainer) -> None:
        pass

    def on_step_end(self, trainer) -> None:
        pass

    def on_validation_end(self, trainer, metrics: dict) -> None:
        pass

    def on_epoch_end(self, trainer) -> None:
        pass

    def on_train_end(self, trainer) -> None:
        pass


class EarlyStopping:
    """Stop when the validation loss has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, patience: int = 5, min_delta: float = 0.0) -> None:
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        self.patience, self.min_delta = patience, min_delta
        self.best = math.inf
        self.bad_epochs = 0

    def update(self, value: float) -> bool:
        """Record an epoch's value; True when it is a new best."""
        if value < self.best - self.min_delta:
            self.best, self.bad_epochs = value, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.bad_epochs >= self.patience

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.bad_epochs = float(state["best"]), int(state["bad_epochs"])


class History(list):
    """The metrics records of a run (what ``metrics.jsonl`` holds), plus how the run ended."""

    stop_reason: str | None = None
    run_dir: Path | None = None

    def last(self, split: str) -> dict | None:
        return next((r for r in reversed(self) if r.get("split") == split), None)
