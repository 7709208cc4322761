"""Indexed writes: ``x[index] = v`` (SetItem) and ``index_put`` (IndexPut).

Both become one ScatterElements into the flattened x, at the flat positions the index
addresses: those come from indexing a grid of positions, built at run time from Shape(x),
with the same index (GetItem's converter: ints, slices with steps, None, Ellipsis, one integer
array or one boolean mask, slice bounds that follow a dynamic axis)::

    P = Reshape(Range(0, numel(x), 1), Shape(x))      the position of every element
    p = P[index]                                      the written positions
    y = Reshape(ScatterElements(Reshape(x, [−1]), Reshape(p, [−1]),
                                Reshape(Expand(v, Shape(p)), [−1]), axis = 0), Shape(x))

Slices, ints and masks address every place once, so the scatter is exact. An integer array may
repeat a place (NumPy keeps the last value written; ONNX leaves the order open): a constant one
is checked, a computed one is taken only with a single value to write; otherwise the export
refuses. index_put with ``accumulate`` adds (ScatterElements' reduction "add", opset ≥ 16).
"""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from .ops_map import Op, typed
from .ops_shape import _getitem


def _int_arrays(index) -> list:
    items = index if isinstance(index, tuple) else (index,)
    return [i for i in items if hasattr(i, "dtype") and np.dtype(i.dtype) != np.bool_]


def _check_unique(g, x, index, v, what: str) -> None:
    """Refuse an integer index array that may write one place twice with different values."""
    arrays = _int_arrays(index)
    if not arrays or int(np.prod(v.shape)) == 1:  # one value: any order writes the same
        return
    if len(arrays) > 1:
        raise NotImplementedError(f"ember.onnx.export: {what} with several index arrays")
    i = arrays[0]
    if id(i) in g.names:
        raise NotImplementedError(
            f"ember.onnx.export: {what} at an integer index computed in the graph, with more "
            "than one value: a repeated index would be written in an order ONNX leaves open"
        )
    items = index if isinstance(index, tuple) else (index,)
    before = [j for j in items[: next(k for k, j in enumerate(items) if j is i)] if j is not None]
    if any(j is Ellipsis for j in before):
        raise NotImplementedError(f"ember.onnx.export: {what} at an index array after an Ellipsis")
    n = x.shape[sum(j.ndim if hasattr(j, "ndim") else 1 for j in before)]
    flat = np.asarray(to_numpy(i), np.int64).ravel() % max(n, 1)
    if np.unique(flat).size != flat.size:
        raise NotImplementedError(
            f"ember.onnx.export: {what} at an integer index with repeated entries (NumPy keeps "
            "the last value written; ONNX's ScatterElements leaves the order open)"
        )


def _scatter(g, op, index, reduction: str | None = None) -> list[str]:
    x, v = op.inputs[:2]
    xs = g.value(x)
    shape = g.one("Shape", [xs])
    numel = g.squeeze(g.reduce("ReduceProd", shape, [0], True), [0])
    zero, one = (g.const(np.asarray(c, np.int64), "scalar") for c in (0, 1))
    grid = np.empty(x.shape, np.int64)  # stands for P while GetItem's converter indexes it
    g.bind(grid, g.one("Reshape", [g.one("Range", [zero, numel, one]), shape]))
    consts = {"index": index, "sized_bounds": op.consts.get("sized_bounds", {})}
    (p,) = _getitem(g, Op("GetItem", [grid], consts, [None]))
    vals = g.one("Expand", [typed(g, v, x.dtype), g.one("Shape", [p])])
    flat = [g.one("Reshape", [n, g.ints([-1])]) for n in (xs, p, vals)]
    attrs = {"reduction": reduction} if reduction else {}
    y = g.one("ScatterElements", flat, axis=0, **attrs)
    return [g.one("Reshape", [y, shape])]


def _setitem(g, op):
    x, v = op.inputs[:2]
    index = op.consts["index"]
    _check_unique(g, x, index, v, "x[index] = v")
    return _scatter(g, op, index)


def _index_put(g, op):
    x, v = op.inputs[:2]
    index = tuple(op.consts["indices"])
    if not op.consts.get("accumulate", False):
        _check_unique(g, x, index, v, "index_put")
        return _scatter(g, op, index)
    if g.opset < 16:
        raise NotImplementedError("ember.onnx.export: index_put(accumulate=True) needs opset 16")
    return _scatter(g, op, index, reduction="add")


SETITEM_CONVERTERS = {"SetItem": _setitem, "IndexPut": _index_put}
