"""torch's top-level functions on ``ember.*``: ``ember.exp(x)``, ``ember.sum(x, dim=1)`` …

Each one is a thin wrapper over the Tensor method or the F function of the same meaning (no
maths of its own), with torch's argument names and order; an ``input`` that is not a Tensor
(a number, list or array) is taken as a constant tensor. Elementwise maths is here;
reductions in torch_reductions.py; shapes, products, einsum and softmax in torch_shape.py;
creation, dtypes, grad modes and random draws in torch_creation.py; this module re-exports
them all (``__all__``), so ``ember/__init__.py`` takes them in one import.

These names shadow Python's builtins (sum, max, abs, round, …) inside this module only.
"""

from __future__ import annotations

from . import functional as F
from .tensor import Tensor
from .tensor_methods import MaxResult, MinResult
from .torch_creation import (
    as_tensor,
    bernoulli,
    float16,
    get_default_dtype,
    half,
    inference_mode,
    int8,
    int16,
    int32,
    is_inference_mode_enabled,
    is_tensor,
    multinomial,
    normal,
    set_default_dtype,
    uint8,
    uint16,
    uint32,
    uint64,
)
from .torch_reductions import (
    all,
    any,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    numel,
    std,
    sum,
    var,
)
from .torch_shape import (  # _t: input as a Tensor, shared with torch_shape's wrappers
    _t,
    addmm,
    as_strided,
    bmm,
    broadcast_to,
    chunk,
    diag,
    dot,
    einsum,
    flatten,
    flip,
    log_softmax,
    matmul,
    mm,
    movedim,
    narrow,
    outer,
    permute,
    reshape,
    roll,
    softmax,
    split,
    squeeze,
    swapaxes,
    swapdims,
    t,
    transpose,
    tril,
    triu,
    unbind,
    unsqueeze,
)


def _pair(a, b):
    """a as a Tensor unless b is one (then Python's reflected operators of b do the work)."""
    return a if isinstance(a, Tensor) or isinstance(b, Tensor) else Tensor(a)


# ------------------------------------------------------------ elementwise
def exp(input) -> Tensor:  # noqa: A002
    """torch.exp: eˣ."""
    return _t(input).exp()


def log(input) -> Tensor:  # noqa: A002
    """torch.log: the natural logarithm."""
    return _t(input).log()


def log1p(input) -> Tensor:  # noqa: A002
    """torch.log1p: log(1 + x), exact for small x."""
    return _t(input).log1p()


def expm1(input) -> Tensor:  # noqa: A002
    """torch.expm1: eˣ - 1, exact for small x."""
    return _t(input).expm1()


def sqrt(input) -> Tensor:  # noqa: A002
    """torch.sqrt: √x."""
    return _t(input).sqrt()


def rsqrt(input) -> Tensor:  # noqa: A002
    """torch.rsqrt: 1/√x."""
    return _t(input).rsqrt()


def abs(input) -> Tensor:  # noqa: A002
    """torch.abs: |x|."""
    return _t(input).abs()


def neg(input) -> Tensor:  # noqa: A002
    """torch.neg: -x."""
    return _t(input).neg()


negative = neg


def sign(input) -> Tensor:  # noqa: A002
    """torch.sign: -1, 0 or 1 (zero gradient)."""
    return _t(input).sign()


def sin(input) -> Tensor:  # noqa: A002
    """torch.sin."""
    return _t(input).sin()


def cos(input) -> Tensor:  # noqa: A002
    """torch.cos."""
    return _t(input).cos()


def tanh(input) -> Tensor:  # noqa: A002
    """torch.tanh."""
    return F.tanh(_t(input))


def sigmoid(input) -> Tensor:  # noqa: A002
    """torch.sigmoid: σ(x) = 1 / (1 + e⁻ˣ)."""
    return F.sigmoid(_t(input))


def relu(input) -> Tensor:  # noqa: A002
    """torch.relu: max(x, 0)."""
    return F.relu(_t(input))


def clamp(input, min=None, max=None) -> Tensor:  # noqa: A002
    """torch.clamp (alias clip): min ≤ x ≤ max; bounds are numbers or tensors."""
    return _t(input).clamp(min, max)


clip = clamp


def pow(input, exponent) -> Tensor:  # noqa: A002
    """torch.pow: input ** exponent (either may be a number)."""
    return _pair(input, exponent) ** exponent


def square(input) -> Tensor:  # noqa: A002
    """torch.square: x²."""
    return _t(input).square()


def reciprocal(input) -> Tensor:  # noqa: A002
    """torch.reciprocal: 1/x."""
    return _t(input).reciprocal()


def floor(input) -> Tensor:  # noqa: A002
    """torch.floor (zero gradient)."""
    return _t(input).floor()


def ceil(input) -> Tensor:  # noqa: A002
    """torch.ceil (zero gradient)."""
    return _t(input).ceil()


def round(input, *, decimals: int | None = None) -> Tensor:  # noqa: A002
    """torch.round: half to even, as torch (zero gradient); integers refuse ``decimals``."""
    return _t(input).round(decimals)


def trunc(input) -> Tensor:  # noqa: A002
    """torch.trunc: round toward zero (zero gradient)."""
    return _t(input).trunc()


def frac(input) -> Tensor:  # noqa: A002
    """torch.frac: x - trunc(x)."""
    return _t(input).frac()


def lerp(input, end, weight) -> Tensor:  # noqa: A002
    """torch.lerp: input + weight·(end - input)."""
    return _t(input).lerp(end, weight)


