"""Record one forward pass as an ONNX graph.

The tracer is an observer in ``function.observers``: ``apply`` calls its
``on_forward_start(cls, inputs, constants)`` before each op and ``on_forward(fn, arrays, out)``
after, and each op is converted to ONNX nodes as it finishes. The forward runs with grad mode
on and the inputs requiring grad, because under ``no_grad`` some Tensor methods (indexing)
take shortcuts around ``apply`` that no observer would see; nothing is backpropagated.

Runs on other inputs first (``Prober``: other values, and two other sizes along the dynamic
axes) tell the tracer which constants follow a size (``sized``) and check that what the graph
takes as constants are constants (``consistency``). Every computation the exporter meets
runs as ember ops (the piecewise activations, argmax/argmin/argsort, comparisons and logic
too), so nothing is exported from outside the trace. Ops run by other threads meanwhile are
not the model's: every observer watches only the exporting thread.
"""

from __future__ import annotations

import sys
import threading
import warnings

import numpy as np

from ..backend import to_numpy
from ..function import enable_grad, no_grad, observers
from ..tensor import Tensor
from . import TracerWarning
from .consistency import SLICED, ConstantLog, Prober, compare, perturbed
from .ops_activations import ACTIVATION_CONVERTERS
from .ops_logic import LOGIC_CONVERTERS
from .ops_map import CONVERTERS, Op
from .ops_mod import MOD_CONVERTERS
from .ops_nn import NN_CONVERTERS
from .ops_rounding import ROUNDING_CONVERTERS
from .ops_setitem import SETITEM_CONVERTERS
from .ops_shape import SHAPE_CONVERTERS, slice_bounds
from .ops_sort import SORT_CONVERTERS
from .ops_unique import UNIQUE_CONVERTERS
from .rnn import RNN_CONVERTERS
from .sized import Dim, SizedConstants

ALL_CONVERTERS = {
    **CONVERTERS, **ACTIVATION_CONVERTERS, **SHAPE_CONVERTERS, **NN_CONVERTERS,
    **RNN_CONVERTERS, **SORT_CONVERTERS, **LOGIC_CONVERTERS, **SETITEM_CONVERTERS,
    **ROUNDING_CONVERTERS, **MOD_CONVERTERS, **UNIQUE_CONVERTERS,
}  # fmt: skip


def supported_ops() -> list[str]:
    """The names of the ember ops (Function classes) the exporter can convert."""
    return sorted(ALL_CONVERTERS)


class Tracer:
    """Converts every op the model runs into nodes of ``graph``."""

    def __init__(self, graph, model, log: ConstantLog, sized: SizedConstants):
        self.g, self.log, self.sized = graph, log, sized
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
        k = len(self.log.log)
        self.sized.bind(k, name, self.log.constants(arrays, consts), where)
        if name in SLICED:  # bounds that follow a dynamic size, computed in the graph
            bounds = slice_bounds(consts["index"])
            consts["sized_bounds"] = self.sized.bounds(k, bounds, where, name)
        self.log.record(name, arrays, consts, outs, where)
        op = Op(name, list(arrays), consts, outs)
        try:
            names = ALL_CONVERTERS[name](self.g, op)
        except NotImplementedError as e:
            raise NotImplementedError(f"{e} (op {name} in {where()})") from None
        for a, n in zip(outs, names):
            self.g.bind(a, n)

    def on_python_value(self, array, what: str) -> None:
        if threading.get_ident() == self.thread:
            self.log.taken.append((what, np.array(to_numpy(array)), self._module()))


def _check_python_values(first, probes) -> None:
    """Warn for each Python value the traced run took from a tensor that a probe run, on
    other inputs, found different: it depends on the inputs, and the graph cannot follow it
    (torch's tracer warns for every such conversion; this warns only where it matters)."""
    for log in probes:
        if len(log.taken) != len(first.taken):
            warnings.warn(
                f"ember.onnx.export: the forward took {len(first.taken)} Python value(s) from"
                f" tensors on the traced inputs and {len(log.taken)} on other inputs: its Python"
                " control flow follows the input values, which the exported graph cannot do; it"
                " holds the path the traced inputs took",
                TracerWarning,
                stacklevel=4,
            )
            return
        for (what, value, where), (_, other, _) in zip(first.taken, log.taken):
            same = value.shape == other.shape and np.array_equal(
                value, other, equal_nan=value.dtype.kind in "fc"
            )
            if not same:
                warnings.warn(
                    f"ember.onnx.export: {what} in {where} took a Python value from a tensor"
                    f" computed from the inputs ({value.tolist()} on the traced inputs,"
                    f" {other.tolist()} on others): the exported graph holds"
                    f" {value.tolist()} as a constant and will not follow other inputs. Keep"
                    " the computation in tensors (ember ops) instead",
                    TracerWarning,
                    stacklevel=4,
                )
                return


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


