"""Activation health as data: the rows, their statistics, the problems they show, the report.

``_row`` reduces one layer's output (and, for activations, its input) to a ``LayerHealth``
row; ``diagnose_rows`` turns the rows of one forward into ``Problem``s with their fixes;
``ActivationHealth`` holds both and prints the table. What each column means and the
thresholds are in the docstring of ``activations.py``, which captures the rows during a
forward and is where ``activation_health`` lives.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy

from ..backend import to_numpy

#: activation op name -> family
ACTIVATION_OPS = {
    "ReLU": "relu",
    "LeakyReLU": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Softmax": "softmax",
    "LogSoftmax": "softmax",
}
#: |pre-activation| above which a unit is saturated
SATURATION_THRESHOLDS = {"sigmoid": 4.0, "tanh": 2.0}

_FIX_DEAD = (
    "He (Kaiming) initialisation of the weights feeding it"
    " (nn.init.kaiming_normal_(w, nonlinearity='relu')) with zero biases; if it died during"
    " training, a lower learning rate or LeakyReLU"
)
_FIX_SATURATED = {
    "tanh": "Xavier (Glorot) initialisation of the weights feeding it"
    " (nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain('tanh'))), normalised inputs",
    "sigmoid": "Xavier (Glorot) initialisation of the weights feeding it"
    " (nn.init.xavier_uniform_(w)), normalised inputs; in deep feed-forward stacks prefer ReLU",
}
_FIX_RECURRENT = (
    "orthogonal initialisation of the recurrent weights (nn.init.orthogonal_(weight_hh))"
)


@dataclass
class LayerHealth:
    """One row of the activation-health table."""

    name: str
    kind: str
    shape: tuple
    mean: float
    std: float
    signal: float
    dead_fraction: float | None = None
    saturated_fraction: float | None = None
    entropy: float | None = None
    entropy_ratio: float | None = None
    nonfinite_fraction: float = 0.0
    recurrent: bool = False


@dataclass
class Problem:
    layer: str
    kind: str  # dead | saturated | signal-dies | signal-explodes | nonfinite
    message: str
    fix: str


@dataclass
class ActivationHealth:
    """Rows in forward order, and the problems they show."""

    layers: list[LayerHealth]
    problems: list[Problem] = field(default_factory=list)
    batch_size: int | None = None

    def layers_with(self, kind: str) -> list[str]:
        """Names of the layers with a problem of ``kind`` ('dead', 'saturated', …)."""
        return [p.layer for p in self.problems if p.kind == kind]

    @property
    def dead_layers(self) -> list[str]:
        return self.layers_with("dead")

    @property
    def saturated_layers(self) -> list[str]:
        return self.layers_with("saturated")

    def to_dict(self) -> dict:
        return {
            "batch_size": self.batch_size,
            "layers": [{**asdict(r), "shape": list(r.shape)} for r in self.layers],
            "problems": [asdict(p) for p in self.problems],
        }

    def report(self) -> str:
        """A table a person reads, then the problems with their fixes."""
        head = f"{'layer':<28}{'type':<11}{'shape':<16}{'mean':>9}{'std':>9}{'signal':>9}"
        head += f"{'dead':>7}{'satur.':>8}{'entropy':>9}"
        lines = [f"Activation health (batch of {self.batch_size})", head, "-" * len(head)]
        for r in self.layers:
            lines.append(
                f"{r.name[:27]:<28}{r.kind[:10]:<11}{str(tuple(r.shape))[:15]:<16}"
                f"{r.mean:>9.3g}{r.std:>9.3g}{r.signal:>9.3g}"
                f"{_pct(r.dead_fraction):>7}{_pct(r.saturated_fraction):>8}"
                f"{'' if r.entropy is None else f'{r.entropy:.3g}':>9}"
            )
        if not self.problems:
            lines.append("No problems: every layer passes a live, unsaturated signal.")
        else:
            lines.append(f"{len(self.problems)} problem(s):")
            last_fix = None
            for p in self.problems:
                fix = "as above" if p.fix == last_fix else p.fix
                lines.append(f"  ✗ {p.layer} ({p.kind}): {p.message}\n      fix: {fix}")
                last_fix = p.fix
        return "\n".join(lines)

    __str__ = report


def _pct(v):
    return "" if v is None else f"{100 * v:.0f}%"


# ---------------------------------------------------------------- statistics of one array
def _units_last(a):
    """(samples, units): units on axis 1 for ≥4-d (N, C, ...) arrays, else on the last axis."""
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    if a.ndim >= 4:
        a = numpy.moveaxis(a, 1, -1)
    return a.reshape(-1, a.shape[-1])


def _row(name, kind, family, x, y, axis, recurrent) -> LayerHealth:
    y = to_numpy(y)
    finite = numpy.isfinite(y)
    nonfinite = 1.0 - float(finite.mean()) if y.size else 0.0
    yf = y if nonfinite == 0.0 else numpy.where(finite, y, 0)
    u = _units_last(yf).astype(numpy.float64)
    row = LayerHealth(
        name=name,
        kind=kind,
        shape=tuple(y.shape),
        mean=float(u.mean()) if u.size else 0.0,
        std=float(u.std()) if u.size else 0.0,
        signal=float(u.std(axis=0).mean()) if u.shape[0] > 1 else 0.0,
        nonfinite_fraction=nonfinite,
        recurrent=recurrent,
    )
    if family == "relu":
        pre = _units_last(to_numpy(x if kind == "LeakyReLU" else y))
        row.dead_fraction = 1.0 - float((pre > 0).any(axis=0).mean())
    elif family in SATURATION_THRESHOLDS:
        thr = SATURATION_THRESHOLDS[family]
        row.saturated_fraction = float((numpy.abs(to_numpy(x)) > thr).mean())
    elif family == "softmax":
        p = numpy.exp(y.astype(numpy.float64)) if kind == "LogSoftmax" else y.astype(numpy.float64)
        ax = axis if axis is not None else -1
        h = -(p * numpy.log(numpy.where(p > 0, p, 1.0))).sum(axis=ax)
        k = y.shape[ax]
        row.entropy = float(h.mean())
        row.entropy_ratio = float(h.mean() / math.log(k)) if k > 1 else None
    return row


# ---------------------------------------------------------------- diagnosis
def diagnose_rows(
    rows, batch_size=None, dead_threshold=0.5, saturated_threshold=0.25, vanish=1e-3, explode=1e3
) -> ActivationHealth:
    """Turn rows into problems: dead, saturated, signal dies, signal explodes, non-finite."""
    problems: list[Problem] = []
    first_signal = next((r.signal for r in rows if r.signal > 0), None)
    died = exploded = False
    for r in rows:
        if r.nonfinite_fraction > 0:
            problems.append(
                Problem(
                    r.name,
                    "nonfinite",
                    f"{100 * r.nonfinite_fraction:.1f}% of its outputs are NaN or Inf",
                    "run the step inside ember.detect_anomaly(model) to find the op that made them",
                )
            )
        if r.dead_fraction is not None and r.dead_fraction >= dead_threshold:
            died = died or r.dead_fraction == 1.0  # the signal dies here: said once, as dead
            problems.append(
                Problem(
                    r.name,
                    "dead",
                    f"{100 * r.dead_fraction:.0f}% of its ReLU units never fire on this batch"
                    " (dead): no gradient flows through them",
                    _FIX_DEAD,
                )
            )
        if r.saturated_fraction is not None and r.saturated_fraction >= saturated_threshold:
            family = ACTIVATION_OPS[r.kind]
            fix = _FIX_RECURRENT if r.recurrent else _FIX_SATURATED[family]
            problems.append(
                Problem(
                    r.name,
                    "saturated",
                    f"{100 * r.saturated_fraction:.0f}% of its {r.kind} pre-activations have |x| >"
                    f" {SATURATION_THRESHOLDS[family]:g} (saturated): the gradient through them"
                    " vanishes",
                    fix,
                )
            )
        if first_signal is None or r.kind in ("Softmax", "LogSoftmax"):
            continue
        ratio = r.signal / first_signal
        already = any(p.layer == r.name for p in problems)  # dead/saturated says it better
        if not died and ratio < vanish and not already:
            died = True
            fix = (
                _FIX_RECURRENT
                if r.recurrent
                else (
                    _FIX_DEAD
                    if r.kind in ("ReLU", "LeakyReLU")
                    else "an initialisation that keeps the variance: He for ReLU layers, Xavier for"
                    " tanh/σ layers"
                )
            )
            problems.append(
                Problem(
                    r.name,
                    "signal-dies",
                    f"the signal dies here: its spread across the batch is {r.signal:.3g},"
                    f" {ratio:.1e} of the first layer's {first_signal:.3g}; later layers see"
                    " (almost) the same input for every example",
                    fix,
                )
            )
        if not exploded and (ratio > explode or abs(r.mean) > explode * first_signal):
            exploded = True
            problems.append(
                Problem(
                    r.name,
                    "signal-explodes",
                    f"the signal explodes here: spread {r.signal:.3g}, mean {r.mean:.3g}, against"
                    f" {first_signal:.3g} at the first layer",
                    "weights scaled by 1/√fan_in (He for ReLU, Xavier for tanh/σ; orthogonal for"
                    " recurrent weights), or normalisation layers",
                )
            )
    return ActivationHealth(list(rows), problems, batch_size)
