"""PyTorch's further elementwise maths as Tensor methods: trigonometric and hyperbolic
functions and their inverses, log₂/log₁₀/2ˣ, the error and gamma functions, sinc, logit,
atan2, hypot, xlogy, logaddexp, float_power, nan_to_num, addcmul/addcdiv, clamp_min/clamp_max,
and the boolean tests signbit, heaviside, isclose, logical_xor.

``TorchMathMethods`` is a mixin for ``Tensor`` (tensor.py); it inherits the reductions and
array methods of ``TorchReduceMethods`` (tensor_torch_reduce.py). Where torch's gradient
needs care (a pole, 0·log 0, overflow) the method runs an op of ops/elementwise_more.py;
otherwise it composes Tensor operations, whose gradients are then torch's by construction.
Integer and bool inputs of floating functions compute in the default float dtype, as torch.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py (see
the note at the end of tensor.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .backend import python_scalar as _py
from .backend import xp
from .errors import InputTypeError, KernelTypeError
from .function import is_grad_enabled, observers
from .ops import compare as CO
from .ops import complex as C
from .ops import elementwise as E
from .ops import elementwise_more as M
from .ops import rounding as RO
from .ops.complex_refuse import refuse_complex
from .promotion import result_dtype, torch_dtype_name
from .scalar_fits import check_scalar_fits
from .tensor_methods import _float_operands, _floating, _in_result_dtype, _promoted, _t
from .tensor_torch_arith import _all_half, _fused
from .tensor_torch_reduce import TorchReduceMethods

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401

_Number = (int, float)
_ANGLES = "an angle is real: convert z.angle() instead"


def _unary(op, name: str):
    """The method ``name`` running ``op`` on self (integers as the default float)."""

    def method(self) -> Tensor:
        return apply(op, _floating(self))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"torch's Tensor.{name}: {op.__doc__}"
    return method


def _floats(self, other, name: str, integers: bool = True):
    """self and other promoted to one floating dtype (integers: the default float, as torch's
    atan2 and xlogy; a TypeError, as torch's, where ``integers`` is False)."""
    b = _t(other, self)
    if not integers and {self.array.dtype.kind, b.array.dtype.kind} <= set("biu"):
        dtype = torch_dtype_name(result_dtype(self.array, b.array))
        raise KernelTypeError(  # torch names the kernel and the operands' common dtype
            f"\"{name}_cpu\" not implemented for '{dtype}': {name}() takes floating tensors, not"
            " integer or bool ones"
        )
    return _float_operands(self, b)


class TorchMathMethods(TorchReduceMethods):
    """torch's further elementwise maths; see the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ one operand, ops of their own
    tan = _unary(M.Tan, "tan")
    asin = arcsin = _unary(M.Asin, "asin")
    acos = arccos = _unary(M.Acos, "acos")
    atan = arctan = _unary(M.Atan, "atan")
    sinh = _unary(M.Sinh, "sinh")
    cosh = _unary(M.Cosh, "cosh")
    asinh = arcsinh = _unary(M.Asinh, "asinh")
    acosh = arccosh = _unary(M.Acosh, "acosh")
    atanh = arctanh = _unary(M.Atanh, "atanh")
    log2 = _unary(M.Log2, "log2")
    log10 = _unary(M.Log10, "log10")
    erf = _unary(M.Erf, "erf")
    erfc = _unary(M.Erfc, "erfc")
    erfinv = _unary(M.Erfinv, "erfinv")
    lgamma = _unary(M.Lgamma, "lgamma")
    digamma = _unary(M.Digamma, "digamma")
    sinc = _unary(M.Sinc, "sinc")

    def logit(self, eps=None) -> Tensor:
        """log(z/(1 − z)), z = self clamped to [eps, 1 − eps] when eps is given."""
        return apply(M.Logit, _floating(self), eps=eps)

    # ------------------------------------------------------------ one operand, composed
    def exp2(self) -> Tensor:
        """2ˣ;  ∂/∂x = 2ˣ ln 2 (the power op's own derivative)."""
        return 2.0 ** _floating(self)

    def deg2rad(self) -> Tensor:
        """self · π/180."""
        refuse_complex(self.array, "deg2rad", why=_ANGLES)
        return _floating(self) * (math.pi / 180)

    def rad2deg(self) -> Tensor:
        """self · 180/π."""
        refuse_complex(self.array, "rad2deg", why=_ANGLES)
        return _floating(self) * (180 / math.pi)

    def sgn(self) -> Tensor:
        """sign(self) for real tensors: −1, 0 or 1 (gradient 0); a bool tensor is its own sgn.
        For complex z: z/|z| (0 at z = 0), composed so that it has torch's gradient."""
        if self.array.dtype.kind == "c":
            r = self.abs()
            zero = r == 0
            return (self / r.masked_fill(zero, 1)).masked_fill(zero, 0)
        return Tensor(self.array.copy()) if self.array.dtype.kind == "b" else self.sign()

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None) -> Tensor:
        """nan → ``nan``, +inf → ``posinf``, −inf → ``neginf`` (None: the dtype's largest and
        lowest finite values). The gradient passes where self is finite, 0 elsewhere."""
        return self._nan_to_num(nan, posinf, neginf, False)

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None) -> Tensor:
        """torch.Tensor.nan_to_num_: ``nan_to_num`` in place; returns self. Unlike the
        out-of-place form, torch records it for a complex tensor too (gradient g where finite)."""
        return self._arith_("nan_to_num_", lambda s: s._nan_to_num(nan, posinf, neginf, True))

    def _nan_to_num(self, nan, posinf, neginf, in_place: bool) -> Tensor:
        if self.array.dtype.kind not in "fc":
            return Tensor(self.array.copy())
        value = Tensor(xp.nan_to_num(self.array, nan=nan, posinf=posinf, neginf=neginf))
        if not (self.requires_grad and is_grad_enabled()):
            return value
        if self.array.dtype.kind == "c" and not in_place:  # torch's out-of-place form refuses
            raise RuntimeError(
                f"nan_to_num(): does not support automatic differentiation for outputs with"
                f" complex dtype (got {self.array.dtype}), as torch; detach z, or apply it to"
                " z.real and z.imag"
            )
        return apply(E.Where, self, value, cond=xp.isfinite(self.array))

    # ------------------------------------------------------------ two operands
    def atan2(self, other) -> Tensor:
        """atan2(self, other): the angle of the point (other, self), in (−π, π]."""
        return apply(M.Atan2, *_floats(self, other, "atan2"))

    arctan2 = atan2

    def hypot(self, other) -> Tensor:
        """√(self² + other²), without overflow of the squares."""
        return apply(M.Hypot, *_floats(self, other, "hypot", integers=False))

    def xlogy(self, other) -> Tensor:
        """self · log(other), 0 where self = 0 (nan where other is nan)."""
        return apply(M.Xlogy, *_floats(self, other, "xlogy"))

    def logaddexp(self, other) -> Tensor:
        """log(e^self + e^other), stable for any magnitudes."""
        return apply(M.LogAddExp, *_floats(self, other, "logaddexp", integers=False))

    def logaddexp2(self, other) -> Tensor:
        """log₂(2^self + 2^other), stable for any magnitudes."""
        a, b = _floats(self, other, "logaddexp2", integers=False)
        return apply(M.LogAddExp, a, b, base2=True)

    def float_power(self, exponent) -> Tensor:
        """self ** exponent computed in float64, or complex128 where either is complex (both
        operands cast to it, as torch; a complex operand kept its real part only before)."""
        exponent = _py(exponent)
        complex_ = (
            self.dtype.kind == "c"
            or isinstance(exponent, complex)
            or (isinstance(exponent, Tensor) and exponent.dtype.kind == "c")
        )
        target = xp.complex128 if complex_ else xp.float64
        x = self.astype(target)
        if isinstance(exponent, _Number):
            return x**exponent
        return x ** _t(exponent, x).astype(target)

    def addcmul(self, tensor1, tensor2, *, value=1) -> Tensor:
        """self + value · tensor1 · tensor2 (float16 in float32, rounded once, as torch's)."""
        if _all_half(self, tensor1, tensor2):
            return self.float().addcmul(tensor1.float(), tensor2.float(), value=value).half()
        self, tensor1, tensor2 = _in_result_dtype(*(_t(t, self) for t in (self, tensor1, tensor2)))
        target = self.array.dtype  # torch's result dtype, which value never widens:
        if target.kind in "iu" and type(value) in (int, float):  # as torch converts it:
            value = int(check_scalar_fits(value, target))  # truncated, or refused past range
        t1 = tensor1 if value == 1 else value * tensor1
        if isinstance(t1, Tensor) and isinstance(tensor2, Tensor):  # one rounding, as torch's
            return _fused(self, t1, tensor2, 1.0)  # fused multiply-add (for float32)
        return self + t1 * tensor2

    def addcdiv(self, tensor1, tensor2, *, value=1) -> Tensor:
        """self + value · tensor1 / tensor2 (integer tensor1 and tensor2 refused, as torch)."""
        kinds = {as_array(t).dtype.kind for t in (tensor1, tensor2)}
        if kinds <= set("biu"):
            raise TypeError(
                "addcdiv(): integer division of tensor1 by tensor2 is not supported (torch"
                " refuses it too); convert them to a floating dtype"
            )
        if _all_half(self, tensor1, tensor2):  # in float32, rounded once, as torch's
            return self.float().addcdiv(tensor1.float(), tensor2.float(), value=value).half()
        return self + (tensor1 / tensor2 if value == 1 else value * tensor1 / tensor2)

    def clamp_min(self, min) -> Tensor:  # noqa: A002 - torch's argument name
        """max(self, min): the gradient goes to self where self ≥ min, else to min (torch's
        rule for a tensor bound; a number bound passes the gradient where self ≥ min)."""
        min = _py(min)  # noqa: A001 - a NumPy scalar bound is the number it holds, as torch
        return self._bound(min, lambda a, b: a >= b, lo=min, hi=None)

    def clamp_max(self, max) -> Tensor:  # noqa: A002 - torch's argument name
        """min(self, max): the gradient goes to self where self ≤ max, else to max."""
        max = _py(max)  # noqa: A001
        return self._bound(max, lambda a, b: a <= b, lo=None, hi=max)

    def _bound(self, bound, keep, lo, hi) -> Tensor:
        if bound is None:  # torch's clamp_min/clamp_max need their bound
            raise TypeError("clamp_min()/clamp_max(): the bound must be a number or a tensor")
        if isinstance(bound, _Number):
            return self.clip(lo, hi)  # (its dtype rules for number bounds)
        a, b = _promoted(self, _t(bound, self))
        cond = keep(a.array, b.array) | (a.array != a.array)  # a nan in self stays nan
        return apply(E.Where, a, b, cond=cond)

    # ------------------------------------------------------------ complex numbers (ops/complex.py)
    @property
    def real(self) -> Tensor:
        """torch.Tensor.real: Re z (a copy here, not a view); a real tensor is its own."""
        return apply(C.Real, self) if self.array.dtype.kind == "c" else self

    @property
    def imag(self) -> Tensor:
        """torch.Tensor.imag: Im z (a copy here, not a view); refused on real tensors."""
        if self.array.dtype.kind != "c":
            raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
        return apply(C.Imag, self)

    def angle(self) -> Tensor:
        """torch.Tensor.angle: atan2(Im z, Re z); for a real tensor 0 or π (nan stays nan)."""
        if self.array.dtype.kind in "biu":
            return _floating(self).angle()
        return apply(C.Angle, self)

    # ------------------------------------------------------------ boolean results, no gradient
    def signbit(self) -> Tensor:
        """True where the sign bit is set (−0.0 included)."""
        d = self.array
        refuse_complex(d, "signbit", NotImplementedError, "test z.real.signbit() instead")
        return Tensor(xp.signbit(d) if d.dtype.kind == "f" else d < 0)

    def heaviside(self, values) -> Tensor:
        """0 where self < 0, ``values`` where self = 0, 1 where self > 0 (nan: 0, as torch)."""
        v = values.array if isinstance(values, Tensor) else xp.asarray(values, self.array.dtype)
        for a in (self.array, v):  # torch's RuntimeError: "not yet implemented for complex"
            refuse_complex(a, "heaviside", why="it compares x with 0: apply it to z.real")
        if v.dtype != self.array.dtype:  # torch's RuntimeError, ember's TypeError
            raise InputTypeError(
                f"heaviside(): self is {self.array.dtype} but values is {v.dtype}; torch needs"
                " one dtype for both"
            )
        if observers:  # an op (ops/rounding.py) that the ONNX tracer sees
            return apply(RO.Heaviside, self.array, v)
        return Tensor(RO.Heaviside().forward(self.array, v))

    def isclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan=False) -> Tensor:
        """|self − other| ≤ atol + rtol·|other| elementwise (infinities equal when equal). A
        tensor ``other`` must have self's dtype, as torch's (Float did not match Double)."""
        if isinstance(other, Tensor) and other.array.dtype != self.array.dtype:
            raise RuntimeError(
                f"{torch_dtype_name(self.array.dtype)} did not match"
                f" {torch_dtype_name(other.array.dtype)}: isclose() compares tensors of one dtype"
            )
        if observers:  # an op (ops/rounding.py) that the ONNX tracer sees
            b = as_array(other)
            return apply(RO.IsClose, self.array, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
        return Tensor(xp.isclose(self.array, as_array(other), rtol, atol, equal_nan))

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating one (float16, float32, float64)."""
        return self.array.dtype.kind == "f"

    def logical_xor(self, other) -> Tensor:
        """Elementwise XOR of the truth values."""
        from .tensor_torch_logic import logic  # the other logical ops' path (its errors too)

        return logic(CO.LogicalXor, self.array, as_array(other))

    def stft(self, n_fft: int, *args, **kwargs) -> Tensor:
        """torch's Tensor.stft: ember.stft(self, …) (torch_stft.py)."""
        from .torch_stft import stft

        return stft(self, n_fft, *args, **kwargs)

    def istft(self, n_fft: int, *args, **kwargs) -> Tensor:
        """torch's Tensor.istft: ember.istft(self, …) (torch_stft.py)."""
        from .torch_stft import istft

        return istft(self, n_fft, *args, **kwargs)
