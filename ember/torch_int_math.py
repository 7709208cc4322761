"""ember.* functions for torch's float and integer maths: frexp, ldexp, gcd, lcm, copysign, as
torch's top-level functions; ``__all__`` lists them.

frexp's mantissa is a primitive (FrexpMantissa, ember/ops/linalg_funcs.py); ldexp and copysign
compose differentiable ops (pow, abs, where), with the gradients torch gives; gcd and lcm work on
integers and carry none.
"""

from __future__ import annotations

from collections import namedtuple

from .backend import xp
from .ops.complex_refuse import refuse_complex
from .ops.linalg_funcs import FrexpMantissa
from .promotion import default_float, result_dtype
from .tensor import Tensor, apply
from .torch_linalg_funcs import _name, _t, _zero_grad_one

__all__ = ["copysign", "frexp", "gcd", "lcm", "ldexp"]

#: Named as torch.return_types: ``mantissa, exponent = ember.frexp(x)``
FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])


def frexp(input) -> FrexpResult:  # noqa: A002
    """torch.frexp: (mantissa, exponent) with input = mantissa·2^exponent, 0.5 ≤ |mantissa| < 1."""
    x = _t(input)
    if x.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    fn_out = apply(FrexpMantissa, x)
    exponent = xp.frexp(x.array)[1].astype(xp.int32)
    return FrexpResult(fn_out, Tensor(exponent))


def _need_tensor(name: str, other, pos: int = 2, arg: str = "other") -> Tensor:
    if not isinstance(other, Tensor):
        raise TypeError(
            f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not"
            f" {type(other).__name__}"
        )
    return other


def ldexp(input, other) -> Tensor:  # noqa: A002
    """torch.ldexp: input·2^other."""
    x, e = _t(input), _need_tensor("ldexp", other)
    if e.dtype.kind == "b" and x.dtype.kind == "f":  # torch's real kernel has no bool exponent
        raise NotImplementedError(
            "\"ldexp_cpu_exp\" not implemented for 'Bool': ldexp's exponent of a floating input"
            " must be an integer or floating tensor"
        )
    if e.dtype.kind in "biu" and x.dtype.kind in "fc":
        # a floating input keeps its dtype, as torch's; 2^e and the (exact) product in
        # float64, so that float32's 0·2^200 is 0 and 1e-40·2^130 finite, as torch's ldexp
        work = xp.float64
        return (x * (2.0 ** e.astype(work))).astype(x.dtype)
    if e.dtype.kind in "biu":
        e = e.astype(default_float())
    return x * (2.0**e)


def _integers(name: str, input, other) -> tuple:  # noqa: A002
    """Both operands in their common dtype, which must be an integer one (a bool operand
    beside an integer one is promoted to it, as torch's; two bools are refused)."""
    a, b = _t(input), _need_tensor(name, other)
    dtype = result_dtype(a.array, b.array)  # a 0-d operand does not widen (int8 with 0-d int32)
    if xp.dtype(dtype).kind not in "iu":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_name(dtype)}'")
    return a.array.astype(dtype, copy=False), b.array.astype(dtype, copy=False)


def gcd(input, other) -> Tensor:  # noqa: A002
    """torch.gcd: the greatest common divisor of |input| and |other| (integers; gcd(0, 0) = 0)."""
    return Tensor(xp.gcd(*_integers("gcd", input, other)))


def lcm(input, other) -> Tensor:  # noqa: A002
    """torch.lcm: the least common multiple |input·other| / gcd(input, other) (integers)."""
    return Tensor(xp.lcm(*_integers("lcm", input, other)))


def copysign(input, other) -> Tensor:  # noqa: A002
    """torch.copysign: |input| with the sign of other (its sign bit: −0.0 counts as negative)."""
    x = _t(input)
    for a in (x.array, other.array if isinstance(other, Tensor) else xp.asarray(other)):
        refuse_complex(a, "copysign", NotImplementedError, "for a unit phase use z.sgn()")
    if isinstance(other, Tensor):
        s = xp.signbit(other.array) if other.dtype.kind == "f" else other.array < 0
        dtype = result_dtype(x.array, other.array)  # int64 with 0-d float64 is float64
    else:
        s = xp.signbit(xp.asarray(other, dtype=xp.float64))
        dtype = x.dtype
    if xp.dtype(dtype).kind != "f":
        dtype = default_float()
    sign = Tensor(xp.where(s, -1.0, 1.0).astype(dtype))
    x = x.astype(dtype)
    if x.requires_grad:  # torch's gradient: sign(x)·sign(other) ḡ, 0 where x = 0
        x = x.where(x.array != 0, Tensor(xp.zeros((), dtype=dtype)))
    out = x.abs() * sign
    if isinstance(other, Tensor) and other.requires_grad:  # other: a zero gradient, as torch
        out = out * _zero_grad_one(other.astype(dtype))
    return out
