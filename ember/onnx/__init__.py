"""ember.onnx — export a model to ONNX, with torch.onnx.export's signature.

    ember.onnx.export(model, (x,), "model.onnx", input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})

The model's forward runs on ``args`` while a tracer records every ember op and converts it to
ONNX nodes (``trace``, ``ops_map``, ``ops_activations``, ``ops_nn``, ``ops_shape``,
``ops_sort``, ``ops_logic``, ``ops_setitem``, ``ops_rounding``, ``ops_mod``, ``ops_unique``,
``rnn``, ``rnn_scan``);
parameters and buffers become initializers under their ``state_dict`` names. Comparisons and
logic written in the model's own code (``x > 0``, ``==``, ``~ & | ^``, ``logical_*``,
``isnan``/``isinf``) run as ops while the tracer watches, so a mask (for ``where``,
``masked_fill``, ``x * (x > 0)``, ``x[mask]``, ``masked_select``) is computed in the graph; so
are rounding (``round``, ``floor``, ``ceil``, ``trunc``, ``frac``, ``sign``: Round, Floor,
Ceil, Sign), ``all`` / ``any`` / ``count_nonzero`` (ReduceSum), ``isclose``, ``nonzero`` /
``argwhere`` (NonZero), ``one_hot`` and ``bucketize`` / ``searchsorted`` (``ops_rounding``),
``fmod`` / ``remainder`` / ``floor_divide`` / ``div(rounding_mode=…)`` (Mod, Div and NumPy's
divmod fix-ups, ``ops_mod``), ``heaviside`` and ``unique`` (Where, Unique: ``ops_unique``);
indexing a tensor that needs no gradient (an int64 or bool input, a detached value) is a
GetItem too while the tracer watches. ``signbit`` is refused (ONNX cannot read a NaN's sign
bit). ``cumsum`` is CumSum, and in-place writes ``x[index] = v`` / ``index_put`` are a
ScatterElements at the places the index addresses (slices, ints, Ellipsis, a mask, an integer
array without repeats). Runs on resized inputs first tell which constants follow a dynamic axis
(``sized``) and which would be wrongly baked in (``consistency``), an output that no op
produced included; a Python value the forward takes from a tensor (``item()``, ``float(x)``,
``if x.sum() > 0``) that changes with the inputs is baked into the graph, and gets a
``TracerWarning`` naming it and its module. ONNX has no SVD operator: ``svd`` is refused.
The ``onnx`` package is imported only here, on the first export, so ``import ember`` never
needs it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import IO, Any

DEFAULT_OPSET = 17  # LayerNormalization's first opset; every runtime of the last years has it
MIN_OPSET = 13  # Squeeze/Unsqueeze/ReduceSum take their axes as inputs from here on

# torch.onnx.export's other keywords: accepted so calls written for torch run, and ignored
_TORCH_ONLY = {
    "operator_export_type", "custom_opsets", "export_modules_as_functions", "autograd_inlining",
    "dynamo", "external_data", "report", "optimize", "verify", "profile", "fallback",
    "dump_exported_program", "artifacts_dir", "dynamic_shapes",
}  # fmt: skip

__all__ = ["export", "supported_ops", "DEFAULT_OPSET", "TracerWarning"]


class TracerWarning(UserWarning):
    """The traced forward took a tensor's value out of the graph as a Python value (item(),
    float(), bool(), tolist()) that changed with the inputs: the exported graph holds the
    traced input's value as a constant there (torch's tracer warns with a class of this
    name)."""


def _import_onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError(
            "ember.onnx.export needs the onnx package: pip install onnx "
            "(or pip install 'ember[onnx]')"
        ) from e
    return onnx


def supported_ops() -> list[str]:
    """The ember ops (Function class names) that ``export`` can convert (the comparisons and
    logic of ops/compare.py and the rounding ops of ops/rounding.py among them)."""
    from .trace import supported_ops as ops

    return ops()


def _split_args(args) -> tuple[tuple, dict]:
    """torch's convention: a Tensor, or a tuple whose last element may be a dict of kwargs."""
    if not isinstance(args, tuple):
        return (args,), {}
    if args and isinstance(args[-1], dict):
        return args[:-1], dict(args[-1])
    return args, {}


def _dynamic(dynamic_axes, names: list[str]) -> dict[str, dict[int, str]]:
    """{name: {axis: dim_param}}: torch allows a list of axes, named ``<name>_dynamic_axes_<k>``."""
    out: dict[str, dict[int, str]] = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in names:
            raise ValueError(
                f"dynamic_axes names {name!r}, which is neither an input nor an output name; "
                f"expected one of {names}"
            )
        if isinstance(axes, Mapping):
            out[name] = {int(a): str(d) for a, d in axes.items()}
        else:
            out[name] = {int(a): f"{name}_dynamic_axes_{k + 1}" for k, a in enumerate(axes)}
    return out


def _names(given, n: int, prefix: str, what: str) -> list[str]:
    given = list(given or [])
    if len(given) > n:
        raise ValueError(f"{len(given)} {what} given for a model with {n} {what.split('_')[0]}s")
    return given + [f"{prefix}_{k}" for k in range(len(given), n)]


