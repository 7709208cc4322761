"""PyTorch's Tensor arithmetic methods: add/sub/mul/div by name, rounding division, remainder,
bitwise operators and in-place arithmetic.

``TorchArithMethods`` is a mixin that ``TorchLogicMethods`` (tensor_torch_logic.py) inherits,
so ``Tensor`` has these methods. Mixed dtypes follow torch (promotion.py). Rounding division
(``//``, ``div(rounding_mode=...)``) keeps integer operands integer and has gradient 0, as in
torch; ``%`` (torch.remainder: the result takes the divisor's sign) and ``fmod`` (the
dividend's sign) have torch's gradients, 1 and -q.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py (see
the note at the end of tensor.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import xp
from .errors import KernelTypeError
from .function import observers
from .ops import compare as CO
from .ops import elementwise as E
from .ops.complex_refuse import refuse_mixed
from .ops.elementwise import not_implemented_for
from .promotion import C_TYPE_NAMES, category, pair_target, torch_dtype_name, wrap_int_scalar
from .scalar_fits import CHECKED_SCALARS, check_scalar_fits
from .tensor_methods import _in_result_dtype, _is_bool, _promoted, _refuse_bool_sub, _t

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401

_ROUNDING_MODES = (None, "trunc", "floor")


class TorchArithMethods:
    """Arithmetic under torch's method names; see the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ by name
    def lerp(self, end, weight) -> Tensor:
        """self + weight·(end − self) as torch's kernel computes it: that form for |weight| < ½,
        end − (end − self)·(1 − weight) otherwise, so weight 1 gives end exactly, and
        lerp(−inf, 1, 0.9) is −inf, not −inf + inf. Float16 computes in float32 and rounds once.
        Integer tensors and complex beside real ones are refused, as torch."""
        w_tensor = isinstance(weight, Tensor) or bool(getattr(weight, "ndim", 0))
        # a 0-d weight is a scalar to torch's check: a real one may weight complex tensors
        refuse_mixed("lerp", self, end=end, weight=weight if getattr(weight, "ndim", 0) else None)
        end = _t(end, self)
        _same_dtype(self, end=end, weight=weight if w_tensor and weight.ndim else None)
        for name, t in (("input", self), ("end", end)):
            if t.array.dtype.kind in "biu":
                raise NotImplementedError(
                    f"lerp: {name} is {t.dtype}; lerp needs floating or complex tensors (torch"
                    " refuses integer ones too)"
                )
        w = _t(weight, self) if w_tensor else weight
        if _all_half(self, end, *((w,) if w_tensor else ())):  # in float32, rounded once
            return self.float().lerp(end.float(), w.float() if w_tensor else w).half()
        d = end - self
        if not w_tensor:  # a number: one branch, with w and 1 − w in the tensors' precision
            if isinstance(weight, complex) and d.array.dtype.kind != "c":
                raise RuntimeError(
                    f"value cannot be converted to type {d.dtype} without overflow: lerp's"
                    f" weight {weight} is complex and the tensors are real"
                )
            w = xp.asarray(w, dtype=d.array.dtype)
            if abs(w) < 0.5:
                return _fused(self, Tensor(w), d, 1.0)
            return _fused(end, d, Tensor(1 - w), -1.0)
        small = (w.abs() < 0.5).detach()
        # each branch sees a harmless weight where it is not taken, so an infinite d in the
        # other branch cannot turn the untaken branch's zero gradient into NaN
        zero, one = w.new_zeros(()), w.new_ones(())
        near = _fused(self, w.where(small, zero), d, 1.0)
        far = _fused(end, d, 1 - w.where(~small, one), -1.0)
        return near.where(small, far)

    def add(self, other, *, alpha=1) -> Tensor:
        """self + alpha·other (float32: rounded once, as torch's fused multiply-add)."""
        if alpha == 1 and not isinstance(alpha, bool):
            return self + other
        if _fusable(self, other, alpha):
            return _fused(self, Tensor(xp.asarray(alpha, dtype=xp.float32)), other, 1.0)
        a, b = _alpha_terms(self, other, alpha, "add")
        return a + b

    def sub(self, other, *, alpha=1) -> Tensor:
        """self - alpha·other (float32: rounded once, as torch's fused multiply-add)."""
        if alpha == 1 and not isinstance(alpha, bool):
            return self - other
        if _fusable(self, other, alpha):
            return _fused(self, Tensor(xp.asarray(alpha, dtype=xp.float32)), other, -1.0)
        a, b = _alpha_terms(self, other, alpha, "sub")
        return a - b

    subtract = sub

    def mul(self, other) -> Tensor:
        """self · other."""
        return self * other

    multiply = mul

    def div(self, other, *, rounding_mode: str | None = None) -> Tensor:
        """self / other; rounded toward 0 ("trunc") or toward -inf ("floor") on request."""
        if rounding_mode not in _ROUNDING_MODES:
            raise ValueError(
                f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}"
            )
        if rounding_mode is None:
            return self / other
        return _rounding_div(self, _t(other, self), rounding_mode)

    divide = true_divide = div

    # ------------------------------------------------------------ rounding division, remainder
    def floor_divide(self, other) -> Tensor:
        """self // other, rounded toward -inf as Python's // (gradient 0)."""
        return _rounding_div(self, _t(other, self), "floor")

    __floordiv__ = floor_divide

    def __rfloordiv__(self, other) -> Tensor:
        return _rounding_div(_t(other, self), self, "floor")

    def remainder(self, other) -> Tensor:
        """self - other·floor(self/other): Python's %, the result has other's sign."""
        return apply(E.Remainder, *_promoted(self, _t(other, self)))

    __mod__ = remainder

    def __rmod__(self, other) -> Tensor:
        return apply(E.Remainder, *_promoted(_t(other, self), self))

    def fmod(self, other) -> Tensor:
        """self - other·trunc(self/other): C's fmod, the result has self's sign."""
        return apply(E.Remainder, *_promoted(self, _t(other, self)), truncate=True)

    # ------------------------------------------------------------ bitwise (bool: logical)
    # (each an op of ops/compare.py while an observer watches, straight on the arrays otherwise)
    def __and__(self, other) -> Tensor:
        return _bitwise(self, other, xp.bitwise_and, CO.BitwiseAnd, "bitwise_and_cpu")

    def __or__(self, other) -> Tensor:
        return _bitwise(self, other, xp.bitwise_or, CO.BitwiseOr, "bitwise_or_cpu")

    def __xor__(self, other) -> Tensor:
        return _bitwise(self, other, xp.bitwise_xor, CO.BitwiseXor, "bitwise_xor_cpu")

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    bitwise_and, bitwise_or, bitwise_xor = __and__, __or__, __xor__

    def __invert__(self) -> Tensor:
        if self.array.dtype.kind in "fc":  # torch's ~ raises TypeError, its kernel
            raise KernelTypeError(  # NotImplementedError: this is both
                f"\"bitwise_not_cpu\" not implemented for '{torch_dtype_name(self.array.dtype)}'"
                ": ~ (operator.invert) is only implemented on integer and Boolean-type tensors"
            )
        return apply(CO.BitwiseNot, self.array) if observers else Tensor(~self.array)

    bitwise_not = __invert__

    # ------------------------------------------------------------ in place (tensor_inplace.py)
    def add_(self, other, *, alpha=1) -> Tensor:
        """self += alpha·other in place; returns self."""
        return self._arith_("add_", lambda s: s.add(other, alpha=alpha))

    def sub_(self, other, *, alpha=1) -> Tensor:
        """self -= alpha·other in place; returns self."""
        return self._arith_("sub_", lambda s: s.sub(other, alpha=alpha))

    def mul_(self, other) -> Tensor:
        """self *= other in place; returns self."""
        return self._arith_("mul_", lambda s: s * other)

    def div_(self, other, *, rounding_mode: str | None = None) -> Tensor:
        """self /= other in place; returns self."""
        return self._arith_("div_", lambda s: s.div(other, rounding_mode=rounding_mode))


