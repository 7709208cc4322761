"""The export's probe runs: are the graph's constants really constant?

Values computed outside ember's ops (``.numpy()`` round trips, methods that work on the array
outside ``apply``: ``signbit``, ``bucketize``) reach the ops as plain arrays, and the exporter
would bake them into the graph as constants;
so would arrays a forward builds from a size (``zeros(batch, ...)``, a mask sliced to the
sequence length) and slice bounds read off a size. The model therefore runs, before the traced
run, on inputs with other values and other sizes along the dynamic axes (twice, at two other
sizes, when there are dynamic axes): a constant whose size follows an axis is computed in the
graph where ``sized`` recognises its form; any other "constant" that changes was computed
from the inputs, and the export refuses it rather than write a graph that is wrong for other
inputs. Comparisons and logic (``x > 0``, ``~m & k``, ``isnan``) are ops (ops/compare.py)
while an observer watches, so a mask computed in the model's code is computed in the graph;
so are rounding, sign, all/any, isclose, nonzero and one_hot (ops/rounding.py). An output
that no op produced is compared with the probe runs' (``trace._check_outputs``).
"""

from __future__ import annotations

import hashlib
import threading
import warnings

import numpy as np

from ..backend import to_numpy
from ..tensor import Tensor
from .ops_shape import slice_bounds
from .rnn import ZERO_STATE_SLOTS

SLICED = ("GetItem", "SetItem")  # the ops whose index may hold slices with bounds


def _arrays(obj):
    """The arrays among an op's constants (GetItem's index tuple, Where's condition)."""
    if isinstance(obj, tuple | list):
        return [a for o in obj for a in _arrays(o)]
    if isinstance(obj, type):  # a dtype given as its class (astype(np.int32)): no array
        return []
    return [obj] if hasattr(obj, "shape") and hasattr(obj, "dtype") else []


class ConstantLog:
    """Fingerprints of the arrays each op read that no traced op produced; ``keep_arrays``
    (the probe run) keeps the arrays too, for ``sized``."""

    def __init__(self, known: set[int], params: dict[int, str], keep_arrays: bool = False):
        self.known, self.params, self.keep_arrays = known, params, keep_arrays
        self.keep: list = []  # the outputs behind ``known``: their ids must stay unique
        self.log: list = []  # (op name, [(slot, shape, digest, array or None)], module or "")
        self.taken: list = []  # (what, value, module or "") of each Python value taken

    def constants(self, arrays, consts) -> list:
        """The op's (slot, array) inputs that are neither traced values nor parameters."""
        return [
            (slot, a)
            for slot, a in enumerate([*arrays, *_arrays(list(consts.values()))])
            if a is not None
            and hasattr(a, "shape")
            and id(a) not in self.known
            and id(a) not in self.params
        ]

    def record(self, name, arrays, consts, outs, where=None) -> None:
        """Fingerprint the op's constant inputs; ``where()`` names its module (first run)."""
        found = []
        zero_ok = ZERO_STATE_SLOTS.get(name, ())
        for slot, a in self.constants(arrays, consts):
            arr = np.ascontiguousarray(to_numpy(a))
            if slot in zero_ok and not arr.any():  # a zero state: left out of the graph
                found.append((slot, "zeros", "", None))
                continue
            digest = hashlib.sha1(arr.tobytes()).hexdigest()
            found.append((slot, arr.shape, digest, arr if self.keep_arrays else None))
        if name in SLICED:  # slice bounds read off a size change with it
            found.append(("bounds", slice_bounds(consts["index"]), "", None))
        self.log.append((name, found, where() if found and where is not None else ""))
        self.known.update(id(o) for o in outs)
        self.keep.extend(outs)


