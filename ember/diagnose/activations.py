"""Activation health: per layer, is the signal alive, saturated, dying or exploding?

For one forward pass on a batch, every activation op (ReLU, LeakyReLU, σ, tanh, softmax,
log-softmax, wherever it is called: an ``nn.ReLU`` module or ``F.relu`` inside a forward)
and every leaf module with parameters (Linear, Conv, Embedding, …) gets one row:

    mean, std              over every element of the output
    signal                 the std across the batch of each unit, averaged over units: what
                           the layer still tells one example from another
    dead fraction          ReLU units (channels) that never fire on the batch: x ≤ 0 for all
    saturated fraction     σ/tanh pre-activations with |x| > threshold (σ' < 0.018 at |x| = 4,
                           tanh' < 0.071 at |x| = 2): the gradient through them all but stops
    entropy                softmax: H = -Σ_k p_k·log p_k, averaged over rows (nats), and H/log K

A unit is a feature: the last axis of a (N, F) or (…, N, F) tensor, the channel axis 1 of
an (N, C, H, W) or (N, C, D, H, W) tensor. A layer is flagged dead when ≥ 50% of its ReLU
units are dead, saturated when ≥ 25% of its σ/tanh pre-activations are; the signal dies
where its spread falls below 1e-3 of the first layer's, and explodes above 1e3 times it.

At initialisation this is a signal-propagation check (Glorot & Bengio 2010; He et al.
2015): ``problems`` names the layers where the signal dies or explodes and suggests the
initialisation that keeps its variance.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass, field

from ..backend import to_numpy, xp
from ..function import observers
from ..nn.module import Module, module_stack, start_tracking, stop_tracking
from ..tensor import Tensor

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
        a = xp.moveaxis(a, 1, -1)
    return a.reshape(-1, a.shape[-1])


def _row(name, kind, family, x, y, axis, recurrent) -> LayerHealth:
    y = to_numpy(y)
    finite = xp.isfinite(y)
    nonfinite = 1.0 - float(finite.mean()) if y.size else 0.0
    yf = y if nonfinite == 0.0 else xp.where(finite, y, 0)
    u = _units_last(yf).astype(xp.float64)
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
        row.saturated_fraction = float((xp.abs(to_numpy(x)) > thr).mean())
    elif family == "softmax":
        p = xp.exp(y.astype(xp.float64)) if kind == "LogSoftmax" else y.astype(xp.float64)
        ax = axis if axis is not None else -1
        h = -(p * xp.log(xp.where(p > 0, p, 1.0))).sum(axis=ax)
        k = y.shape[ax]
        row.entropy = float(h.mean())
        row.entropy_ratio = float(h.mean() / math.log(k)) if k > 1 else None
    return row


# ---------------------------------------------------------------- capture during a forward
class ActivationCapture:
    """Records rows during the next forward of ``model``.

    ``start()`` installs the hooks, the op observer and module tracking; ``stop()`` removes
    them (idempotent). The capture also stops itself when that forward ends, so an armed
    capture costs nothing after the step it was armed for, even if nobody stops it.
    """

    def __init__(self, model: Module, training_only: bool = False):
        self.model = model
        # with training_only, a forward in eval mode (validation) is let through unrecorded
        self.training_only = training_only
        self._active = False
        self.names = {id(m): n for n, m in model.named_modules()}
        self.recurrent = {
            id(m) for m in model.modules() if any("weight_hh" in n for n, _ in m.named_parameters())
        }
        self.rows: list[LayerHealth] = []
        self.done = False
        self.batch_size: int | None = None
        self._counts: dict[tuple[str, str], int] = {}
        self._handles: list | None = None

    def start(self) -> ActivationCapture:
        if self._handles is not None:
            return self
        model = self.model
        self._handles = [model.register_forward_pre_hook(self.root_pre_hook)]
        for m in model.modules():
            has_params = any(True for _ in m.parameters(recurse=False))
            if has_params and not any(True for _ in m.children()):
                self._handles.append(m.register_forward_hook(self.module_hook))
        self._handles.append(model.register_forward_hook(self.root_hook))
        start_tracking()
        observers.append(self)
        return self

    def stop(self) -> None:
        if self._handles is None:
            return
        observers.remove(self)
        stop_tracking()
        for h in self._handles:
            h.remove()
        self._handles = None

    def _label(self, module, kind, is_op) -> str:
        name = self.names[id(module)] or "(model)"
        if not is_op or (type(module).__name__ == kind and not list(module.children())):
            return name  # an nn.ReLU module: its op is the layer
        k = self._counts.get((name, kind), 0)
        self._counts[(name, kind)] = k + 1
        return f"{name}/{kind}#{k}"

    def _current(self):
        if not self._active or not module_stack or id(module_stack[-1]) not in self.names:
            return None
        return module_stack[-1]

    # observer protocol: activation ops
    def on_forward(self, fn, inputs, out) -> None:
        kind = fn.name
        family = ACTIVATION_OPS.get(kind)
        if family is None:
            return
        module = self._current()
        if module is None:
            return
        rec = id(module) in self.recurrent
        label = self._label(module, kind, True)
        x = inputs[0] if inputs else None
        self.rows.append(_row(label, kind, family, x, out, getattr(fn, "axis", -1), rec))

    def on_backward(self, fn, grad_outputs, grad_inputs) -> None:
        pass

    # forward hooks: leaf modules with parameters, and the end of the model's forward
    def module_hook(self, module, inputs, output) -> None:
        if not self._active:
            return
        out = output[0] if isinstance(output, tuple) else output
        if not isinstance(out, Tensor) or out.dtype.kind != "f":
            return
        rec = id(module) in self.recurrent
        kind = type(module).__name__
        self.rows.append(
            _row(self._label(module, kind, False), kind, None, None, out.data, -1, rec)
        )

    def root_pre_hook(self, module, inputs) -> None:
        if self.done or (self.training_only and not module.training):
            return
        self._active = True
        if self.batch_size is None and inputs and isinstance(inputs[0], Tensor):
            shape = inputs[0].shape
            self.batch_size = int(shape[0]) if shape else None

    def root_hook(self, module, inputs, output) -> None:
        if self._active:
            self._active = False
            self.done = True
            self.stop()

    def result(self, dead_threshold=0.5, saturated_threshold=0.25, vanish=1e-3, explode=1e3):
        return diagnose_rows(
            self.rows, self.batch_size, dead_threshold, saturated_threshold, vanish, explode
        )


@contextlib.contextmanager
def capture_activations(model: Module):
    """Record activation health during the next forward of ``model`` inside the block.

    Yields an ``ActivationCapture``; call ``.result()`` after the forward. Costs nothing
    outside the block, nor after that forward (hooks and observer are removed).
    """
    cap = ActivationCapture(model).start()
    try:
        yield cap
    finally:
        cap.stop()


def activation_health(
    model: Module,
    *inputs,
    forward=None,
    dead_threshold: float = 0.5,
    saturated_threshold: float = 0.25,
) -> ActivationHealth:
    """Run ``model(*inputs)`` (or ``forward(model, *inputs)``) once and diagnose every layer.

    The model runs in its current mode (train or eval) with grad recording as it is, so
    dropout and batch norm behave as they would in that mode.
    """
    if not isinstance(model, Module):
        raise TypeError(f"activation_health expects an ember Module, got {type(model).__name__}")
    if not inputs:
        raise TypeError("activation_health(model, *inputs) needs at least one input batch")
    inputs = tuple(
        x if isinstance(x, Tensor) or not hasattr(x, "shape") else Tensor(x) for x in inputs
    )
    with capture_activations(model) as cap:
        forward(model, *inputs) if forward is not None else model(*inputs)
    if not cap.rows:
        raise ValueError(
            f"activation_health found no activation op and no layer with parameters in"
            f" {type(model).__name__}'s forward; nothing to diagnose"
        )
    return cap.result(dead_threshold, saturated_threshold)


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
