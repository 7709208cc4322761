"""Run checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is one ``ember.save`` file (``checkpoint.safetensors``) holding

    model       the model's state_dict (tensors)
    optimizer   the optimizer's state_dict (moment arrays as tensors, scalars as JSON)
    scheduler   the LR scheduler's state_dict, or None
    rng         ember's default generator state, the train loader's (shuffle) state and the
                training-batch augmentation's (its generator), if any
    loop        epoch, step, the position inside an epoch and the running sums of that epoch,
                early-stopping state
    callbacks   state of callbacks that have state_dict()

plus ``checkpoint.json`` beside it: the same non-tensor facts in readable form, for people and
for tools (``ember report``). Loading reads only the safetensors file, which is complete on its
own, so the two can never disagree about what is resumed.

A data-parallel run (distributed_training.py) keeps the unwrapped model's weights, so one
process loads them, and adds ``rng.ranks`` (each rank's own random state), ``rng.sampler_seed``
(the DistributedSampler's seed) and ``loop.world_size``. Rank 0 writes; every rank reads it.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from .. import backend
from ..serialization import atomic_write_text, load, save
from .distributed_training import rank_random_state, set_rank_random_state
from .metrics import read_metrics

CHECKPOINT_FORMAT = "ember.checkpoint/1"
CHECKPOINT_FILE = "checkpoint.safetensors"


def checkpoint_path(path: str | os.PathLike) -> Path:
    """``path`` itself if it is a file, else the run folder's ``checkpoint.safetensors``."""
    path = Path(path)
    if path.is_file() or (path.suffix == ".safetensors" and not path.is_dir()):
        return path
    return path / CHECKPOINT_FILE


def rng_state() -> dict:
    return {"ember": backend.default_generator.get_state()}


def set_rng_state(state: dict) -> None:
    backend.default_generator.set_state(state["ember"])


