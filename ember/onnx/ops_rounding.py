"""Rounding, sign, truth reductions, closeness, nonzero and one-hot: the ops of ops/rounding.py.

    round(x, d)          Round(x) (half to even, as NumPy and torch); d > 0: Div(Round(Mul(x,
                         10ᵈ)), 10ᵈ), d < 0: Mul(Round(Div(x, 10⁻ᵈ)), 10⁻ᵈ), NumPy's order
    floor, ceil          Floor, Ceil
    trunc                Where(x < 0, Ceil(x), Floor(x))
    sign                 Sign, with 0 at NaN (Where(IsNaN(x), 0, Sign(x))), as torch
    all / any            ReduceSum(Cast(¬t / t, int64)) = 0 / > 0 over dim, t = (x ≠ 0);
                         Cast to uint8 for a uint8 input, as torch
    count_nonzero        ReduceSum(Cast(x ≠ 0, int64)) over dim
    isclose(a, b)        |a − b| ≤ atol + rtol·|b| ∧ IsFinite(b) ∨ a = b (∨ both NaN), in
                         the dtypes NumPy's isclose computes in
    nonzero, argwhere    Transpose(NonZero(x ≠ 0)): (n, ndim), n known at run time
    one_hot(x, C)        Cast(Equal(Unsqueeze(x, −1), Range(0, C)), int64); C = −1:
                         ReduceMax(x) + 1 computed in the graph
    searchsorted(s, v)   ReduceSum(Cast(Less(s, Unsqueeze(v, −1)), int64), −1) (right:
                         LessOrEqual), NaN values placed as NumPy places them; bucketize too

An integer (or bool) input rounds to itself: Identity. Complex input is refused by the Tensor
methods before any op runs.
"""

from __future__ import annotations

import numpy as np

from .ops_map import onnx_dtype, scalar, typed


def _floating(op) -> bool:
    return np.dtype(op.inputs[0].dtype).kind == "f"


def _round(g, op):
    x = op.inputs[0]
    xs = g.value(x)
    if not _floating(op):
        return [g.one("Identity", [xs])]
    d = int(op.consts.get("decimals", 0))
    if d == 0:
        return [g.one("Round", [xs])]
    f = scalar(g, 10.0 ** abs(d), x.dtype)  # NumPy's power of ten, in x's dtype
    scale, unscale = ("Mul", "Div") if d > 0 else ("Div", "Mul")
    return [g.one(unscale, [g.one("Round", [g.one(scale, [xs, f])]), f])]


def _elementwise(onnx_op: str):
    def convert(g, op):
        xs = g.value(op.inputs[0])
        return [g.one(onnx_op if _floating(op) else "Identity", [xs])]

    return convert


def _trunc(g, op):
    xs = g.value(op.inputs[0])
    if not _floating(op):
        return [g.one("Identity", [xs])]
    neg = g.one("Less", [xs, scalar(g, 0, op.inputs[0].dtype)])
    return [g.one("Where", [neg, g.one("Ceil", [xs]), g.one("Floor", [xs])])]


def _sign(g, op):
    x = op.inputs[0]
    dt = np.dtype(x.dtype)
    xs = g.value(x)
    if dt.kind == "b":
        return [g.one("Identity", [xs])]
    if dt.kind != "f":
        return [g.one("Sign", [xs])]
    wt = np.dtype(np.float32) if dt.itemsize < 4 else dt  # IsNaN wants float32 / float64
    w = typed(g, x, wt)
    s = g.one("Where", [g.one("IsNaN", [w]), scalar(g, 0, wt), g.one("Sign", [w])])
    return [s if wt == dt else g.one("Cast", [s], to=onnx_dtype(g, dt))]


def truth(g, x) -> str:
    """(x ≠ 0) as bool (NaN is True); a bool x is itself."""
    dt = np.dtype(x.dtype)
    if dt.kind == "c":
        raise NotImplementedError("ember.onnx.export: the truth values of a complex tensor")
    xs = g.value(x)
    if dt.kind == "b":
        return xs
    return g.one("Not", [g.one("Equal", [xs, scalar(g, 0, dt)])])


def _axes(dim, ndim: int):
    """``dim`` (None, an int or a sequence) as a list of non-negative axes (None: all)."""
    if dim is None:
        return None
    dims = [dim] if isinstance(dim, int) else list(dim)
    return [int(d) % max(ndim, 1) for d in dims]


def _count(g, t: str, dim, ndim: int, keepdim: bool) -> str:
    """Σ t (bool) over ``dim``, as int64."""
    n = g.one("Cast", [t], to=onnx_dtype(g, np.int64))
    axes = _axes(dim, ndim)
    if axes == []:  # NumPy's axis=(): no reduction
        return n
    return g.reduce("ReduceSum", n, axes, keepdim)


