"""Converters of the piecewise activation ops (ops/activations_piecewise.py) to ONNX nodes:
each op's definition, NaN handling included, in the form torch.onnx writes it.

    Hardtanh(x, lo, hi)        Clip(x, lo, hi)                         (ReLU6: lo = 0, hi = 6)
    Hardsigmoid(x)             Clip(x + 3, 0, 6) / 6
    Hardswish(x)               x·Clip(x + 3, 0, 6) / 6
    Softplus(x, β, threshold)  Where(βx > threshold, x, Softplus(Min(βx, threshold)) / β)
    Mish(x)                    x·Tanh(Softplus(x))                     (β = 1, threshold 20)
    Threshold(x, t, v)         Where(Not(x ≤ t), x, v)
    Hardshrink(x, λ)           Where(Not(−λ ≤ x ≤ λ), x, 0)
    Softshrink(x, λ)           Where(Not(−λ ≤ x ≤ λ), x − Where(x > λ, λ, −λ), 0)
    PReLU(x, a)                PRelu(x, a as (C, 1, …, 1))             (one slope per channel)
"""

from __future__ import annotations

from .ops_map import scalar


def _x(g, op):
    """The op's input name and its (the output's) dtype."""
    return g.value(op.inputs[0]), op.out_dtype


def _hardtanh(g, op):
    x, dt = _x(g, op)
    lo, hi = op.consts.get("min_val", -1.0), op.consts.get("max_val", 1.0)
    return [g.one("Clip", [x, scalar(g, lo, dt), scalar(g, hi, dt)])]


def _hard_gate(g, x, dt):
    """Clip(x + 3, 0, 6): 6·Hardsigmoid(x) (the division comes last, as in torch)."""
    x3 = g.one("Add", [x, scalar(g, 3.0, dt)])
    return g.one("Clip", [x3, scalar(g, 0.0, dt), scalar(g, 6.0, dt)])


def _hardsigmoid(g, op):
    x, dt = _x(g, op)
    return [g.one("Div", [_hard_gate(g, x, dt), scalar(g, 6.0, dt)])]


def _hardswish(g, op):
    x, dt = _x(g, op)
    return [g.one("Div", [g.one("Mul", [x, _hard_gate(g, x, dt)]), scalar(g, 6.0, dt)])]


def softplus_nodes(g, x: str, beta: float, threshold: float, dt) -> str:
    """x where βx > threshold, else Softplus(min(βx, threshold)) / β (clamped: e^{βx} never
    overflows in the branch not taken)."""
    bx = x if beta == 1 else g.one("Mul", [x, scalar(g, beta, dt)])
    th = scalar(g, threshold, dt)
    sp = g.one("Softplus", [g.one("Min", [bx, th])])
    if beta != 1:
        sp = g.one("Div", [sp, scalar(g, beta, dt)])
    return g.one("Where", [g.one("Greater", [bx, th]), x, sp])


def _softplus(g, op):
    x, dt = _x(g, op)
    beta, threshold = float(op.consts.get("beta", 1.0)), float(op.consts.get("threshold", 20.0))
    return [softplus_nodes(g, x, beta, threshold, dt)]


def _mish(g, op):
    x, dt = _x(g, op)
    return [g.one("Mul", [x, g.one("Tanh", [softplus_nodes(g, x, 1.0, 20.0, dt)])])]


def _threshold(g, op):
    x, dt = _x(g, op)
    low = g.one("LessOrEqual", [x, scalar(g, op.consts["threshold"], dt)])
    return [g.one("Where", [g.one("Not", [low]), x, scalar(g, op.consts["value"], dt)])]


def _outside(g, x, lambd, dt) -> str:
    """not (−λ ≤ x ≤ λ): true for NaN, as the ops' and torch's test."""
    lo = g.one("GreaterOrEqual", [x, scalar(g, -lambd, dt)])
    hi = g.one("LessOrEqual", [x, scalar(g, lambd, dt)])
    return g.one("Not", [g.one("And", [lo, hi])])


def _hardshrink(g, op):
    x, dt = _x(g, op)
    lambd = op.consts.get("lambd", 0.5)
    return [g.one("Where", [_outside(g, x, lambd, dt), x, scalar(g, 0.0, dt)])]


def _softshrink(g, op):
    x, dt = _x(g, op)
    lambd = op.consts.get("lambd", 0.5)
    above = g.one("Greater", [x, scalar(g, lambd, dt)])
    shift = g.one("Where", [above, scalar(g, lambd, dt), scalar(g, -lambd, dt)])
    shrunk = g.one("Sub", [x, shift])
    return [g.one("Where", [_outside(g, x, lambd, dt), shrunk, scalar(g, 0.0, dt)])]


def _prelu(g, op):
    x, a = op.inputs[:2]
    slope = g.value(a)
    if x.ndim >= 2 and a.size != 1:  # one slope per channel: (C, 1, …, 1) against dim 1
        slope = g.one("Reshape", [slope, g.ints([a.size] + [1] * (x.ndim - 2))])
    return [g.one("PRelu", [g.value(x), slope])]


ACTIVATION_CONVERTERS = {
    "Hardtanh": _hardtanh,
    "Hardsigmoid": _hardsigmoid,
    "Hardswish": _hardswish,
    "Softplus": _softplus,
    "Mish": _mish,
    "Threshold": _threshold,
    "Hardshrink": _hardshrink,
    "Softshrink": _softshrink,
    "PReLU": _prelu,
}
