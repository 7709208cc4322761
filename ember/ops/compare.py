"""Comparisons and logic as ops: <, <=, >, >=, ==, !=, ~, &, |, ^, logical_*, isnan/isinf.

Their results are bool (or integer, for ``~ & | ^`` on integers) and carry no gradient, so
these ops are never recorded in the graph. They are ops so that the observers of
``function.observers`` see a mask computed in a model's own code as any other op: the ONNX
exporter writes them as Greater / Less / Equal / Not / And / Or / Xor / IsNaN / IsInf nodes
rather than baking the mask of the traced input into the graph, and the profiler times them.
The Tensor methods (tensor_methods, tensor_torch_logic, tensor_torch_arith, tensor_torch_math)
run them through ``apply`` only while an observer is present and call the NumPy function on
the arrays directly otherwise, so the eager path costs what it did.

Each class names its array function (``fn``); the second operand may be an array or a Python
number, compared as NumPy compares it (a number takes the array's dtype where it fits).
"""

from __future__ import annotations

from ..backend import get_array_module, xp
from ..function import Function


class _Binary(Function):
    """y = fn(a, b) elementwise; no gradient."""

    fn = None  # the array library's function, set by each subclass

    def forward(self, a, b):
        return get_array_module(a).asarray(type(self).fn(a, b))  # a 0-d result stays an array

    def backward(self, gy):  # pragma: no cover - never recorded (a bool result)
        return None, None


class _Unary(Function):
    """y = fn(a) elementwise; no gradient."""

    fn = None

    def forward(self, a):
        return get_array_module(a).asarray(type(self).fn(a))

    def backward(self, gy):  # pragma: no cover - never recorded (a bool result)
        return (None,)


def _op(name: str, fn, doc: str) -> type:
    return type(name, (_Binary,), {"fn": staticmethod(fn), "__doc__": doc})


def _unary(name: str, fn, doc: str) -> type:
    return type(name, (_Unary,), {"fn": staticmethod(fn), "__doc__": doc})


Less = _op("Less", xp.less, "y = a < b (bool).")
LessEqual = _op("LessEqual", xp.less_equal, "y = a ≤ b (bool).")
Greater = _op("Greater", xp.greater, "y = a > b (bool).")
GreaterEqual = _op("GreaterEqual", xp.greater_equal, "y = a ≥ b (bool).")
Equal = _op("Equal", xp.equal, "y = a = b (bool).")
NotEqual = _op("NotEqual", xp.not_equal, "y = a ≠ b (bool).")
LogicalNot = _unary("LogicalNot", xp.logical_not, "y = ¬a, a's truth values (bool).")
LogicalAnd = _op("LogicalAnd", xp.logical_and, "y = a ∧ b, the truth values (bool).")
LogicalOr = _op("LogicalOr", xp.logical_or, "y = a ∨ b, the truth values (bool).")
LogicalXor = _op("LogicalXor", xp.logical_xor, "y = a ⊕ b, the truth values (bool).")
BitwiseNot = _unary("BitwiseNot", xp.invert, "y = ~a: ¬a for bool, the bits' complement else.")
BitwiseAnd = _op("BitwiseAnd", xp.bitwise_and, "y = a & b: ∧ for bool, bitwise else.")
BitwiseOr = _op("BitwiseOr", xp.bitwise_or, "y = a | b: ∨ for bool, bitwise else.")
BitwiseXor = _op("BitwiseXor", xp.bitwise_xor, "y = a ^ b: ⊕ for bool, bitwise else.")
IsNaN = _unary("IsNaN", xp.isnan, "y = (a is NaN) (bool).")
IsInf = _unary("IsInf", xp.isinf, "y = (a is ±∞) (bool).")
IsFinite = _unary("IsFinite", xp.isfinite, "y = (a is neither NaN nor ±∞) (bool).")
IsPosInf = _unary("IsPosInf", xp.isposinf, "y = (a is +∞) (bool).")
IsNegInf = _unary("IsNegInf", xp.isneginf, "y = (a is −∞) (bool).")
