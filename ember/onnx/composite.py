"""Functional activations that are exported whole, from their arguments, not op by op.

ember composes several activations (``functional/activation_more.py``) as a ``where`` over a
comparison that runs outside ember's ops (``x > 0``, ``x.array <= min_val``): the trace would
see the mask as a constant, fitting the traced inputs only. While the model runs, ``Watch``
(a ``sys.setprofile`` hook on the exporting thread: profile hooks are per thread) notices the
call of such a function; the ops inside it are skipped, and when it returns, its result is
written as the ONNX nodes of the function's definition, from the arguments it was called with:

    hardtanh(x, lo, hi)        = Clip(x, lo, hi)                  (ReLU6: lo = 0, hi = 6)
    hardsigmoid(x)             = Clip(x + 3, 0, 6) / 6
    hardswish(x)               = x·Clip(x + 3, 0, 6) / 6
    prelu(x, a)                = PRelu(x, a as (C, 1, …, 1))
    softplus(x, β, threshold)  = x if βx > threshold else Softplus(min(βx, threshold)) / β
    mish(x)                    = x·tanh(softplus(x))
    threshold(x, t, v)         = x if not x ≤ t else v
    hardshrink(x, λ)           = x if not −λ ≤ x ≤ λ else 0
    softshrink(x, λ)           = x ∓ λ if not −λ ≤ x ≤ λ else 0
    x.argmax / argmin / argsort                                   (``ops_sort``)

Each is torch's definition (and the ONNX form torch.onnx writes), NaN handling included.
"""

from __future__ import annotations

import sys

import numpy as np

from ..functional import activation_more as A
from ..tensor import Tensor
from . import ops_sort
from .ops_map import scalar


def _dt(args) -> np.dtype:
    return np.dtype(args["input"].dtype)


def _hardtanh(g, x, args):
    dt = _dt(args)
    return g.one("Clip", [x, scalar(g, args["min_val"], dt), scalar(g, args["max_val"], dt)])


def _hard_gate(g, x, dt):
    """Clip(x + 3, 0, 6): 6·Hardsigmoid(x), as ember computes it (the division comes last)."""
    x3 = g.one("Add", [x, scalar(g, 3.0, dt)])
    return g.one("Clip", [x3, scalar(g, 0.0, dt), scalar(g, 6.0, dt)])


def _hardsigmoid(g, x, args):
    dt = _dt(args)
    return g.one("Div", [_hard_gate(g, x, dt), scalar(g, 6.0, dt)])


def _hardswish(g, x, args):
    dt = _dt(args)
    return g.one("Div", [g.one("Mul", [x, _hard_gate(g, x, dt)]), scalar(g, 6.0, dt)])


def _prelu(g, x, args):
    x_arr, a = args["input"], args["weight"]
    slope = g.value(a)
    if x_arr.ndim >= 2 and a.size != 1:  # one slope per channel: (C, 1, …, 1) against dim 1
        slope = g.one("Reshape", [slope, g.ints([a.size] + [1] * (x_arr.ndim - 2))])
    return g.one("PRelu", [x, slope])


def softplus_nodes(g, x: str, beta: float, threshold: float, dt) -> str:
    bx = x if beta == 1 else g.one("Mul", [x, scalar(g, beta, dt)])
    th = scalar(g, threshold, dt)
    sp = g.one("Softplus", [g.one("Min", [bx, th])])  # clamped: e^{βx} never overflows
    if beta != 1:
        sp = g.one("Div", [sp, scalar(g, beta, dt)])
    return g.one("Where", [g.one("Greater", [bx, th]), x, sp])


def _softplus(g, x, args):
    return softplus_nodes(g, x, float(args["beta"]), float(args["threshold"]), _dt(args))


def _mish(g, x, args):
    return g.one("Mul", [x, g.one("Tanh", [softplus_nodes(g, x, 1.0, 20.0, _dt(args))])])


def _threshold(g, x, args):
    dt = _dt(args)
    keep = g.one("Not", [g.one("LessOrEqual", [x, scalar(g, args["threshold"], dt)])])
    return g.one("Where", [keep, x, scalar(g, args["value"], dt)])