def save_checkpoint(path: str | os.PathLike, state: dict, summary: dict | None = None) -> Path:
    """Write ``state`` atomically to ``path`` and a readable ``.json`` summary beside it."""
    path = Path(path)
    save({"format": CHECKPOINT_FORMAT, **state}, path)
    if summary is not None:
        atomic_write_text(path.with_suffix(".json"), json.dumps(summary, indent=2) + "\n")
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The state dict written by ``save_checkpoint`` (path: the file or its run folder)."""
    path = checkpoint_path(path)
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path}: not an ember run checkpoint (expected format {CHECKPOINT_FORMAT!r}); "
            "use ember.load for plain weight files"
        )
    return state


class Checkpointing:
    """The Trainer's checkpoint half: what its state is, and how to write and restore it."""

    def state_dict(self) -> dict:
        loader, augment = self.train_loader, self.augment
        cbs = {
            str(i): cb.state_dict()
            for i, cb in enumerate(self.callbacks)
            if hasattr(cb, "state_dict")
        }
        state = {
            "model": self.module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "rng": {
                **rng_state(),
                "loader": loader.state_dict() if hasattr(loader, "state_dict") else None,
                "augment": augment.state_dict() if hasattr(augment, "state_dict") else None,
            },
            "loop": {
                "epoch": self.epochs_done,
                "step": self.step,
                "batch_in_epoch": self.batch_in_epoch,
                "epoch_sums": dict(self._epoch_sums),
                "window": dict(self._window),
                "best_val_loss": self.best_val_loss,
                "last_val": self.last_val,
                "early_stopping": (
                    self.early_stopping.state_dict() if self.early_stopping is not None else None
                ),
            },
            "callbacks": cbs,
        }
        if self._dp is not None:
            state["loop"]["world_size"] = self._dp.world
            seed = getattr(getattr(loader, "sampler", None), "seed", None)
            state["rng"]["sampler_seed"] = seed if isinstance(seed, int) else None
        return state

    def load_state_dict(self, state: dict) -> None:
        saved, world = int(state["loop"].get("world_size", 1)), self._dp.world if self._dp else 1
        if saved != world and int(state["loop"]["batch_in_epoch"]):
            raise ValueError(
                f"the checkpoint stopped in the middle of an epoch of a run on {saved} "
                f"process(es), and this run has {world}: each process's place in the epoch "
                f"depends on how many share it; resume it on {saved}"
            )
        self.module.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        loader_state = state["rng"].get("loader")
        if loader_state is not None and hasattr(self.train_loader, "load_state_dict"):
            self.train_loader.load_state_dict(loader_state)
        augment, augment_state = self.augment, state["rng"].get("augment")
        if augment_state is not None and hasattr(augment, "load_state_dict"):
            augment.load_state_dict(augment_state)  # the draws continue where they stopped
        loop = state["loop"]
        self.epochs_done = self.epoch = int(loop["epoch"])
        self.step, self.batch_in_epoch = int(loop["step"]), int(loop["batch_in_epoch"])
        self._epoch_sums, self._window = dict(loop["epoch_sums"]), dict(loop["window"])
        self.best_val_loss = float(loop["best_val_loss"])
        self.last_val = loop.get("last_val")
        if self.early_stopping is not None and loop.get("early_stopping") is not None:
            self.early_stopping.load_state_dict(loop["early_stopping"])
        for i, cb in enumerate(self.callbacks):
            if str(i) in state.get("callbacks", {}) and hasattr(cb, "load_state_dict"):
                cb.load_state_dict(state["callbacks"][str(i)])
        if self._dp is not None:
            self._load_rank_state(state["rng"])

    def _load_rank_state(self, rng: dict) -> None:
        """This rank's own random state and the sampler's seed, where the checkpoint has them
        (one from a single process gives every rank its one state)."""
        ranks = rng.get("ranks")
        if ranks is not None and len(ranks) == self._dp.world:
            set_rank_random_state(ranks[self._dp.rank], self.augment)
        sampler = getattr(self.train_loader, "sampler", None)
        if rng.get("sampler_seed") is not None and hasattr(sampler, "set_epoch"):
            sampler.seed = int(rng["sampler_seed"])

    def save_checkpoint(self, path: str | os.PathLike | None = None) -> Path:
        """Write the whole training state (atomically) to ``path`` or the run folder.

        Data-parallel: every rank calls it; rank 0 writes, with every rank's random state,
        and all wait at a barrier until the file is complete."""
        if path is None:
            if self.run_dir is None:
                raise ValueError("save_checkpoint needs a path when the trainer has no run_dir")
            path = self.run_dir / CHECKPOINT_FILE
        dp = self._dp
        if dp is not None:
            ranks = dp.gather_states(rank_random_state(self.augment))
            if not dp.is_main:
                self.last_checkpoint, self._ckpt_step = Path(path), self.step
                dp.barrier()
                return self.last_checkpoint
        state = self.state_dict()
        if dp is not None:
            state["rng"]["ranks"] = ranks
        summary = {
            "epoch": self.epochs_done,
            "step": self.step,
            "batch_in_epoch": self.batch_in_epoch,
            "lr": self.lr,
            "best_val_loss": None if math.isinf(self.best_val_loss) else self.best_val_loss,
            "model": type(self.module).__name__,
            "optimizer": type(self.optimizer).__name__,
            "scheduler": type(self.scheduler).__name__ if self.scheduler is not None else None,
            "file": Path(path).name,
        }
        if dp is not None:
            summary["world_size"] = dp.world
        self.last_checkpoint = save_checkpoint(path, state, summary)
        self._ckpt_step = self.step
        if dp is not None:
            dp.barrier()  # no rank goes on (and could be stopped) before the file is whole
        return self.last_checkpoint

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """Restore a checkpoint (a file or run folder) so that ``fit`` continues it exactly."""
        path = checkpoint_path(path)
        self.load_state_dict(load_checkpoint(path))
        self.last_checkpoint, self._ckpt_step = path, self.step
        if self._metrics_path is not None:
            # keep the records up to the checkpoint; later lines belong to the lost future
            kept = [
                r
                for r in read_metrics(self._metrics_path)
                if r.get("step", 0) <= self.step and r.get("split") != "test"
            ]
            if self._log is not None:  # rank 0 (or the one process) writes
                self._log.rewrite(kept)
            self.history[:] = kept