def _all_any(every: bool):
    def convert(g, op):
        x = op.inputs[0]
        t = truth(g, x)
        dim, keep = op.consts.get("dim"), bool(op.consts.get("keepdim", False))
        if every:  # no element is False
            n = _count(g, g.one("Not", [t]), dim, x.ndim, keep)
            r = g.one("Equal", [n, g.const(0, "zero", np.int64)])
        else:
            r = g.one("Greater", [_count(g, t, dim, x.ndim, keep), g.const(0, "zero", np.int64)])
        if op.out_dtype != np.bool_:  # a uint8 input gives uint8, as torch
            r = g.one("Cast", [r], to=onnx_dtype(g, op.out_dtype))
        return [r]

    return convert


def _count_nonzero(g, op):
    x = op.inputs[0]
    return [_count(g, truth(g, x), op.consts.get("axis"), x.ndim, False)]


def _isclose(g, op):
    """NumPy's isclose: b is made inexact (yt), |a − b| is computed in the common dtype (dt),
    atol + rtol·|b| in yt."""
    a, b = op.inputs[:2]
    yt = np.result_type(np.dtype(b.dtype), 1.0)
    dt = np.result_type(np.dtype(a.dtype), yt)
    if dt.kind == "c":
        raise NotImplementedError("ember.onnx.export: isclose of complex tensors")
    rtol, atol = float(op.consts.get("rtol", 1e-05)), float(op.consts.get("atol", 1e-08))
    y = typed(g, b, yt)
    xd = typed(g, a, dt)
    yd = y if yt == dt else g.one("Cast", [y], to=onnx_dtype(g, dt))
    diff = g.one("Abs", [g.one("Sub", [xd, yd])])
    bound = g.one(
        "Add", [scalar(g, atol, yt), g.one("Mul", [scalar(g, rtol, yt), g.one("Abs", [y])])]
    )
    if yt != dt:
        bound = g.one("Cast", [bound], to=onnx_dtype(g, dt))
    finite = g.one("Not", [g.one("Or", [g.one("IsNaN", [y]), g.one("IsInf", [y])])])
    close = g.one("And", [g.one("LessOrEqual", [diff, bound]), finite])
    out = g.one("Or", [close, g.one("Equal", [xd, yd])])
    if op.consts.get("equal_nan", False):
        both = g.one("And", [g.one("IsNaN", [xd]), g.one("IsNaN", [yd])])
        out = g.one("Or", [out, both])
    return [out]


def _nonzero(g, op):
    return [g.one("Transpose", [g.one("NonZero", [truth(g, op.inputs[0])])], perm=[1, 0])]


def _one_hot(g, op):
    x = op.inputs[0]
    xs = typed(g, x, np.int64)
    n = int(op.consts.get("num_classes", -1))
    if n == -1:  # max(x) + 1 classes, from the run's own input
        depth = g.one("Add", [g.reduce("ReduceMax", xs, None, False), g.const(1, "one", np.int64)])
    else:
        depth = g.const(n, "depth", np.int64)
    classes = g.one("Range", [g.const(0, "zero", np.int64), depth, g.const(1, "one", np.int64)])
    hot = g.one("Equal", [g.unsqueeze(xs, [-1]), classes])
    return [g.one("Cast", [hot], to=onnx_dtype(g, np.int64))]


def _searchsorted(g, op):
    """#{j: s_j < v} (right: s_j ≤ v) as a ReduceSum over a comparison of every value with
    every entry of its row (M·K comparisons per row, where NumPy bisects): exact, and sizes
    follow the run. A NaN value counts as the largest (NumPy's order): left, it goes before
    the first NaN entry (after every non-NaN one); right, after all."""
    seq, v = op.inputs[:2]
    dt = np.result_type(np.dtype(seq.dtype), np.dtype(v.dtype))
    if dt.kind == "c":
        raise NotImplementedError("ember.onnx.export: searchsorted of complex tensors")
    s, x = typed(g, seq, dt), typed(g, v, dt)
    right = bool(op.consts.get("right", False))
    if seq.ndim == 1:  # every value against the one sequence: (..., 1) vs (M,)
        xs, ss = g.unsqueeze(x, [-1]), s
    else:  # row by row: (..., K, 1) vs (..., 1, M)
        xs, ss = g.unsqueeze(x, [-1]), g.unsqueeze(s, [-2])
    before = g.one("LessOrEqual" if right else "Less", [ss, xs])
    if dt.kind == "f":
        nan_v = g.one("IsNaN", [xs])
        if not right:  # before every non-NaN entry only
            nan_v = g.one("And", [nan_v, g.one("Not", [g.one("IsNaN", [ss])])])
        before = g.one("Or", [before, nan_v])
    n = g.reduce("ReduceSum", g.one("Cast", [before], to=onnx_dtype(g, np.int64)), [-1], False)
    return [n if op.out_dtype == np.int64 else g.one("Cast", [n], to=onnx_dtype(g, op.out_dtype))]


ROUNDING_CONVERTERS = {
    "Round": _round,
    "Floor": _elementwise("Floor"),
    "Ceil": _elementwise("Ceil"),
    "Trunc": _trunc,
    "Sign": _sign,
    "All": _all_any(True),
    "Any": _all_any(False),
    "CountNonzero": _count_nonzero,
    "IsClose": _isclose,
    "Nonzero": _nonzero,
    "OneHot": _one_hot,
    "SearchSorted": _searchsorted,
}
