"""The training loop: forward, loss, backward, optimizer step, repeated; and watching it learn.

One step on a batch (x, t):

    z = f_θ(x)                      forward pass
    ℓ = L(z, t)                     loss (mean over the batch)
    g = ∂ℓ/∂θ                       backpropagation
    g ← g · min(1, c / ‖g‖)         gradient clipping (when clip_grad_norm = c)
    θ ← optimizer(θ, g, η)          optimizer step at learning rate η (from the scheduler)

After each epoch: the validation loss and accuracy, early stopping on the validation loss, a
checkpoint in the run folder. Callbacks (see ``Callback``) are called at the named points.
Under ``python -m ember.distributed.run`` (a process group of several ranks) the same loop
runs data-parallel, as torchrun + DistributedDataParallel: distributed_training.py says how.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from .. import functional as F
from .. import nn
from . import checkpoint as ckpt
from .callbacks import EarlyStopping, History
from .distributed_training import DataParallelTraining, detect
from .evaluation import Evaluation, prediction_count
from .metrics import MetricsLog, correct_count


class Trainer(ckpt.Checkpointing, DataParallelTraining, Evaluation):
    """Trains ``model`` with ``optimizer`` on batches (x, t); see the module docstring.

    loss_fn: ``loss_fn(output, target)``, default cross-entropy (classification, with accuracy).
    scheduler / scheduler_interval: an LR scheduler stepped every "epoch" or every "step";
      ReduceLROnPlateau-style schedulers (``step(metric)``) get the validation loss.
    clip_grad_norm: rescale gradients to at most this joint 2-norm before each step.
    early_stopping: patience (int) or an ``EarlyStopping``; monitors the validation loss.
    run_dir: folder for metrics.jsonl, checkpoints and config.json (None: keep nothing on disk).
    accuracy: report accuracy (argmax of the output's last axis vs the target); default: when
      the loss is cross-entropy.
    log_every: write a train record (mean loss/accuracy of the last ``log_every`` steps).
    val_every: validate every N steps instead of after each epoch (long epochs, language models).
    checkpoint_every: also checkpoint every N steps (always at each epoch's end).
    augment: a callable applied to each training batch before the step (never to validation
      or test batches), e.g. ``BatchAugment``; its ``state_dict()`` goes into checkpoints.
    distributed: data-parallel over ember.distributed's ranks (distributed_training.py): None
      (default) when a group of more than one rank is initialised; True or False to force.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer,
        loss_fn=None,
        *,
        scheduler=None,
        scheduler_interval: str = "epoch",
        clip_grad_norm: float | None = None,
        callbacks=(),
        run_dir: str | os.PathLike | None = None,
        early_stopping: int | EarlyStopping | None = None,
        accuracy: bool | None = None,
        log_every: int = 10,
        val_every: int | None = None,
        checkpoint_every: int | None = None,
        progress: bool = True,
        augment=None,
        distributed: bool | None = None,
    ) -> None:
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f"scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}"
            )
        self._dp = detect(distributed)  # None: one process, the loop exactly as it always was
        model = self._dp.wrap(model) if self._dp is not None else model
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.loss_fn = loss_fn if loss_fn is not None else F.cross_entropy
        if accuracy is None:  # by default, accuracy goes with a cross-entropy loss
            ce = loss_fn in (None, F.cross_entropy) or isinstance(loss_fn, nn.CrossEntropyLoss)
            accuracy = ce
        self.classification = bool(accuracy)
        self.scheduler_interval = scheduler_interval
        self.clip_grad_norm = clip_grad_norm
        self.callbacks = list(callbacks)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
            early_stopping = EarlyStopping(early_stopping)
        self.early_stopping = early_stopping
        self.log_every, self.val_every = log_every, val_every
        self.checkpoint_every, self.progress = checkpoint_every, progress and self.is_main
        self.augment = augment
        self.step = 0  # optimizer steps taken
        self.epoch = 0  # the epoch in progress (1-based); after fit, the last epoch run
        self.epochs_done = 0
        self.batch_in_epoch = 0
        self.history = History()
        self.last_loss: float | None = None
        self.last_batch = self.last_output = None
        self.grad_norm: float | None = None
        self.best_val_loss = math.inf
        self.last_val: dict | None = None
        self.val_loader = None
        self.should_stop = False
        self.stop_reason: str | None = None
        self.diverged = False  # a non-finite loss stopped the run
        self.train_loader = None
        self._epoch_sums = {"loss": 0.0, "correct": 0, "count": 0}
        self._window = {"loss": 0.0, "correct": 0, "count": 0, "steps": 0}
        self._metrics_path = self.run_dir / "metrics.jsonl" if self.run_dir else None
        # only rank 0 writes (and creates the run folder); the others read it on resume
        self._log = MetricsLog(self._metrics_path) if self._metrics_path and self.is_main else None
        self.last_checkpoint: Path | None = None
        self._ckpt_step = 0

    # ------------------------------------------------------------ hooks
    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            fn = getattr(cb, hook, None)
            if fn is not None:
                fn(self, *args)

    def record(self, **values) -> dict:
        """Append a metrics record to the history (and metrics.jsonl)."""
        rec = {"step": self.step, "epoch": self.epoch, **values}
        self.history.append(rec)
        if self._log is not None:
            self._log.write(rec)
        return rec

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    # ------------------------------------------------------------ one step
    def compute_loss(self, batch):
        """(loss, output, target) for a batch ``(x, target)``; override for other batch shapes."""
        x, target = batch
        output = self.model(x)
        return self.loss_fn(output, target), output, target

    def train_step(self, batch) -> bool:
        """One optimizer step; False (and nothing updated) when the loss is not finite."""
        if self.augment is not None:  # here, so evaluate() never sees augmented batches
            batch = self.augment(batch)
        self.last_batch = batch
        loss, output, target = self.compute_loss(batch)
        value = float(loss.array)
        self.last_output = output
        n = prediction_count(target)
        correct = correct_count(output, target) if self.classification else 0
        value, n, correct = self._global_step_sums(value, n, correct)
        if not math.isfinite(value):
            self._stop_on_nonfinite(value)
            return False
        self.optimizer.zero_grad()
        loss.backward()
        self._call("on_after_backward")
        if self.clip_grad_norm is not None:
            norm = nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
            self.grad_norm = float(norm.array)
        self.optimizer.step()
        self.step += 1
        self.batch_in_epoch += 1
        self.last_loss = value
        for sums in (self._epoch_sums, self._window):
            sums["loss"] += value * n
            sums["correct"] += correct
            sums["count"] += n
        self._window["steps"] += 1
        if self._window["steps"] >= self.log_every:
            self._flush_window()
        self._call("on_step_end")
        # last, so that records and callbacks see the rate this step was taken with
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()
        return True

    def _flush_window(self) -> None:
        w = self._window
        if w["steps"]:
            extra = {"accuracy": w["correct"] / w["count"]} if self.classification else {}
            self.record(split="train", loss=w["loss"] / w["count"], **extra, lr=self.lr)
        self._window = {"loss": 0.0, "correct": 0, "count": 0, "steps": 0}

    def _stop_on_nonfinite(self, value: float) -> None:
        where = f"step {self.step + 1} (epoch {self.epoch}, batch {self.batch_in_epoch + 1})"
        if self.last_checkpoint is not None:
            kept = f"the last good checkpoint is {self.last_checkpoint} (step {self._ckpt_step})"
        elif self.run_dir is not None:
            kept = "no checkpoint had been written yet"
        else:
            kept = "no run_dir, so no checkpoint"
        self.stop_reason = (
            f"loss is {value} at {where}; stopped before updating the parameters; {kept}. "
            "Try a smaller learning rate or clip_grad_norm."
        )
        self.should_stop = self.diverged = True
        if self.is_main:
            tqdm.write(f"ember: {self.stop_reason}", file=sys.stderr)

    # ------------------------------------------------------------ the loop
    def fit(
        self,
        train_loader,
        val_loader=None,
        epochs: int = 1,
        max_steps: int | None = None,
        test_loader=None,
        resume: str | os.PathLike | None = None,
    ) -> History:
        """Train until ``epochs`` epochs (counting those before a resume) or ``max_steps`` steps.

        Returns the history; ``history.stop_reason`` says why the run ended early, if it did.
        Exact resume needs a train loader with ``state_dict``/``load_state_dict`` (ember's
        DataLoader has them); other iterables resume at the right step but not the same batches.
        """
        train_loader = self._share_train_loader(train_loader)  # data-parallel: this rank's share
        self.train_loader, self.val_loader = train_loader, val_loader
        if resume is not None:
            self.load_checkpoint(resume)
        elif self.step == 0 and self._log is not None and self._log.path.exists():
            self._log.rewrite([])  # a new run in an old folder: its metrics start afresh
        self.should_stop, self.stop_reason, self.diverged = False, None, False
        self._call("on_train_begin")
        start = time.perf_counter()
        try:
            self._run_epochs(train_loader, val_loader, epochs, max_steps)
            if self.run_dir is not None and self.batch_in_epoch and not self.diverged:
                self.save_checkpoint()  # stopped mid-epoch (max_steps): resumable from here
            if test_loader is not None and not self.diverged:
                metrics = self.evaluate(test_loader, "test")
                self.record(split="test", **metrics)
            self._call("on_train_end")
        finally:
            if self._log is not None:
                self._log.close()
        self.history.stop_reason, self.history.run_dir = self.stop_reason, self.run_dir
        self.train_seconds = time.perf_counter() - start
        return self.history

    def _run_epochs(self, train_loader, val_loader, epochs: int, max_steps: int | None) -> None:
        self._agree_stop()  # on_train_begin may have stopped one rank
        while self.epochs_done < epochs and not self.should_stop:
            if max_steps is not None and self.step >= max_steps:
                break
            self.epoch = self.epochs_done + 1
            self._set_sampler_epoch(train_loader)
            if not self._train_epoch(train_loader, epochs, max_steps):
                break
            self._end_epoch(val_loader)
            self._agree_stop()

    def _train_epoch(self, loader, epochs: int, max_steps: int | None) -> bool:
        """Run the batches of one epoch; True when the epoch ran to its end."""
        self.model.train()
        total = len(loader) if hasattr(loader, "__len__") else None
        bar = tqdm(
            total=total,
            initial=self.batch_in_epoch,
            desc=f"epoch {self.epoch}/{epochs}",
            disable=not self.progress,
            file=sys.stderr,
            dynamic_ncols=True,
            leave=True,
        )
        try:
            for batch in loader:
                if not self.train_step(batch):
                    return False
                bar.update(1)
                if self.step % 5 == 0 or self.batch_in_epoch == total:
                    bar.set_postfix(self._postfix(), refresh=False)
                if self.val_every and self.step % self.val_every == 0 and self.val_loader:
                    self._flush_window()
                    self.validate(self.val_loader)
                if self.checkpoint_every and self.step % self.checkpoint_every == 0:
                    self.save_checkpoint()
                self._agree_stop()
                if self.should_stop or (max_steps is not None and self.step >= max_steps):
                    return total is not None and self.batch_in_epoch == total
        finally:
            bar.close()
        return True

    def _postfix(self) -> dict:
        s = self._epoch_sums
        out = {"loss": f"{s['loss'] / max(s['count'], 1):.4f}"}
        if self.classification and s["count"]:
            out["acc"] = f"{s['correct'] / s['count']:.4f}"
        out["lr"] = f"{self.lr:.3g}"
        return out

    def _end_epoch(self, val_loader) -> None:
        self._flush_window()
        s = self._epoch_sums
        train = {"train_loss": s["loss"] / max(s["count"], 1)}
        if self.classification:
            train["train_accuracy"] = s["correct"] / max(s["count"], 1)
        self.epochs_done += 1
        self.batch_in_epoch = 0
        self._epoch_sums = {"loss": 0.0, "correct": 0, "count": 0}
        if val_loader is not None and not self.val_every:
            self.validate(val_loader, **train)
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            if _wants_metric(self.scheduler):
                if self.last_val is None:
                    raise ValueError(f"{type(self.scheduler).__name__} needs a val_loader")
                self.scheduler.step(self.last_val["loss"])
            else:
                self.scheduler.step()
        self._call("on_epoch_end")
        if self.run_dir is not None:
            self.save_checkpoint()


def _wants_metric(scheduler) -> bool:
    # torch's ReduceLROnPlateau.step takes the monitored value
    name = type(scheduler).__name__
    return name == "ReduceLROnPlateau" or getattr(scheduler, "needs_metric", False)


def fit(
    model: nn.Module,
    optimizer,
    train_loader,
    val_loader=None,
    loss_fn=None,
    epochs: int = 1,
    *,
    max_steps: int | None = None,
    test_loader=None,
    resume: str | os.PathLike | None = None,
    **trainer_options,
) -> History:
    """Train ``model``; the options are ``Trainer``'s. Returns the metrics history."""
    trainer = Trainer(model, optimizer, loss_fn, **trainer_options)
    history = trainer.fit(train_loader, val_loader, epochs, max_steps, test_loader, resume)
    history.trainer = trainer
    return history
