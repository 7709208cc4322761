"""Run checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is one ``ember.save`` file (``checkpoint.safetensors``) holding

    model       the model's state_dict (tensors)
    optimizer   the optimizer's state_dict (moment arrays as tensors, scalars as JSON)
    scheduler   the LR scheduler's state_dict, or None
    rng         ember's default generator state and the train loader's (shuffle) state
    loop        epoch, step, the position inside an epoch and the running sums of that epoch,
                early-stopping state
    callbacks   state of callbacks that have state_dict()

plus ``checkpoint.json`` beside it: the same non-tensor facts in readable form, for people and
for tools (``ember report``). Loading reads only the safetensors file, which is complete on its
own, so the two can never disagree about what is resumed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .. import backend
from ..serialization import atomic_write_text, load, save

CHECKPOINT_FORMAT = "ember.checkpoint/1"
CHECKPOINT_FILE = "checkpoint.safetensors"


def checkpoint_path(path: str | os.PathLike) -> Path:
    """``path`` itself if it is a file, else the run folder's ``checkpoint.safetensors``."""
    path = Path(path)
    return path / CHECKPOINT_FILE if path.is_dir() or path.suffix == "" else path


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