def _operand(other, like=None):
    """The other operand of a bitwise op as torch promotes it with ``like`` (self's array): a
    Python int takes self's integer dtype (wrapped around as torch casts it), a 0-d tensor of
    self's category does not widen it."""
    if isinstance(other, Tensor):
        b = other.array
        if (
            like is not None
            and b.ndim == 0
            and like.ndim
            and category(b.dtype) == category(like.dtype)
        ):
            return b.astype(like.dtype)
        return b
    if like is not None and type(other) is int and like.dtype.kind in "iu":
        return xp.asarray(wrap_int_scalar(like.dtype, other), like.dtype)
    return as_array(other)


def _rounding_div(a: Tensor, b: Tensor, mode: str) -> Tensor:
    """a / b rounded toward -inf ("floor") or 0 ("trunc"); integers stay integers, exactly."""
    return apply(E.RoundingDiv, *_promoted(a, b), mode=mode)


def _fused(base: Tensor, a: Tensor, b: Tensor, sign: float) -> Tensor:
    """base + sign·a·b rounded once, as torch's kernels compute it with a fused multiply-add:
    for float32 the product of two float32 values is exact in float64 and the sum rounds there
    first (equal to torch's on 100,000 random lerps, where two float32 roundings differed in
    11–25 % of them by an ulp); other dtypes take the two roundings."""
    if base.array.dtype == xp.float32 and a.array.dtype == b.array.dtype == xp.float32:
        p = a.double() * b.double()
        return (base.double() + p if sign > 0 else base.double() - p).float()
    return base + a * b if sign > 0 else base - a * b