def _read(nodes):
    """The names the nodes read, those of their subgraphs (a Scan's body) included."""
    for node in nodes:
        yield from node.input
        for attr in node.attribute:
            for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
                yield from _read(sub.node)


def _write(data: bytes, f) -> None:
    if isinstance(f, str | os.PathLike):
        path = os.fspath(f)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".onnx-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)  # readers see the old file or the new one, never half of one
        except BaseException:
            os.unlink(tmp)
            raise
    elif hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"f must be a path or a binary file object, got {type(f).__name__}")


def export(
    model,
    args: Any,
    f: str | os.PathLike | IO[bytes],
    export_params: bool = True,
    verbose: bool = False,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    opset_version: int | None = None,
    dynamic_axes: Mapping[str, Mapping[int, str] | Sequence[int]] | None = None,
    do_constant_folding: bool = True,
    keep_initializers_as_inputs: bool | None = None,
    *,
    kwargs: dict | None = None,
    training: Any = None,
    **unused: Any,
) -> None:
    """Export ``model`` (run on ``args``) to the ONNX file or binary file object ``f``.

    Follows torch.onnx.export: the model runs in eval mode (its train/eval state is restored
    after); ``dynamic_axes`` {name: {axis: "label"}} makes those dimensions symbolic in the
    graph's inputs and outputs; ``export_params=False`` makes the parameters graph inputs.
    Constants are always folded (``do_constant_folding`` is accepted for compatibility).
    An op without an ONNX mapping raises NotImplementedError naming it and its module. The
    model first runs on other values (and at two other sizes along the dynamic axes): arrays
    the forward builds from a dynamic size (position ids, causal masks, position tables, slice
    bounds) are computed in the graph (``sized``); other constants that depend on the inputs
    are refused (``consistency``). A table built for the traced length only (rotary angles)
    makes the graph take at most that length: the export warns, unless the model itself
    refuses longer inputs.
    """
    unknown = set(unused) - _TORCH_ONLY
    if unknown:
        raise TypeError(f"export() got unexpected keyword arguments {sorted(unknown)}")
    onnx = _import_onnx()
    import numpy as np

    from ..backend import to_numpy
    from .graph import Graph
    from .trace import flatten, run_traced

    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    top = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= top:
        raise ValueError(f"opset_version must be in [{MIN_OPSET}, {top}], got {opset}")
    if training not in (None, False) and "EVAL" not in str(training).upper():
        raise NotImplementedError(f"ember.onnx.export exports eval mode only, got {training!r}")
    args, kw = _split_args(args)
    kw.update(kwargs or {})

    param_names: dict[int, str] = {}
    for name, t in model.state_dict().items():
        param_names.setdefault(id(getattr(t, "array", t)), name)
    g = Graph(onnx.helper, onnx.numpy_helper, opset, param_names)
    g.dynamic = bool(dynamic_axes)

    inputs = flatten((args, kw))
    in_names = _names(input_names, len(inputs), "input", "input_names")
    for t, name in zip(inputs, in_names):
        g.bind(t.array, name)

    given = {n: a for n, a in (dynamic_axes or {}).items() if n in in_names}
    dyn_in = _dynamic(given, in_names)  # the outputs' names are checked after the run
    labels: dict[int, dict[int, str]] = {}  # input k -> {axis: its label}
    resize: dict[int, list[int]] = {}  # input k -> its dynamic axes, for the probe runs
    for k, name in enumerate(in_names):
        labels[k] = {a % inputs[k].ndim: d for a, d in dyn_in.get(name, {}).items()}
        resize[k] = sorted(labels[k])
    modes = [(m, m.training) for _, m in model.named_modules()]
    model.eval()
    try:
        out = run_traced(model, g, args, kw, resize, labels)
    finally:
        for m, mode in modes:
            m.training = mode
    outputs = flatten(out)
    out_names = _names(output_names, len(outputs), "output", "output_names")
    for t, name in zip(outputs, out_names):
        g.node("Identity", [g.value(t.array)], outputs=[name])

    dyn = _dynamic(dynamic_axes, in_names + out_names)

    def info(name, arr):
        dims = list(arr.shape)
        for axis, label in dyn.get(name, {}).items():
            dims[axis] = label
        return onnx.helper.make_tensor_value_info(
            name, onnx.helper.np_dtype_to_tensor_dtype(np.dtype(arr.dtype)), dims
        )

    graph_inputs = [info(n, t.array) for t, n in zip(inputs, in_names)]
    used = set(_read(g.nodes))  # drop constants nothing reads
    initializers = [i for n, i in g.initializers.items() if n in used]
    if not export_params:  # the parameters become inputs that the caller feeds
        graph_inputs += [info(n, a) for n, a in g.param_inputs.items()]
        initializers = [i for i in initializers if i.name not in g.param_inputs]
    elif keep_initializers_as_inputs:
        graph_inputs += [info(n, a) for n, a in g.param_inputs.items()]
    graph = onnx.helper.make_graph(
        g.nodes,
        type(model).__name__,
        graph_inputs,
        [info(n, to_numpy(t.array)) for t, n in zip(outputs, out_names)],
        initializer=initializers,
    )
    opsets = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="ember",
        ir_version=onnx.helper.find_min_ir_version_for(opsets),
    )
    onnx.checker.check_model(proto)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    _write(proto.SerializeToString(), f)
