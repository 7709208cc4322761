"""Sorting and arg-reductions: the ops Sort, TopK, ``x.max(dim)`` (ExtremeAlong), ArgMax,
ArgMin and ArgSort (ops/argindex.py; ``Tensor.argsort`` runs ArgSort while an observer
watches).

    sort(x, dim, descending)      TopK(x, K = Shape(x)[dim], largest = descending, sorted)
    topk(x, k, dim, largest)      TopK(x, k, largest)
    x.max(dim) / x.min(dim)       ReduceMax / ReduceMin, and ArgMax / ArgMin
    argmax / argmin               ArgMax / ArgMin (the first of equal extremes, as NumPy)
    argsort(x, dim, descending)   the indices of TopK over the whole axis

ONNX's TopK puts the lower index first among equal values, which is ember's stable order in
both directions. A 0-d input is refused (nothing to sort).
"""

from __future__ import annotations


def _ndim(what: str, x) -> int:
    if x.ndim == 0:
        raise NotImplementedError(f"ember.onnx.export: {what} of a 0-d tensor")
    return x.ndim


def _whole_axis(g, x: str, axis: int) -> str:
    """K = the size of ``axis`` at run time, as TopK wants it (1-D, one element)."""
    return g.one("Gather", [g.one("Shape", [x]), g.ints([axis])], axis=0)


def _sort(g, op):
    x = op.inputs[0]
    axis = int(op.consts.get("dim", -1)) % _ndim("sort", x)
    xs = g.value(x)
    largest = int(bool(op.consts.get("descending", False)))
    return g.node("TopK", [xs, _whole_axis(g, xs, axis)], n_out=2, axis=axis, largest=largest)


def _topk(g, op):
    x = op.inputs[0]
    axis = int(op.consts.get("dim", -1)) % _ndim("topk", x)
    largest = int(bool(op.consts.get("largest", True)))
    k = g.ints([int(op.consts["k"])])
    return g.node("TopK", [g.value(x), k], n_out=2, axis=axis, largest=largest)


def _extreme_along(g, op):
    x = op.inputs[0]
    axis = int(op.consts["dim"]) % _ndim("max(dim)", x)
    keep = bool(op.consts.get("keepdim", False))
    largest = bool(op.consts.get("largest", True))
    xs = g.value(x)
    values = g.reduce("ReduceMax" if largest else "ReduceMin", xs, [axis], keep)
    arg = g.one("ArgMax" if largest else "ArgMin", [xs], axis=axis, keepdims=int(keep))
    return [values, arg]


def _arg_reduction(onnx_op):
    def convert(g, op):
        x = op.inputs[0]
        xs, axis = g.value(x), op.consts.get("axis")
        keep = int(bool(op.consts.get("keepdims", False)))
        if axis is None:  # of the flattened tensor (keepdims: every dim kept as 1)
            i = g.one(onnx_op, [g.one("Reshape", [xs, g.ints([-1])])], axis=0, keepdims=0)
            return [g.one("Reshape", [i, g.ints([1] * x.ndim)]) if keep and x.ndim else i]
        return [g.one(onnx_op, [xs], axis=int(axis) % max(x.ndim, 1), keepdims=keep)]

    return convert


def argsort_nodes(g, x: str, arr, dim: int, descending: bool) -> str:
    """The indices output of TopK over the whole axis ``dim`` of ``x`` (array ``arr``)."""
    axis = int(dim) % _ndim("argsort", arr)
    largest = int(bool(descending))
    return g.node("TopK", [x, _whole_axis(g, x, axis)], n_out=2, axis=axis, largest=largest)[1]


def _argsort(g, op):
    x = op.inputs[0]
    dim, descending = op.consts.get("dim", -1), op.consts.get("descending", False)
    return [argsort_nodes(g, g.value(x), x, dim, descending)]


SORT_CONVERTERS = {
    "Sort": _sort,
    "TopK": _topk,
    "ExtremeAlong": _extreme_along,
    "ArgMax": _arg_reduction("ArgMax"),
    "ArgMin": _arg_reduction("ArgMin"),
    "ArgSort": _argsort,
}