def _same_dtype(a: Tensor, **others) -> None:
    """torch's RuntimeError where lerp's end, or a weight tensor with dimensions, has another
    dtype than input (torch casts neither; a 0-d weight is taken as a number)."""
    for name, t in others.items():
        if isinstance(t, Tensor) and t.array.dtype != a.array.dtype:
            want, got = (C_TYPE_NAMES.get(str(d.array.dtype), str(d.array.dtype)) for d in (a, t))
            raise RuntimeError(f"expected dtype {want} for `{name}` but got dtype {got}")


def _fusable(a, b, alpha) -> bool:
    """Whether a ± alpha·b is torch's float32 fused multiply-add: two float32 tensors and a
    real number alpha (other dtypes and a tensor alpha take the plain two roundings)."""
    fusable = (
        isinstance(b, Tensor)
        and a.array.dtype == b.array.dtype == xp.float32
        and isinstance(alpha, (int, float))
        and not isinstance(alpha, bool)
    )
    if fusable:
        check_scalar_fits(alpha, xp.float32)  # torch refuses an alpha past float32's range
    return fusable


def _alpha_terms(a: Tensor, other, alpha, name: str) -> tuple[Tensor, Tensor]:
    """a and alpha·other for torch's add/sub with alpha ≠ 1, both in the result dtype of a and
    other: alpha scales and never widens (int8 + 2·bool is int8, float16 + 2.5·int64 float16,
    where other·alpha first would give int64 and float32). torch's refusals: a floating alpha
    for an integer result, a bool alpha for a non-bool one, a bool operand in sub."""
    if name == "sub" and (a.array.dtype.kind == "b" or _is_bool(other)):
        _refuse_bool_sub(a, other)  # before alpha's checks, as torch
    a, b = _in_result_dtype(a, _t(other, a))
    target = a.array.dtype
    if isinstance(alpha, bool) and target.kind != "b":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if target.kind in "biu" and isinstance(alpha, float):
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number."
        )
    if type(alpha) in CHECKED_SCALARS:
        check_scalar_fits(alpha, target)  # int8 with alpha 1000 is refused, not wrapped
    if target.kind == "b":  # a + alpha·b in bools: a ∨ (alpha ∧ b)
        return a, b if alpha else b & False
    return a, b * alpha


def _bitwise(a: Tensor, other, fn, op, kernel: str) -> Tensor:
    """a & | ^ other in torch's result dtype (int32 0-d & int8 is int8, uint8 & int8 int16): an
    op of ops/compare.py while an observer watches, straight on the arrays otherwise; floats
    raise torch's NotImplementedError naming the kernel and the floating dtype (self's, else
    other's; float32 for a Python float), not NumPy's TypeError."""
    x, b = a.array, _operand(other, a.array)
    target = pair_target(x, b) if isinstance(other, Tensor) else None
    if target is not None and target.kind in "biu":  # a 0-d self does not widen other either
        x, b = x.astype(target, copy=False), b.astype(target, copy=False)
    if observers:
        return apply(op, x, b)
    try:
        return Tensor(fn(x, b))
    except TypeError:
        if a.array.dtype.kind in "fc":
            dtype = a.array.dtype
        else:
            dtype = other.array.dtype if isinstance(other, Tensor) else xp.dtype(xp.float32)
        raise not_implemented_for(kernel, dtype) from None


def _all_half(*values) -> bool:
    """Whether every value is a float16 Tensor (then an op of several steps runs in float32
    and rounds once, as torch's fused half kernels)."""
    return all(isinstance(v, Tensor) and v.array.dtype == xp.float16 for v in values)
