"""Comparisons, logic and scans: the ops of ops/compare.py, CumSum and MaskedSelect.

    a < b, a ≤ b, a > b, a ≥ b    Less, LessOrEqual, Greater, GreaterOrEqual (bool cast to uint8)
    a == b, a != b                Equal, Not(Equal)
    ~a, a & b, a | b, a ^ b       Not / And / Or / Xor for bool; BitwiseNot… (opset ≥ 18) else
    logical_not/and/or/xor        Not / And / Or / Xor of the truth values (Cast to bool)
    isnan, isinf, isposinf…       IsNaN, IsInf (detect_positive / detect_negative)
    isfinite                      Not(Or(IsNaN, IsInf))
    cumsum(x, dim)                CumSum(x, dim), exclusive = 0, reverse = 0
    masked_select(x, mask)        Compress(Expand(x), Reshape(Expand(mask), [−1]))

Both operands of a comparison are brought to the dtype NumPy compares them in (a Python number
takes the array's dtype where it fits), so the graph compares exactly what ember compared.
"""

from __future__ import annotations

import numpy as np

from .ops_map import typed

_ORDERING = {"Less", "LessOrEqual", "Greater", "GreaterOrEqual"}


def _common(op) -> np.dtype:
    """The dtype NumPy compared op's two operands in (a Python number is a weak operand)."""
    a, b = op.inputs[:2]
    if b is None or isinstance(b, str):
        raise NotImplementedError(f"ember.onnx.export: a comparison with {b!r}")
    if isinstance(b, bool | int | float):
        other = b
    else:  # an array, a NumPy scalar, a list
        other = np.dtype(b.dtype) if hasattr(b, "dtype") else np.asarray(b).dtype
    kinds = [other, np.dtype(a.dtype)]
    try:
        dt = np.result_type(*kinds)
    except (OverflowError, TypeError) as e:
        raise NotImplementedError(f"ember.onnx.export: a comparison of {a.dtype} with {b!r}") from e
    if dt.kind == "c":
        raise NotImplementedError("ember.onnx.export: complex comparisons")
    if isinstance(b, int) and dt.kind in "iu" and not np.iinfo(dt).min <= b <= np.iinfo(dt).max:
        raise NotImplementedError(f"ember.onnx.export: a comparison of {dt} with {b}, out of range")
    return dt


def _compare(onnx_op: str, negate: bool = False):
    def convert(g, op):
        dt = _common(op)
        if onnx_op in _ORDERING and dt == np.bool_:  # ONNX orders numbers only
            dt = np.dtype(np.uint8)
        y = g.one(onnx_op, [typed(g, op.inputs[0], dt), typed(g, op.inputs[1], dt)])
        return [g.one("Not", [y]) if negate else y]

    return convert


def _logical(onnx_op: str):
    """Of the truth values: each operand cast to bool (nonzero, NaN included, is True)."""

    def convert(g, op):
        return [g.one(onnx_op, [typed(g, a, bool) for a in op.inputs if a is not None])]

    return convert


def _bitwise(logical_op: str, bitwise_op: str):
    """On bool the logical op; on integers the bitwise one, which ONNX has from opset 18."""

    def convert(g, op):
        dt = op.out_dtype
        if dt == np.bool_:
            return [g.one(logical_op, [typed(g, a, bool) for a in op.inputs])]
        if g.opset < 18:
            raise NotImplementedError(
                f"ember.onnx.export: {bitwise_op} of {dt} tensors needs opset_version >= 18"
            )
        return [g.one(bitwise_op, [typed(g, a, dt) for a in op.inputs])]

    return convert


def _float_test(g, op) -> str | None:
    """x as float32 / float64 for IsNaN / IsInf (float16 widened exactly), or None when x is
    not floating (no NaN, no ∞)."""
    x = op.inputs[0]
    kind, size = np.dtype(x.dtype).kind, np.dtype(x.dtype).itemsize
    if kind == "c":
        raise NotImplementedError("ember.onnx.export: isnan/isinf of a complex tensor")
    if kind != "f":
        return None
    return typed(g, x, np.float32 if size < 4 else x.dtype)


def _none_of(g, op) -> str:
    """All False, of x's (run-time) shape: a tensor with no NaN or ∞."""
    x = g.value(op.inputs[0])
    return g.one("Not", [g.one("Equal", [x, x])])


def _isnan(g, op):
    x = _float_test(g, op)
    return [g.one("IsNaN", [x]) if x is not None else _none_of(g, op)]


def _isinf(positive: int = 1, negative: int = 1):
    def convert(g, op):
        x = _float_test(g, op)
        if x is None:
            return [_none_of(g, op)]
        return [g.one("IsInf", [x], detect_positive=positive, detect_negative=negative)]

    return convert


def _isfinite(g, op):
    x = _float_test(g, op)
    if x is None:
        return [g.one("Not", [_none_of(g, op)])]
    return [g.one("Not", [g.one("Or", [g.one("IsNaN", [x]), g.one("IsInf", [x])])])]


def _cumsum(g, op):
    """CumSum in the output's dtype (NumPy sums bool and small integers as int64)."""
    x = typed(g, op.inputs[0], op.out_dtype)
    axis = g.const(np.asarray(int(op.consts["dim"]), np.int64), "axis")
    return [g.one("CumSum", [x, axis], exclusive=0, reverse=0)]


def _masked_select(g, op):
    """The elements of x where mask holds, both broadcast to their common shape, in row-major
    order: Compress of the flattened x. The output's length is computed at run time."""
    x, mask = op.inputs[:2]
    xs, ms = g.value(x), typed(g, mask, bool)
    if tuple(x.shape) != tuple(mask.shape):  # Expand broadcasts both ways
        xs, ms = (
            g.one("Expand", [xs, g.one("Shape", [ms])]),
            g.one("Expand", [ms, g.one("Shape", [xs])]),
        )
    flat = g.one("Reshape", [ms, g.ints([-1])])
    return [g.one("Compress", [xs, flat])]


LOGIC_CONVERTERS = {
    "Less": _compare("Less"),
    "LessEqual": _compare("LessOrEqual"),
    "Greater": _compare("Greater"),
    "GreaterEqual": _compare("GreaterOrEqual"),
    "Equal": _compare("Equal"),
    "NotEqual": _compare("Equal", negate=True),
    "LogicalNot": _logical("Not"),
    "LogicalAnd": _logical("And"),
    "LogicalOr": _logical("Or"),
    "LogicalXor": _logical("Xor"),
    "BitwiseNot": _bitwise("Not", "BitwiseNot"),
    "BitwiseAnd": _bitwise("And", "BitwiseAnd"),
    "BitwiseOr": _bitwise("Or", "BitwiseOr"),
    "BitwiseXor": _bitwise("Xor", "BitwiseXor"),
    "IsNaN": _isnan,
    "IsInf": _isinf(),
    "IsPosInf": _isinf(1, 0),
    "IsNegInf": _isinf(0, 1),
    "IsFinite": _isfinite,
    "CumSum": _cumsum,
    "MaskedSelect": _masked_select,
}
