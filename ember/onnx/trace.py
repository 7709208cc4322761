"""Record one forward pass as an ONNX graph.

The tracer is an observer in ``function.observers``: ``apply`` calls its
``on_forward_start(cls, inputs, constants)`` before each op and ``on_forward(fn, arrays, out)``
after, and each op is converted to ONNX nodes as it finishes. The forward runs with grad mode
on and the inputs requiring grad, because under ``no_grad`` some Tensor methods (indexing)
take shortcuts around ``apply`` that no observer would see; nothing is backpropagated.

A second run on other inputs checks that what the graph takes as constants are constants
(``consistency``). Ops run by other threads meanwhile are not the model's: both observers
watch only the exporting thread.
"""

from __future__ import annotations

import sys
import threading

from ..function import enable_grad, observers
from ..tensor import Tensor
from .consistency import ConstantLog, Prober, compare, perturbed
from .ops_map import CONVERTERS, Op
from .ops_nn import NN_CONVERTERS
from .ops_shape import SHAPE_CONVERTERS
from .rnn import RNN_CONVERTERS

ALL_CONVERTERS = {**CONVERTERS, **SHAPE_CONVERTERS, **NN_CONVERTERS, **RNN_CONVERTERS}


def supported_ops() -> list[str]:
    """The names of the ember ops (Function classes) the exporter can convert."""
    return sorted(ALL_CONVERTERS)


class Tracer:
    """Converts every op the model runs into nodes of ``graph``."""

    def __init__(self, graph, model, log: ConstantLog):
        self.g, self.log = graph, log
        self.thread = threading.get_ident()
        self.modules = {id(m): name for name, m in model.named_modules()}
        self.root = type(model).__name__
        self.pending: list = []  # (name, constants, module) of the ops that have started

    def _module(self) -> str:
        """The innermost module of the model whose forward is on the Python stack."""
        f = sys._getframe(2)
        while f is not None:
            obj = f.f_locals.get("self")
            if obj is not None and id(obj) in self.modules:
                name = self.modules[id(obj)]
                return f"'{name}' ({type(obj).__name__})" if name else f"the root {self.root}"
            f = f.f_back
        return "an unknown module"

    def on_forward_start(self, cls, inputs, constants) -> None:
        if threading.get_ident() != self.thread:
            return
        name = cls.__name__
        if name not in ALL_CONVERTERS:
            raise NotImplementedError(
                f"ember.onnx.export: the op {name} (in {self._module()}) has no ONNX mapping; "
                f"supported ops: {', '.join(supported_ops())}"
            )
        self.pending.append((name, dict(constants), self._module))

    def on_forward(self, fn, arrays, out) -> None:
        if threading.get_ident() != self.thread:
            return
        name, consts, where = self.pending.pop()
        outs = list(out) if fn.multi_output else [out]
        self.log.record(name, arrays, consts, outs, where)
        op = Op(name, list(arrays), consts, outs)
        try:
            names = ALL_CONVERTERS[name](self.g, op)
        except NotImplementedError as e:
            raise NotImplementedError(f"{e} (op {name} in {where()})") from None
        for a, n in zip(outs, names):
            self.g.bind(a, n)


def flatten(obj) -> list:
    """The Tensors in a (nested) tuple / list / dict, in order; other values are skipped."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, list | tuple):
        return [t for o in obj for t in flatten(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in flatten(o)]
    return []


def _run(model, observer, args, kwargs):
    params = list(model.parameters())
    floats = [t for t in flatten((args, kwargs)) if t.array.dtype.kind == "f"]
    saved = [(t, t.requires_grad) for t in [*params, *floats]]
    observers.append(observer)
    try:
        for t, _ in saved:  # every float tensor needs grad, so every op goes through apply
            t.requires_grad_(True)
        with enable_grad():
            return model(*args, **kwargs)
    finally:
        observers.remove(observer)
        for t, r in saved:
            t.requires_grad_(r)


def run_traced(model, graph, args: tuple, kwargs: dict, resize: dict[int, list[int]]):
    """Run ``model(*args, **kwargs)`` once with the tracer registered, then once on perturbed
    inputs (``resize``: flat input index -> dynamic axes to give another size) to check that
    every baked-in constant is one; returns the first run's output."""
    inputs = [t.array for t in flatten((args, kwargs))]
    first = ConstantLog({id(a) for a in inputs}, graph.param_names)
    out = _run(model, Tracer(graph, model, first), args, kwargs)
    args2, kwargs2 = perturbed((args, kwargs), resize)
    second = ConstantLog({id(t.array) for t in flatten((args2, kwargs2))}, graph.param_names)
    try:
        _run(model, Prober(second), args2, kwargs2)
    except Exception as e:  # the model refuses other sizes: the graph would not take them either
        raise ValueError(
            "ember.onnx.export: the model failed on inputs resized along the dynamic axes "
            f"({type(e).__name__}: {e}); it cannot be exported with those axes dynamic"
        ) from e
    compare(first, second)
    return out
