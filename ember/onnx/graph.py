"""The ONNX graph under construction: value names, nodes, initializers.

Every array the traced forward touches gets one name, keyed by ``id(array)``; the graph keeps a
reference to each such array so that no id is reused while the trace runs. An array that no
traced op produced and that is not a model input is a constant: a parameter or buffer keeps its
``state_dict`` name, anything else becomes an initializer named ``const_<k>``.
"""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy


def _overlap(a, b) -> bool:
    """Whether two arrays share memory; an undecidable case counts as no (the second run of
    ``consistency`` still catches a value derived from the inputs)."""
    if not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=10**6))
    except np.exceptions.TooHardError:
        return False


class Graph:
    """Nodes and initializers of one export, built op by op while the model runs."""

    def __init__(self, helper, numpy_helper, opset: int, param_names: dict[int, str]):
        self.helper, self.numpy_helper, self.opset = helper, numpy_helper, opset
        self.param_names = param_names  # id(array) -> state_dict name
        self.names: dict[int, str] = {}  # id(array) -> value name in the graph
        self.keep: list = []  # the arrays behind ``names``: their ids must stay unique
        self.produced: list = []  # arrays a traced op wrote, to tell views of them from constants
        self.nodes: list = []
        self.initializers: dict[str, object] = {}  # name -> TensorProto
        self.param_inputs: dict[str, np.ndarray] = {}  # parameters in use: name -> array
        self.counter = 0
        self.dynamic = False  # dynamic_axes given: shapes are computed in the graph

    def fresh(self, hint: str) -> str:
        self.counter += 1
        return f"{hint}_{self.counter}"

    def bind(self, array, name: str, produced: bool = True) -> None:
        """Give ``array`` the graph name ``name`` (a model input or an op's output)."""
        self.names[id(array)] = name
        self.keep.append(array)
        if produced:
            self.produced.append(array)

    def value(self, array, hint: str = "const") -> str:
        """The name of ``array`` in the graph, adding it as an initializer if it is new."""
        name = self.names.get(id(array))
        if name is not None:
            return name
        arr = to_numpy(array) if not isinstance(array, np.ndarray) else array
        pname = self.param_names.get(id(array))
        if pname is None:
            for a in self.produced:  # a view of a traced value, taken outside ``apply``
                if _overlap(arr, a):
                    raise NotImplementedError(
                        "ember.onnx.export: an array of shape "
                        f"{arr.shape} was derived from a traced value without going through "
                        "an ember op (a NumPy view or a .numpy() round trip?), so it cannot "
                        "be expressed in the graph"
                    )
        name = pname if pname is not None else self.fresh(hint)
        self.add_initializer(name, arr)
        if pname is not None:
            self.param_inputs[name] = arr
        self.bind(array, name, produced=False)
        return name

    def add_initializer(self, name: str, arr) -> str:
        arr = np.asarray(arr)
        if not arr.flags.c_contiguous:  # (not ascontiguousarray: it makes a scalar 1-D)
            arr = np.ascontiguousarray(arr)
        self.initializers[name] = self.numpy_helper.from_array(arr, name)
        return name

    def const(self, arr, hint: str = "const", dtype=None) -> str:
        """A new initializer for a small constant (shapes, axes, scalars)."""
        return self.add_initializer(self.fresh(hint), np.asarray(arr, dtype=dtype))

    def ints(self, values) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), "ints")

    def node(self, op_type: str, inputs, n_out: int = 1, outputs=None, **attrs) -> list[str]:
        """Append one node; returns the names of its outputs (fresh unless given)."""
        if outputs is None:
            outputs = [self.fresh(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(
            self.helper.make_node(
                op_type, list(inputs), list(outputs), name=self.fresh(f"/{op_type}"), **attrs
            )
        )
        return list(outputs)

    def one(self, op_type: str, inputs, **attrs) -> str:
        return self.node(op_type, inputs, **attrs)[0]

    # axes moved from attributes to inputs in opset 13 (Squeeze, Unsqueeze, ReduceSum) and
    # 18 (the other reductions): these helpers hide the difference
    def unsqueeze(self, x: str, axes) -> str:
        return self.one("Unsqueeze", [x, self.ints(axes)])

    def squeeze(self, x: str, axes) -> str:
        return self.one("Squeeze", [x, self.ints(axes)])

    def reduce(self, op_type: str, x: str, axes, keepdims: bool) -> str:
        k = int(bool(keepdims))
        if axes is None:
            return self.one(op_type, [x], keepdims=k)
        axes = [axes] if isinstance(axes, int) else list(axes)
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.one(op_type, [x, self.ints(axes)], keepdims=k)
        return self.one(op_type, [x], axes=axes, keepdims=k)
