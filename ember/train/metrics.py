"""Metrics and the metrics log of a run.

accuracy = (1/N) Σ_n [argmax_c z_nc = t_n]        for logits z (N, C) and class targets t (N,)
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy

from ..backend import to_numpy
from ..serialization import atomic_write_text
from ..tensor import Tensor


def _array(x) -> numpy.ndarray:
    if isinstance(x, Tensor):
        return to_numpy(x.array)
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        return x.detach().cpu().numpy()
    return numpy.asarray(x)


def correct_count(logits, targets) -> int:
    """How many rows of ``logits`` (…, C) have their largest entry at the target class."""
    z, t = _array(logits), _array(targets)
    if z.shape[:-1] != t.shape:
        raise ValueError(
            f"accuracy: logits of shape {z.shape} need targets of shape {z.shape[:-1]}, "
            f"got {t.shape}"
        )
    return int((z.argmax(axis=-1) == t).sum())


def accuracy(logits, targets) -> float:
    """Fraction of rows whose arg-max class equals the target, in [0, 1]."""
    n = _array(targets).size
    return correct_count(logits, targets) / n if n else float("nan")


def _clean(value):
    # metrics.jsonl is strict JSON: NaN/Inf become null, NumPy scalars plain numbers
    if isinstance(value, (numpy.generic,)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class MetricsLog:
    """``metrics.jsonl`` in a run folder: one JSON object per line, flushed as written."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = None

    def write(self, record: dict) -> None:
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        self._file.write(json.dumps({k: _clean(v) for k, v in record.items()}) + "\n")
        self._file.flush()

    def rewrite(self, records: list[dict]) -> None:
        """Replace the file's contents (used on resume, to drop lines past the checkpoint)."""
        self.close()
        text = "".join(json.dumps({k: _clean(v) for k, v in r.items()}) + "\n" for r in records)
        atomic_write_text(self.path, text)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_metrics(path: str | os.PathLike) -> list[dict]:
    """The records of a ``metrics.jsonl`` file (a run folder or the file itself)."""
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.jsonl"
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