def _probe(model, graph, args, kwargs, resize, sizes=None):
    """One run on perturbed inputs (other sizes along the dynamic axes), fingerprinting the
    constants; returns its log, its input arrays and its output's arrays."""
    args2, kwargs2 = perturbed((args, kwargs), resize, sizes)
    probed = [t.array for t in flatten((args2, kwargs2))]
    log = ConstantLog({id(a) for a in probed}, graph.param_names, keep_arrays=True)
    try:
        out = _run(model, Prober(log), args2, kwargs2)
    except Exception as e:  # the model refuses other sizes: the graph would not take them either
        raise ValueError(
            "ember.onnx.export: the model failed on inputs resized along the dynamic axes "
            f"({type(e).__name__}: {e}); it cannot be exported with those axes dynamic"
        ) from e
    return log, probed, [t.array for t in flatten(out)]


def _third_size(n: int) -> int:
    return n - 2 if n > 3 else n + 2  # neither n nor the first probe's size


def run_traced(model, graph, args: tuple, kwargs: dict, resize: dict[int, list[int]], labels=None):
    """Run ``model(*args, **kwargs)`` on perturbed inputs (``resize``: flat input index ->
    dynamic axes to give another size; ``labels``: index -> {axis: dim label}) — twice, at two
    other sizes, when there are dynamic axes — then once with the tracer registered, which
    computes in the graph the constants whose size changed (``sized``) and refuses the other
    constants that changed; returns the traced run's output."""
    inputs = [t.array for t in flatten((args, kwargs))]
    second, probed, outs = _probe(model, graph, args, kwargs, resize)
    probes, sizes, probe_outs = [second], [probed], [outs]
    if any(resize.values()):
        third = {
            (k, ax): _third_size(inputs[k].shape[ax]) for k, axes in resize.items() for ax in axes
        }
        log, arrays, outs = _probe(model, graph, args, kwargs, resize, third)
        probes.append(log)
        sizes.append(arrays)
        probe_outs.append(outs)
    labels = labels or {}
    dims = [
        Dim(k, ax, inputs[k].shape[ax], [p[k].shape[ax] for p in sizes],
            labels.get(k, {}).get(ax, f"{k}:{ax}"), graph.names[id(inputs[k])])
        for k, axes in resize.items()
        for ax in axes
    ]  # fmt: skip
    first = ConstantLog({id(a) for a in inputs}, graph.param_names)
    tables = {id(t.array) for t in [*model.parameters(), *model.buffers()]}
    tracer = Tracer(graph, model, first, SizedConstants(graph, probes, dims, tables))
    out = _run(model, tracer, args, kwargs)
    for log in probes:
        compare(first, log, tracer.sized.handled)
    _check_outputs(graph, out, probe_outs)
    _check_python_values(first, probes)
    if tracer.sized.caps:
        _warn_caps(model, args, kwargs, tracer.sized.caps)
    return out


def _check_outputs(graph, out, probe_outs) -> None:
    """An output that no traced op produced (nor an input or a parameter) would be written as
    a constant: refused when the probe runs gave another one (it was computed from the inputs
    outside ember's ops), which no op reading it would otherwise have caught."""
    for k, t in enumerate(flatten(out)):
        a = t.array
        if id(a) in graph.names or id(a) in graph.param_names:
            continue
        for other in probe_outs:
            b = other[k] if k < len(other) else None
            same = b is not None and a.shape == b.shape and a.dtype == b.dtype
            if not (
                same and np.array_equal(to_numpy(a), to_numpy(b), equal_nan=a.dtype.kind in "fc")
            ):
                raise NotImplementedError(
                    f"ember.onnx.export: output {k} (shape {tuple(a.shape)}) was computed from the "
                    "inputs outside ember's ops (a Tensor method that works on the array directly, "
                    "or a .numpy() round trip), so the graph would hold the traced input's value "
                    "as a constant"
                )


def _warn_caps(model, args, kwargs, caps) -> None:
    """Warn that the graph takes at most the traced size along an axis, unless the model
    itself refuses a longer input (GPT beyond block_size)."""
    sizes = {(d.k, d.axis): n + 1 for d, n in caps.values()}
    resize: dict[int, list[int]] = {}
    for k, ax in sizes:
        resize.setdefault(k, []).append(ax)
    longer = perturbed((args, kwargs), resize, sizes)
    try:
        with no_grad():
            model(*longer[0], **longer[1])
    except Exception:  # noqa: BLE001 - the model caps the axis itself
        return
    for label, (_, n) in caps.items():
        warnings.warn(
            f"ember.onnx.export: the graph holds a table the forward built for {n} along the "
            f"dynamic axis {label!r} (the traced size; position tables, rotary angles); it takes "
            f"inputs up to that size only. Export with the longest input it should take.",
            stacklevel=4,
        )