class Prober:
    """A probe run's observer: fingerprints only, no conversion."""

    def __init__(self, log: ConstantLog):
        self.log, self.pending = log, []
        self.thread = threading.get_ident()

    def on_forward_start(self, cls, inputs, constants) -> None:
        if threading.get_ident() == self.thread:
            self.pending.append((cls.__name__, dict(constants)))

    def on_forward(self, fn, arrays, out) -> None:
        if threading.get_ident() == self.thread:
            started = self.pending.pop()
            if started is not None:
                name, consts = started
                self.log.record(name, arrays, consts, list(out) if fn.multi_output else [out])

    def on_python_value(self, array, what: str) -> None:
        if threading.get_ident() == self.thread:
            self.log.taken.append((what, np.array(to_numpy(array)), ""))


def _other_size(n: int) -> int:
    return n - 1 if n > 2 else n + 1  # smaller where possible: a model may cap a length


def perturbed(obj, resize: dict[int, list[int]], sizes: dict | None = None):
    """Tensors like those in ``obj`` with independent values (integers drawn from the values
    present, so token ids stay valid), and other sizes along the axes ``resize`` names for
    the k-th Tensor in ``obj`` (``sizes[(k, axis)]`` where given)."""
    rng = np.random.default_rng(0)
    counter = iter(range(1 << 30))
    sizes = sizes or {}

    def one(t):
        a = to_numpy(t.array)
        shape = list(a.shape)
        k = next(counter)
        for axis in resize.get(k, []):
            shape[axis] = sizes.get((k, axis), _other_size(shape[axis]))
        if a.dtype.kind == "f":  # independent of a, so that a mask computed from it changes
            z = rng.standard_normal(shape)
            b = z * (a.std() if a.size else 1.0) + (a.mean() if a.size else 0.0)
        elif a.size:
            b = rng.choice(a.ravel(), size=shape)
        else:
            b = np.zeros(shape)
        return Tensor(np.ascontiguousarray(b.astype(a.dtype)))

    def walk(o):
        if isinstance(o, Tensor):
            return one(o)
        if isinstance(o, list | tuple):
            return type(o)(walk(x) for x in o)
        if isinstance(o, dict):
            return {k: walk(v) for k, v in o.items()}
        return o

    return walk(obj)


def compare(first: ConstantLog, second: ConstantLog, handled=frozenset()) -> None:
    """Refuse a constant of the traced run (``first``) that differs in the probe (``second``),
    except the (op index, slot) pairs in ``handled``, which ``sized`` computes in the graph."""
    if [e[0] for e in first.log] != [e[0] for e in second.log]:
        warnings.warn(
            "ember.onnx.export: the model ran other ops on other inputs (data-dependent "
            "control flow); the graph records the path taken on the given args",
            stacklevel=4,
        )
        return
    for k, ((name, a, where), (_, b, _)) in enumerate(zip(first.log, second.log)):
        name = f"{name} (in {where})"
        a = [e for e in a if (k, e[0]) not in handled]
        b = [e for e in b if (k, e[0]) not in handled]
        for (slot, shape_a, digest_a, _), (_, shape_b, digest_b, _) in zip(a, b):
            if slot == "bounds" and shape_a != shape_b:
                raise NotImplementedError(
                    f"ember.onnx.export: op {name} indexes with bounds taken from the inputs' "
                    f"sizes ({shape_a} here, {shape_b} for other sizes of the dynamic axes) that "
                    "are not a dynamic axis's size plus a constant"
                )
            if shape_a != shape_b:
                raise NotImplementedError(
                    f"ember.onnx.export: input {slot} of op {name} is an array the forward built "
                    f"with a size taken from the inputs ({shape_a} here, {shape_b} for other "
                    "sizes of the dynamic axes): the graph would only work for the traced size"
                )
            if digest_a != digest_b:
                raise NotImplementedError(
                    f"ember.onnx.export: input {slot} of op {name} was computed from the "
                    "model's inputs outside ember's ops (a NumPy round trip, .tolist(), or a "
                    "method without an op such as signbit), so it would be baked in as a "
                    "constant"
                )
        if len(a) != len(b):
            raise NotImplementedError(f"ember.onnx.export: op {name} read other constants")
