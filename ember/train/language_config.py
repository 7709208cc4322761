"""The language trainer's configuration (split from language.py, which still exports it):
defaults, the hyper-parameters a run takes from its arguments and, on --resume, its saved
config.json, the model options, and the optimizer and LR schedule they build."""

from __future__ import annotations

import json
from pathlib import Path

from ..optim import SGD, Adam, AdamW, RMSprop
from .cosine_schedule import CosineSchedule

DEFAULTS = dict(
    data="pydoc", batch_size=32, bptt=64, lr=2e-3, time_limit=3.0, eval_every=200,
    log_every=20, clip_grad_norm=1.0, sample_tokens=500, temperature=0.8, top_k=None,
    val_fraction=0.1, seed=0, eval_windows=40,
)  # fmt: skip
# What builds the optimizer and schedule: a resumed run takes them from its config.json,
# since the checkpoint's optimizer state only fits the optimizer it came from.
OPTIMIZER_KEYS = ("optimizer", "weight_decay", "momentum", "lr_schedule")


def _hyper_parameters(args) -> dict:
    """Defaults, then (with --resume) the run's saved config, then what was given explicitly.

    A resumed run keeps its optimizer and schedule (OPTIMIZER_KEYS) from config.json, and its
    length (steps/epochs) unless a new one is given.
    """
    hp = dict(DEFAULTS)
    saved = {}
    if getattr(args, "resume", None):
        saved = json.loads((Path(args.resume) / "config.json").read_text())
        hp.update({k: saved[k] for k in list(DEFAULTS) + ["text", "data_root"] if k in saved})
    for key in list(DEFAULTS) + ["steps", "epochs", "text", "data_root", "run_dir", "resume"]:
        value = getattr(args, key, None)
        if value is not None:
            hp[key] = value
    if saved and getattr(args, "steps", None) is None and getattr(args, "epochs", None) is None:
        hp["steps"], hp["epochs"] = saved.get("steps"), saved.get("epochs")
    for key in OPTIMIZER_KEYS:
        hp[key] = saved[key] if key in saved else getattr(args, key, None)
    hp.setdefault("steps", None)
    return hp


def _model_options(args) -> dict:
    options = dict(getattr(args, "model_options", None) or {})
    for text in getattr(args, "option", None) or []:
        key, value = parse_language_option(text)
        options[key] = value
    return options


def parse_language_option(text: str) -> tuple[str, object]:
    """A language model's ``-o KEY=VALUE``: the value as JSON, else the string."""
    key, _, raw = text.partition("=")
    try:
        return key.strip().replace("-", "_"), json.loads(raw)
    except json.JSONDecodeError:
        return key.strip().replace("-", "_"), raw


def _optimizer(hp: dict, model, lr: float):
    """Adam by default; ``--optimizer adamw|sgd|rmsprop``, ``--weight-decay`` as ember train has."""
    name = hp.get("optimizer") or "adam"
    wd = hp.get("weight_decay") or 0.0
    if name == "adamw":
        return AdamW(model.parameters(), lr=lr, weight_decay=wd)
    if name == "sgd":
        momentum = hp.get("momentum") or 0.9
        return SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    if name == "rmsprop":  # ember train offers it for every model
        return RMSprop(model.parameters(), lr=lr, weight_decay=wd)
    if name != "adam":
        raise ValueError(f"optimizer must be adam, adamw, sgd or rmsprop, got {name!r}")
    return Adam(model.parameters(), lr=lr, weight_decay=wd)


def _scheduler(hp: dict, optimizer):
    """None for a constant LR; ``--lr-schedule cosine`` anneals over the run's steps."""
    name = hp.get("lr_schedule") or "constant"
    if name == "constant":
        return None
    if name != "cosine":
        raise ValueError(f"--lr-schedule must be constant or cosine, got {name!r}")
    if hp["steps"] is None:
        raise ValueError(
            "--lr-schedule cosine anneals over a known number of steps: give --steps or"
            " --epochs (a --time-limit run has no fixed length)"
        )
    return CosineSchedule(optimizer, hp["steps"])
