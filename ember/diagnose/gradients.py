"""Gradient health: per parameter, is the gradient alive, sane, and is the step the right size?

    ‖g‖                    the gradient's L2 norm
    ‖W‖                    the parameter's L2 norm
    update ratio  ‖ΔW‖/‖W‖  the optimizer step against the weight (needs W before and after);
                           about 1e-3 is healthy, far above it the step is too large, far
                           below it the parameter hardly learns

Flags, per parameter:
    no-gradient    no .grad after backward: the parameter is not on the loss's graph
    nonfinite      the gradient holds NaN or Inf
    vanishing      a weight matrix (ndim ≥ 2) whose gradient RMS, ‖g‖/√(non-zero elements),
                   is below ``vanish_ratio`` (1e-2) times the largest among the weight
                   matrices: its layer barely learns (deep σ/tanh stacks, long RNNs). The RMS
                   is per element so wide and narrow layers compare fairly, and over non-zero
                   elements so an embedding's unused rows do not count; an all-zero gradient
                   vanishes outright
    exploding      ‖g‖ above ``explode_norm`` (1e3)
    large-update   a weight matrix's update ratio above 0.1
    no-update      the gradient is non-zero but the step left the parameter unchanged
                   (learning rate 0, parameter not in the optimizer)

Computing the norms is one pass over each gradient; the update ratio needs one copy of the
parameters before the step. ``DiagnosticsCallback`` does both every N steps.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ..backend import xp
from .activation_diagnosis import Problem

LARGE_UPDATE = 0.1


def _norm(a) -> float:
    """‖a‖₂ in one BLAS pass; redone in float64 if float32 squares overflowed."""
    a = a.reshape(-1)
    n = math.sqrt(float(xp.dot(a, a)))
    if not math.isfinite(n) and bool(xp.isfinite(a).all()):
        n = float(xp.linalg.norm(a.astype(xp.float64)))
    return n


@dataclass
class ParamHealth:
    name: str
    shape: tuple
    grad_norm: float | None
    weight_norm: float
    grad_rms: float | None = None
    update_ratio: float | None = None
    flags: list[str] = field(default_factory=list)


@dataclass
class GradientHealth:
    params: list[ParamHealth]
    problems: list[Problem] = field(default_factory=list)

    def flagged(self, flag: str) -> list[str]:
        """Names of the parameters carrying ``flag`` ('vanishing', 'exploding', …)."""
        return [p.name for p in self.params if flag in p.flags]

    @property
    def vanishing(self) -> list[str]:
        return self.flagged("vanishing")

    @property
    def exploding(self) -> list[str]:
        return self.flagged("exploding")

    def to_dict(self) -> dict:
        return {
            "params": {
                p.name: {
                    **{k: v for k, v in asdict(p).items() if k != "name"},
                    "shape": list(p.shape),
                }
                for p in self.params
            },
            "problems": [asdict(p) for p in self.problems],
        }

    def report(self) -> str:
        head = f"{'parameter':<32}{'shape':<18}{'‖grad‖':>11}{'grad RMS':>11}{'‖W‖':>11}"
        head += f"{'‖ΔW‖/‖W‖':>11}  flags"
        lines = ["Gradient health", head, "-" * (len(head) + 10)]
        for p in self.params:
            g = "-" if p.grad_norm is None else f"{p.grad_norm:.3g}"
            r = "-" if p.grad_rms is None else f"{p.grad_rms:.3g}"
            u = "-" if p.update_ratio is None else f"{p.update_ratio:.3g}"
            lines.append(
                f"{p.name[:31]:<32}{str(tuple(p.shape))[:17]:<18}{g:>11}{r:>11}{p.weight_norm:>11.3g}"
                f"{u:>11}  {', '.join(p.flags)}"
            )
        if not self.problems:
            lines.append("No problems: gradients reach every parameter at a sane size.")
        for pr in self.problems:
            lines.append(f"  ✗ {pr.layer}: {pr.message}\n      fix: {pr.fix}")
        return "\n".join(lines)

    __str__ = report


def snapshot(named_params) -> dict:
    """Copies of the parameters' arrays, to measure the optimizer's step against."""
    return {name: p.array.copy() for name, p in named_params}


def gradient_health(
    model_or_named_params,
    before: dict | None = None,
    vanish_ratio: float = 1e-2,
    explode_norm: float = 1e3,
) -> GradientHealth:
    """Diagnose the gradients now on the parameters (call after backward).

    ``model_or_named_params``: a Module or (name, parameter) pairs. ``before``: a
    ``snapshot`` taken before ``optimizer.step()``; with it (and this call after the step)
    every parameter also gets its update ratio ‖ΔW‖/‖W‖.
    """
    named = model_or_named_params
    if hasattr(named, "named_parameters"):
        named = named.named_parameters()
    rows = []
    for name, p in named:
        w = p.array
        g = None if p.grad is None else p.grad.array
        row = ParamHealth(name, tuple(w.shape), None if g is None else _norm(g), _norm(w))
        if g is not None:
            nz = int(xp.count_nonzero(g))
            row.grad_rms = row.grad_norm / math.sqrt(nz) if nz else 0.0
        if g is None:
            row.flags.append("no-gradient")
        elif not math.isfinite(row.grad_norm):
            row.flags.append("nonfinite")
        if before is not None and name in before:
            w0 = before[name]
            dw, norm0 = _norm(w - w0), _norm(w0)
            # against the weight before the step; undefined for a zero-initialised bias
            row.update_ratio = dw / norm0 if norm0 > 0 else None
            # only weight matrices: a small bias legitimately moves by a large fraction
            if (
                row.update_ratio is not None
                and len(row.shape) >= 2
                and row.update_ratio > LARGE_UPDATE
            ):
                row.flags.append("large-update")
            if dw == 0.0 and row.grad_norm:
                row.flags.append("no-update")
        rows.append(row)
    return _diagnose(rows, vanish_ratio, explode_norm)


def _diagnose(rows, vanish_ratio, explode_norm) -> GradientHealth:
    def finite(r):
        return r.grad_norm is not None and math.isfinite(r.grad_norm)

    top = max((r.grad_rms for r in rows if finite(r) and len(r.shape) >= 2), default=0.0)
    for r in rows:
        if not finite(r):
            continue
        if len(r.shape) >= 2 and (r.grad_rms == 0.0 or r.grad_rms < vanish_ratio * top):
            r.flags.append("vanishing")
        if r.grad_norm > explode_norm:
            r.flags.append("exploding")
    problems = []

    def names(flag):
        return [r.name for r in rows if flag in r.flags]

    if v := names("vanishing"):
        smallest = min(r.grad_rms for r in rows if "vanishing" in r.flags)
        detail = (
            f"less than {vanish_ratio:g} of the largest gradient per element (RMS"
            f" {smallest:.2e} against {top:.2e})"
            if top > 0
            else "exactly zero gradients"
        )
        problems.append(
            Problem(
                ", ".join(v),
                "vanishing",
                f"vanishing gradients: {len(v)} weight(s) get {detail}",
                "ReLU-family activations instead of saturating σ/tanh, He/Xavier initialisation,"
                " normalisation layers or residual connections; for recurrent nets an LSTM/GRU",
            )
        )
    if e := names("exploding"):
        problems.append(
            Problem(
                ", ".join(e),
                "exploding",
                f"exploding gradients: {len(e)} parameter(s) have ‖g‖ > {explode_norm:g}",
                "clip gradients (nn.utils.clip_grad_norm_(model.parameters(), 1.0)) before the"
                " optimizer step, lower the learning rate; orthogonal init for recurrent weights",
            )
        )
    if n := names("nonfinite"):
        problems.append(
            Problem(
                ", ".join(n),
                "nonfinite",
                "the gradient holds NaN or Inf",
                "run the step inside ember.detect_anomaly(model) to find the op that made it",
            )
        )
    if n := names("no-gradient"):
        problems.append(
            Problem(
                ", ".join(n),
                "no-gradient",
                "no gradient reached these parameters: they are not on the loss's graph",
                "check they are used in forward (and not under no_grad or after .detach())",
            )
        )
    if n := names("no-update"):
        problems.append(
            Problem(
                ", ".join(n),
                "no-update",
                "the optimizer step left these parameters unchanged although their gradient is"
                " non-zero",
                "check the learning rate is not 0 and that model.parameters() went to the"
                " optimizer",
            )
        )
    if n := names("large-update"):
        problems.append(
            Problem(
                ", ".join(n),
                "large-update",
                f"the step changes these parameters by more than {LARGE_UPDATE:g} of their norm",
                "lower the learning rate (a healthy update ratio is about 1e-3)",
            )
        )
    return GradientHealth(rows, problems)