def add(input, other, *, alpha=1) -> Tensor:  # noqa: A002
    """torch.add: input + alpha·other."""
    x = _pair(input, other)
    if isinstance(x, Tensor):  # the method: float32 rounds once, as torch's fused kernel
        return x.add(other, alpha=alpha)
    return x + (other if alpha == 1 else other * alpha)


def sub(input, other, *, alpha=1) -> Tensor:  # noqa: A002
    """torch.sub: input - alpha·other."""
    x = _pair(input, other)
    if isinstance(x, Tensor):  # the method: float32 rounds once, as torch's fused kernel
        return x.sub(other, alpha=alpha)
    return x - (other if alpha == 1 else other * alpha)


subtract = sub


def mul(input, other) -> Tensor:  # noqa: A002
    """torch.mul: input · other."""
    return _pair(input, other) * other


multiply = mul


def div(input, other, *, rounding_mode: str | None = None) -> Tensor:  # noqa: A002
    """torch.div: input / other, then rounded when rounding_mode is "trunc" or "floor"."""
    return _t(input).div(other, rounding_mode=rounding_mode)


def floor_divide(input, other) -> Tensor:  # noqa: A002
    """torch.floor_divide: input // other, rounded toward -inf (gradient 0)."""
    return div(input, other, rounding_mode="floor")


def remainder(input, other) -> Tensor:  # noqa: A002
    """torch.remainder: Python's %, the result takes other's sign."""
    return _pair(input, other) % other


def fmod(input, other) -> Tensor:  # noqa: A002
    """torch.fmod: C's fmod, the result takes input's sign."""
    return _t(input).fmod(other)


def bitwise_and(input, other) -> Tensor:  # noqa: A002
    """torch.bitwise_and (logical for bool tensors)."""
    return _t(input) & other


def bitwise_or(input, other) -> Tensor:  # noqa: A002
    """torch.bitwise_or (logical for bool tensors)."""
    return _t(input) | other


def bitwise_xor(input, other) -> Tensor:  # noqa: A002
    """torch.bitwise_xor (logical for bool tensors)."""
    return _t(input) ^ other


def bitwise_not(input) -> Tensor:  # noqa: A002
    """torch.bitwise_not (logical for bool tensors)."""
    return ~_t(input)


divide = true_divide = div


def isnan(input) -> Tensor:  # noqa: A002
    """torch.isnan."""
    return _t(input).isnan()


def isinf(input) -> Tensor:  # noqa: A002
    """torch.isinf."""
    return _t(input).isinf()


def isfinite(input) -> Tensor:  # noqa: A002
    """torch.isfinite."""
    return _t(input).isfinite()


def logical_and(input, other) -> Tensor:  # noqa: A002
    """torch.logical_and."""
    return _t(input).logical_and(other)


def logical_or(input, other) -> Tensor:  # noqa: A002
    """torch.logical_or."""
    return _t(input).logical_or(other)


def logical_not(input) -> Tensor:  # noqa: A002
    """torch.logical_not."""
    return _t(input).logical_not()


def eq(input, other) -> Tensor:  # noqa: A002
    """torch.eq: input == other (bool); other a tensor or a number (else torch's TypeError)."""
    return _t(input).eq(other)


def ne(input, other) -> Tensor:  # noqa: A002
    """torch.ne: input != other (bool); other a tensor or a number (else torch's TypeError)."""
    return _t(input).ne(other)


def lt(input, other) -> Tensor:  # noqa: A002
    """torch.lt: input < other (bool)."""
    return _t(input) < other


def le(input, other) -> Tensor:  # noqa: A002
    """torch.le: input <= other (bool)."""
    return _t(input) <= other


def gt(input, other) -> Tensor:  # noqa: A002
    """torch.gt: input > other (bool)."""
    return _t(input) > other


def ge(input, other) -> Tensor:  # noqa: A002
    """torch.ge: input >= other (bool)."""
    return _t(input) >= other


# fmt: off
__all__ = [
    "MaxResult", "MinResult", "abs", "add", "addmm", "all", "any", "argmax", "argmin",
    "as_strided", "as_tensor", "bernoulli", "bmm", "broadcast_to", "ceil", "chunk", "clamp",
    "clip", "cos",
    "diag", "div", "divide", "dot", "einsum", "eq", "exp", "flatten", "flip", "float16", "floor",
    "frac", "ge", "get_default_dtype", "gt", "half", "inference_mode", "int16", "int32", "int8",
    "is_inference_mode_enabled",
    "is_tensor", "isfinite", "isinf", "isnan", "le", "lerp", "log", "log1p", "expm1", "log_softmax",
    "logical_and",
    "logical_not", "logical_or", "logsumexp", "lt", "matmul", "max", "mean", "min", "mm",
    "movedim", "mul", "multinomial", "multiply", "narrow", "ne", "neg", "negative", "normal",
    "numel", "outer", "permute", "pow", "reciprocal", "relu", "reshape", "roll", "round", "rsqrt",
    "set_default_dtype", "sigmoid", "sign", "sin", "softmax", "split", "sqrt", "square",
    "squeeze", "std", "sub", "subtract", "sum", "swapaxes", "swapdims", "t", "tanh", "transpose",
    "tril", "triu", "true_divide", "trunc", "uint8", "uint16", "uint32", "uint64", "unbind",
    "unsqueeze", "var",
    "floor_divide", "remainder", "fmod", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not",
]
# fmt: on
