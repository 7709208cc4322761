"""A Trainer callback that shows the run in TensorBoard.

    from ember.train import fit
    from ember.train.tensorboard_callback import TensorBoardCallback
    fit(model, opt, train, val, epochs=5, run_dir="runs/demo", callbacks=[TensorBoardCallback()])
    # then: tensorboard --logdir runs

Every metrics record the trainer writes (what metrics.jsonl holds) becomes scalars at the
record's step: a train window's ``loss``/``accuracy`` as ``train/loss``, ``train/accuracy``;
validation as ``val/loss``, ``val/accuracy``; the epoch's training means that ride on the
validation record (``train_loss``) as ``train/epoch_loss``; test as ``test/...``; the learning
rate as ``lr``. With ``step_loss=True`` each step's loss goes to ``train/step_loss`` as well.
"""

from __future__ import annotations

import os
from numbers import Real

from ..utils.tensorboard import SummaryWriter
from .callbacks import Callback

_SPLITS = ("train", "val", "test")
_NOT_METRICS = ("step", "epoch", "split")


class TensorBoardCallback(Callback):
    """Logs the Trainer's losses, metrics and learning rate to TensorBoard event files.

    log_dir: where the event files go; default ``<run_dir>/tensorboard`` when the trainer has a
      run_dir, else torch's default ``runs/<date>_<host>``.
    step_loss: also log every step's loss (``train/step_loss``).
    writer: an open ``SummaryWriter`` to use instead (it is flushed, never closed, here), e.g.
      one the caller also writes images to.

    Only the main process writes (rank 0 under data-parallel training). The writer is opened
    with ``purge_step`` = the trainer's step + 1, so TensorBoard drops what earlier event files
    in the folder logged after that step: a resume forgets what a crashed attempt logged after its
    checkpoint, and a new run in an old folder starts afresh (as metrics.jsonl does).
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        *,
        step_loss: bool = False,
        writer: SummaryWriter | None = None,
    ) -> None:
        self.log_dir, self.step_loss = log_dir, step_loss
        self.writer = writer
        self._owns_writer = writer is None
        self._seen = 0  # records of trainer.history already written
        self._lr_step: int | None = None

    def on_train_begin(self, trainer) -> None:
        if not getattr(trainer, "is_main", True):
            return
        if self.writer is None:
            log_dir = self.log_dir
            if log_dir is None and getattr(trainer, "run_dir", None) is not None:
                log_dir = os.path.join(trainer.run_dir, "tensorboard")
            # TensorBoard drops what earlier files of this run logged after this step (what a
            # checkpoint's step logged came before the checkpoint, so it stays): a resume
            # forgets what followed its checkpoint, a new run (step 0) starts afresh
            self.writer = SummaryWriter(log_dir, purge_step=trainer.step + 1)
        self._seen = len(trainer.history)  # a resume's earlier records are already there

    def on_step_end(self, trainer) -> None:
        if self.writer is None:
            return
        if self.step_loss and trainer.last_loss is not None:
            self.writer.add_scalar("train/step_loss", trainer.last_loss, trainer.step)
        self._write_new_records(trainer)

    def on_validation_end(self, trainer, metrics: dict) -> None:
        if self.writer is not None:
            self._write_new_records(trainer)

    def on_epoch_end(self, trainer) -> None:
        if self.writer is not None:
            self._write_new_records(trainer)
            self.writer.flush()

    def on_train_end(self, trainer) -> None:
        if self.writer is None:
            return
        self._write_new_records(trainer)
        if self._owns_writer:
            self.writer.close()
            self.writer = None  # a later fit() opens a new event file
        else:
            self.writer.flush()

    def _write_new_records(self, trainer) -> None:
        records = trainer.history[self._seen :]
        self._seen = len(trainer.history)
        for rec in records:
            split, step = rec.get("split", "train"), int(rec.get("step", trainer.step))
            for key, value in rec.items():
                if key in _NOT_METRICS or isinstance(value, bool) or not isinstance(value, Real):
                    continue
                if key == "lr":
                    if self._lr_step != step:  # train and val records of one step share it
                        self.writer.add_scalar("lr", value, step)
                        self._lr_step = step
                    continue
                self.writer.add_scalar(_tag(split, key), value, step)


def _tag(split: str, key: str) -> str:
    """``val`` + ``loss`` → ``val/loss``; ``val`` + ``train_loss`` → ``train/epoch_loss``."""
    head, _, rest = key.partition("_")
    if rest and head in _SPLITS and head != split:
        return f"{head}/epoch_{rest}"
    return f"{split}/{key}"


__all__ = ["TensorBoardCallback"]
