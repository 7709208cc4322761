"""Tensor methods for torch's aliases, predicates and small conveniences (greater, less_equal,
absolute, fix, fliplr, ravel, swapaxes, argwhere, fmax, isposinf, nextafter, equal,
sum_to_size, byte, bitwise_left_shift …), each composed of existing ops so that autograd gives
torch's gradients where torch's are differentiable. ember.torch_aliases calls these for the
top-level functions.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import xp
from .function import observers
from .memory_formats import preserve_format
from .ops import compare as CO
from .ops import rounding as RO
from .ops.complex_refuse import refuse_complex
from .ops.elementwise import not_implemented_for  # beside Abs; tensor_torch_more imports it here
from .ops.index import check_dim
from .promotion import torch_dtype_name  # noqa: F401 - torch_aliases imports it from here
from .tensor_methods import _promoted, _t

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


def require_tensor(op: str, value, name: str = "other", position: int = 1) -> None:
    """torch's TypeError where an argument must be a Tensor (a type from outside the builtins
    named with its module, as torch's: "not numpy.ndarray")."""
    if not isinstance(value, Tensor):
        kind = type(value)
        named = (
            kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        )
        raise TypeError(
            f"{op}(): argument '{name}' (position {position}) must be Tensor, not {named}"
        )


def _shift(a: Tensor, b, left: bool) -> Tensor:
    x, y = _promoted(a, _t(b, a))
    kind = x.array.dtype.kind
    if kind not in "iu":
        raise not_implemented_for("lshift_cpu" if left else "rshift_cpu", x.array.dtype)
    # NumPy, like torch, gives 0 (or the sign for a right shift) for shifts out of range.
    # Both in their common dtype (uint8 << int8 is int16, as any binary op's; the operands'
    # kinds were checked above on x, which _promoted gave the common kind)
    op = xp.left_shift if left else xp.right_shift
    dtype = xp.result_type(x.array, y.array)
    if dtype.kind not in "iu":  # an integer shifted by a float tensor
        raise not_implemented_for("lshift_cpu" if left else "rshift_cpu", dtype)
    return Tensor(op(x.array.astype(dtype, copy=False), y.array.astype(dtype, copy=False)))


def _pick(a: Tensor, other, larger: bool) -> Tensor:
    """fmax / fmin: the larger (smaller) operand, the non-NaN one where one is NaN; the gradient
    goes to the operand picked (self on ties), as torch's; complex operands are refused, as
    torch does (RuntimeError)."""
    x, y = _promoted(a, other)
    for v in (x, y):
        refuse_complex(v.array, "fmax" if larger else "fmin")
    keep = (x.array >= y.array) if larger else (x.array <= y.array)
    if y.array.dtype.kind in "fc":
        keep = keep | xp.isnan(y.array)
    return x.where(keep, y)