def _outside(g, x, lambd, dt) -> str:
    """not (−λ ≤ x ≤ λ): true for NaN, as ember's and torch's test."""
    lo = g.one("GreaterOrEqual", [x, scalar(g, -lambd, dt)])
    hi = g.one("LessOrEqual", [x, scalar(g, lambd, dt)])
    return g.one("Not", [g.one("And", [lo, hi])])


def _hardshrink(g, x, args):
    dt = _dt(args)
    return g.one("Where", [_outside(g, x, args["lambd"], dt), x, scalar(g, 0.0, dt)])


def _softshrink(g, x, args):
    dt, lambd = _dt(args), args["lambd"]
    shift = g.one(
        "Where",
        [g.one("Greater", [x, scalar(g, lambd, dt)]), scalar(g, lambd, dt), scalar(g, -lambd, dt)],
    )
    shrunk = g.one("Sub", [x, shift])
    return g.one("Where", [_outside(g, x, lambd, dt), shrunk, scalar(g, 0.0, dt)])


class Composite:
    """One functional activation: its name in messages, its Tensor arguments, its nodes."""

    def __init__(self, name, fn, convert, tensors=("input",)):
        self.name, self.code, self.convert, self.tensors = name, fn.__code__, convert, tensors


COMPOSITES = {
    c.code: c
    for c in (
        Composite("hardtanh", A.hardtanh, _hardtanh),
        Composite("hardsigmoid", A.hardsigmoid, _hardsigmoid),
        Composite("hardswish", A.hardswish, _hardswish),
        Composite("prelu", A.prelu, _prelu, ("input", "weight")),
        Composite("softplus", A.softplus, _softplus),
        Composite("mish", A.mish, _mish),
        Composite("threshold", A.threshold, _threshold),
        Composite("hardshrink", A.hardshrink, _hardshrink),
        Composite("softshrink", A.softshrink, _softshrink),
        Composite("Tensor.argmax", Tensor.argmax, ops_sort.argmax, ("self",)),
        Composite("Tensor.argmin", Tensor.argmin, ops_sort.argmin, ("self",)),
        Composite("Tensor.argsort", Tensor.argsort, ops_sort.argsort, ("self",)),
    )
}


def composite_names() -> list[str]:
    return sorted(c.name for c in COMPOSITES.values())


class Watch:
    """Tells which call of a composite the forward is inside, and reports its return.

    ``on_return(composite, args, result)``: ``args`` maps the function's parameters to their
    values at the call, each Tensor replaced by its array then (an in-place call replaces the
    input's array before it returns). An error raised there is kept in ``error`` and raised
    by ``check`` at the next op: one raised inside a profile hook would switch the hook off.
    """

    def __init__(self, on_return):
        self.on_return = on_return
        self.active = None  # (frame, composite, args) of the outermost composite call
        self.error: BaseException | None = None
        self.prev = None

    def __enter__(self):
        self.prev = sys.getprofile()
        sys.setprofile(self._chained if callable(self.prev) else self._profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(self.prev)
        self.active = None

    @property
    def inside(self) -> bool:
        return self.active is not None

    def check(self) -> None:
        if self.error is not None:
            err, self.error = self.error, None
            raise err

    def _chained(self, frame, event, arg):
        self.prev(frame, event, arg)  # an outer profiler keeps running
        self._profile(frame, event, arg)

    def _profile(self, frame, event, arg):
        if event == "call":  # the hot path: every Python call of the forward comes here
            if self.active is None and frame.f_code in COMPOSITES:
                if frame.f_locals.get("inplace"):  # the out-of-place call inside is the one
                    return
                locs = frame.f_locals.items()
                args = {k: v.array if isinstance(v, Tensor) else v for k, v in locs}
                self.active = (frame, COMPOSITES[frame.f_code], args)
        elif event == "return" and self.active is not None and frame is self.active[0]:
            _, comp, args = self.active
            self.active = None
            if isinstance(arg, Tensor) and self.error is None:  # None: an exception unwinds
                try:
                    self.on_return(comp, args, arg)
                except BaseException as e:  # noqa: BLE001 - re-raised by check()
                    self.error = e