class AliasTensorMethods:
    """See the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ comparison aliases
    def greater(self, other) -> Tensor:
        """torch.Tensor.greater: alias of gt."""
        return self.gt(other)

    def greater_equal(self, other) -> Tensor:
        """torch.Tensor.greater_equal: alias of ge."""
        return self.ge(other)

    def less(self, other) -> Tensor:
        """torch.Tensor.less: alias of lt."""
        return self.lt(other)

    def less_equal(self, other) -> Tensor:
        """torch.Tensor.less_equal: alias of le."""
        return self.le(other)

    def not_equal(self, other) -> Tensor:
        """torch.Tensor.not_equal: alias of ne."""
        return self.ne(other)

    def greater_(self, other) -> Tensor:
        """torch.Tensor.greater_: self = (self > other), in self's dtype."""
        return self._arith_("greater_", lambda s: s.gt(other))

    def greater_equal_(self, other) -> Tensor:
        """torch.Tensor.greater_equal_: self = (self >= other), in self's dtype."""
        return self._arith_("greater_equal_", lambda s: s.ge(other))

    def less_(self, other) -> Tensor:
        """torch.Tensor.less_: self = (self < other), in self's dtype."""
        return self._arith_("less_", lambda s: s.lt(other))

    def less_equal_(self, other) -> Tensor:
        """torch.Tensor.less_equal_: self = (self <= other), in self's dtype."""
        return self._arith_("less_equal_", lambda s: s.le(other))

    def not_equal_(self, other) -> Tensor:
        """torch.Tensor.not_equal_: self = (self != other), in self's dtype."""
        return self._arith_("not_equal_", lambda s: s.ne(other))

    def equal(self, other) -> bool:
        """torch.Tensor.equal: same shape and same values (a Python bool)."""
        require_tensor("equal", other)
        return bool(self.shape == other.shape and xp.array_equal(self.array, other.array))

    # ------------------------------------------------------------ sign and rounding aliases
    def absolute(self) -> Tensor:
        """torch.Tensor.absolute: alias of abs (a bool tensor refused there, as torch)."""
        return self.abs()

    def absolute_(self) -> Tensor:
        """torch.Tensor.absolute_: abs in place."""
        return self._arith_("absolute_", lambda s: s.absolute())

    def negative(self) -> Tensor:
        """torch.Tensor.negative: alias of neg (a bool tensor refused there, as torch)."""
        return self.neg()

    def negative_(self) -> Tensor:
        """torch.Tensor.negative_: neg in place."""
        return self._arith_("negative_", lambda s: s.negative())

    def positive(self) -> Tensor:
        """torch.Tensor.positive: self itself (a bool tensor is refused)."""
        if self.array.dtype == xp.bool_:
            raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
        return self

    def fix(self) -> Tensor:
        """torch.Tensor.fix: alias of trunc (a bool tensor refused there, as torch)."""
        return self.trunc()

    def fix_(self) -> Tensor:
        """torch.Tensor.fix_: trunc in place."""
        return self._arith_("fix_", lambda s: s.fix())

    # ------------------------------------------------------------ shape aliases
    def fliplr(self) -> Tensor:
        """torch.Tensor.fliplr: flip along dim 1 (a tensor of ≥ 2 dims)."""
        if self.ndim < 2:
            raise RuntimeError("Input must be >= 2-d.")
        return self.flip(1)

    def flipud(self) -> Tensor:
        """torch.Tensor.flipud: flip along dim 0 (a tensor of ≥ 1 dim)."""
        if self.ndim < 1:
            raise RuntimeError("Input must be >= 1-d.")
        return self.flip(0)

    def ravel(self) -> Tensor:
        """torch.Tensor.ravel: the elements as a 1-D tensor (reshape(-1))."""
        return self.reshape(-1)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        """torch.Tensor.swapaxes: alias of transpose."""
        return self.transpose(axis0, axis1)

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        """torch.Tensor.swapdims: alias of transpose."""
        return self.transpose(dim0, dim1)

    def swapaxes_(self, axis0: int, axis1: int) -> Tensor:
        """torch.Tensor.swapaxes_: transpose self in place (its shape changes)."""
        return self._swap_("swapaxes_", axis0, axis1)

    def swapdims_(self, dim0: int, dim1: int) -> Tensor:
        """torch.Tensor.swapdims_: transpose self in place (its shape changes)."""
        return self._swap_("swapdims_", dim0, dim1)

    def _swap_(self, name: str, d0: int, d1: int) -> Tensor:
        self._inplace(name)
        d0, d1 = check_dim(name, d0, self.ndim), check_dim(name, d1, self.ndim)
        if self.ndim:
            self.array = self.array.swapaxes(d0, d1)
        return self

    def sum_to_size(self, *size) -> Tensor:
        """torch.Tensor.sum_to_size: summed over the dims that broadcast ``size`` to self."""
        if not size:
            raise TypeError('sum_to_size() missing 1 required positional arguments: "size"')
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = size[0]
        size = tuple(int(s) for s in size)
        shape, lead = tuple(self.shape), self.ndim - len(size)
        if lead < 0 or any(s != 1 and s != n for s, n in zip(size, shape[lead:])):
            raise RuntimeError(
                f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}."
            )
        dims = tuple(range(lead)) + tuple(
            lead + i for i, (s, n) in enumerate(zip(size, shape[lead:])) if s == 1 and n != 1
        )
        if not dims and size == shape:  # nothing to sum: torch hands back self itself
            return self
        return (self.sum(dim=dims, keepdim=True) if dims else self).reshape(size)

    # ------------------------------------------------------------ predicates
    def argwhere(self) -> Tensor:
        """torch.Tensor.argwhere: the indices of the nonzero elements, one row each (int64)."""
        if observers and self.ndim:  # an op (ops/rounding.py) that the ONNX tracer sees
            return apply(RO.Nonzero, self.array)
        return Tensor(xp.argwhere(self.array).astype(xp.int64))

    def isneginf(self) -> Tensor:
        """torch.Tensor.isneginf: whether each element is -inf (bool)."""
        return self._inf_test("isneginf", xp.isneginf, CO.IsNegInf)

    def isposinf(self) -> Tensor:
        """torch.Tensor.isposinf: whether each element is +inf (bool)."""
        return self._inf_test("isposinf", xp.isposinf, CO.IsPosInf)

    def _inf_test(self, name: str, op, cls) -> Tensor:
        kind = self.array.dtype.kind
        if kind == "c":
            raise RuntimeError(f"{name} does not support complex inputs.")
        if observers and kind == "f":  # an op (ops/compare.py) that the ONNX tracer sees
            return apply(cls, self.array)
        return Tensor(op(self.array) if kind == "f" else xp.zeros(self.array.shape, xp.bool_))

    def is_signed(self) -> bool:
        """torch.Tensor.is_signed: whether the dtype holds negative values."""
        return self.array.dtype.kind in "ifc"

    def is_complex(self) -> bool:
        """torch.Tensor.is_complex: whether the dtype is complex."""
        return self.array.dtype.kind == "c"

    def is_nonzero(self) -> bool:
        """torch.Tensor.is_nonzero: whether the single element is nonzero."""
        n = self.array.size
        if n != 1:
            more = "no values" if n == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {more} is ambiguous")
        return bool(self.array.reshape(()) != 0)

    def is_same_size(self, other) -> bool:
        """torch.Tensor.is_same_size: whether other has self's shape."""
        require_tensor("is_same_size", other)
        return tuple(self.shape) == tuple(other.shape)

    def ndimension(self) -> int:
        """torch.Tensor.ndimension: alias of dim()."""
        return self.ndim

    # ------------------------------------------------------------ dtype conversions
    def byte(self, *, memory_format=preserve_format) -> Tensor:
        """torch.Tensor.byte: to uint8, laid out as ``memory_format`` says (see ``to``)."""
        return self._relayout(self._int_cast(xp.uint8), memory_format, "byte")

    def char(self, *, memory_format=preserve_format) -> Tensor:
        """torch.Tensor.char: to int8, laid out as ``memory_format`` says (see ``to``)."""
        return self._relayout(self._int_cast(xp.int8), memory_format, "char")

    def short(self, *, memory_format=preserve_format) -> Tensor:
        """torch.Tensor.short: to int16, laid out as ``memory_format`` says (see ``to``)."""
        return self._relayout(self._int_cast(xp.int16), memory_format, "short")

    def _int_cast(self, dtype) -> Tensor:
        a = self.array
        if a.dtype == dtype:
            return self
        if a.dtype.kind in "fc":  # through int64, wrapping as torch does out of range
            a = a.real.astype(xp.int64)
        return Tensor(a.astype(dtype))

    # ------------------------------------------------------------ NaN-aware extrema, ulps
    def fmax(self, other) -> Tensor:
        """torch.Tensor.fmax: the larger of two, ignoring a NaN where one operand is NaN."""
        require_tensor("fmax", other)
        return _pick(self, other, True)

    def fmin(self, other) -> Tensor:
        """torch.Tensor.fmin: the smaller of two, ignoring a NaN where one operand is NaN."""
        require_tensor("fmin", other)
        return _pick(self, other, False)

    def nextafter(self, other) -> Tensor:
        """torch.Tensor.nextafter: the next float after self towards other; its gradient is
        1 with respect to self and 0 with respect to other, as torch's."""
        require_tensor("nextafter", other)
        x, y = _promoted(self, other)
        if x.array.dtype.kind != "f":
            raise not_implemented_for("nextafter_cpu", x.array.dtype)
        return apply(RO.NextAfter, x, y)

    def nextafter_(self, other) -> Tensor:
        """torch.Tensor.nextafter_: nextafter in place."""
        return self._arith_("nextafter_", lambda s: s.nextafter(other))

    # ------------------------------------------------------------ shifts
    def bitwise_left_shift(self, other) -> Tensor:
        """torch.Tensor.bitwise_left_shift: self << other (integers)."""
        return _shift(self, other, True)

    def bitwise_right_shift(self, other) -> Tensor:
        """torch.Tensor.bitwise_right_shift: self >> other (integers, arithmetic)."""
        return _shift(self, other, False)

    def __lshift__(self, other) -> Tensor:  # x << n, as torch's operator
        return _shift(self, other, True)

    def __rshift__(self, other) -> Tensor:
        return _shift(self, other, False)

    def __rlshift__(self, other) -> Tensor:  # n << x
        return _shift(_t(other, self), self, True)

    def __rrshift__(self, other) -> Tensor:
        return _shift(_t(other, self), self, False)

    def __ilshift__(self, other) -> Tensor:
        return self.bitwise_left_shift_(other)

    def __irshift__(self, other) -> Tensor:
        return self.bitwise_right_shift_(other)

    def bitwise_left_shift_(self, other) -> Tensor:
        """torch.Tensor.bitwise_left_shift_: self <<= other."""
        return self._arith_("bitwise_left_shift_", lambda s: s.bitwise_left_shift(other))

    def bitwise_right_shift_(self, other) -> Tensor:
        """torch.Tensor.bitwise_right_shift_: self >>= other."""
        return self._arith_("bitwise_right_shift_", lambda s: s.bitwise_right_shift(other))
