"""torch's further top-level maths on ``ember.*``: ``ember.atan2(y, x)``, ``ember.erf(x)``,
``ember.quantile(x, q)`` …

Each function is a thin wrapper over the Tensor method of the same name (tensor_torch_math.py,
tensor_torch_reduce.py), with torch's argument names and order; an ``input`` that is not a
Tensor (a number, list or array) is taken as a constant tensor. var_mean and std_mean, which
torch has only here, pair Tensor.var/std with Tensor.mean. The array functions (diff, cross,
meshgrid, searchsorted, cdist …) are in torch_math_arrays.py; this module re-exports them, so
its ``__all__`` lists every public name of both.

These names shadow Python's builtins (min, max) inside this module only.
"""

from __future__ import annotations

from .backend import xp
from .tensor import Tensor
from .tensor_methods import _t as _weak  # a number as a tensor of a weak scalar's dtype
from .torch_math_arrays import (
    bincount,
    bucketize,
    cartesian_prod,
    cdist,
    cross,
    diag_embed,
    diagonal,
    diff,
    histc,
    meshgrid,
    searchsorted,
    tensor_split,
    tril_indices,
    triu_indices,
)
from .torch_shape import _t


# ------------------------------------------------------------ elementwise
def tan(input) -> Tensor:  # noqa: A002
    """torch.tan: tan x."""
    return _t(input).tan()


def asin(input) -> Tensor:  # noqa: A002
    """torch.asin: asin x (alias arcsin)."""
    return _t(input).asin()


arcsin = asin


def acos(input) -> Tensor:  # noqa: A002
    """torch.acos: acos x (alias arccos)."""
    return _t(input).acos()


arccos = acos


def atan(input) -> Tensor:  # noqa: A002
    """torch.atan: atan x (alias arctan)."""
    return _t(input).atan()


arctan = atan


def sinh(input) -> Tensor:  # noqa: A002
    """torch.sinh: sinh x."""
    return _t(input).sinh()


def cosh(input) -> Tensor:  # noqa: A002
    """torch.cosh: cosh x."""
    return _t(input).cosh()


def asinh(input) -> Tensor:  # noqa: A002
    """torch.asinh: asinh x (alias arcsinh)."""
    return _t(input).asinh()


arcsinh = asinh


def acosh(input) -> Tensor:  # noqa: A002
    """torch.acosh: acosh x (alias arccosh)."""
    return _t(input).acosh()


arccosh = acosh


def atanh(input) -> Tensor:  # noqa: A002
    """torch.atanh: atanh x (alias arctanh)."""
    return _t(input).atanh()


arctanh = atanh


def log2(input) -> Tensor:  # noqa: A002
    """torch.log2: log₂ x."""
    return _t(input).log2()


def log10(input) -> Tensor:  # noqa: A002
    """torch.log10: log₁₀ x."""
    return _t(input).log10()


def exp2(input) -> Tensor:  # noqa: A002
    """torch.exp2: 2ˣ."""
    return _t(input).exp2()


def erf(input) -> Tensor:  # noqa: A002
    """torch.erf: the error function."""
    return _t(input).erf()


def erfc(input) -> Tensor:  # noqa: A002
    """torch.erfc: 1 − erf x, computed directly."""
    return _t(input).erfc()


def erfinv(input) -> Tensor:  # noqa: A002
    """torch.erfinv: the inverse error function."""
    return _t(input).erfinv()


def lgamma(input) -> Tensor:  # noqa: A002
    """torch.lgamma: log|Γ(x)|."""
    return _t(input).lgamma()


def digamma(input) -> Tensor:  # noqa: A002
    """torch.digamma: ψ(x) = d/dx log Γ(x)."""
    return _t(input).digamma()


def sinc(input) -> Tensor:  # noqa: A002
    """torch.sinc: sin(πx)/(πx), 1 at 0."""
    return _t(input).sinc()


def deg2rad(input) -> Tensor:  # noqa: A002
    """torch.deg2rad: degrees to radians."""
    return _t(input).deg2rad()


def rad2deg(input) -> Tensor:  # noqa: A002
    """torch.rad2deg: radians to degrees."""
    return _t(input).rad2deg()


def sgn(input) -> Tensor:  # noqa: A002
    """torch.sgn: the sign (gradient 0)."""
    return _t(input).sgn()


def signbit(input) -> Tensor:  # noqa: A002
    """torch.signbit: True where the sign bit is set."""
    return _t(input).signbit()


def trace(input) -> Tensor:  # noqa: A002
    """torch.trace: the sum of a matrix's diagonal."""
    return _t(input).trace()


def is_floating_point(input) -> bool:  # noqa: A002
    """torch.is_floating_point: whether input's dtype is a floating one."""
    return _t(input).is_floating_point()


def atan2(input, other) -> Tensor:  # noqa: A002
    """torch.atan2: the angle of (other, input) (alias arctan2)."""
    return _t(input).atan2(other)


arctan2 = atan2


def hypot(input, other) -> Tensor:  # noqa: A002
    """torch.hypot: √(input² + other²)."""
    return _t(input).hypot(other)


def logaddexp(input, other) -> Tensor:  # noqa: A002
    """torch.logaddexp: log(e^input + e^other), stable."""
    return _t(input).logaddexp(other)


def logaddexp2(input, other) -> Tensor:  # noqa: A002
    """torch.logaddexp2: log₂(2^input + 2^other), stable."""
    return _t(input).logaddexp2(other)


def logical_xor(input, other) -> Tensor:  # noqa: A002
    """torch.logical_xor: elementwise XOR of the truth values."""
    return _t(input).logical_xor(other)


def kron(input, other) -> Tensor:  # noqa: A002
    """torch.kron: the Kronecker product."""
    return _t(input).kron(other)


# ------------------------------------------------------------ elementwise, with arguments
def logit(input, eps=None) -> Tensor:  # noqa: A002
    """torch.logit: log(z/(1 − z)), z = input clamped to [eps, 1 − eps] when eps is given."""
    return _t(input).logit(eps)


def refuse_two_numbers(name: str, input, other) -> None:  # noqa: A002
    """torch's TypeError for a two-operand function given two Python numbers (it has overloads
    for (Tensor, Tensor), (Number, Tensor) and (Tensor, Number) only)."""
    if isinstance(input, (int, float)) and isinstance(other, (int, float)):
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got"
            f" ({type(input).__name__}, {type(other).__name__}), but expected one of:"
            " (Tensor input, Tensor other), (Number self, Tensor other),"
            " (Tensor self, Number other)"
        )


def xlogy(input, other) -> Tensor:  # noqa: A002
    """torch.xlogy: input · log(other), 0 where input = 0 (either may be a number, not both)."""
    refuse_two_numbers("xlogy", input, other)
    if not isinstance(input, Tensor) and isinstance(other, Tensor):
        return _weak(input, other).xlogy(other)  # a number takes other's dtype, as torch's
    return _t(input).xlogy(other)


def float_power(input, exponent) -> Tensor:  # noqa: A002
    """torch.float_power: input ** exponent in float64 (either may be a number)."""
    if not isinstance(input, Tensor):
        dtype = xp.complex128 if isinstance(input, complex) else xp.float64
        return Tensor(xp.asarray(input, dtype)).float_power(exponent)
    return input.float_power(exponent)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None) -> Tensor:  # noqa: A002
    """torch.nan_to_num: nan, +inf, −inf replaced by finite numbers."""
    return _t(input).nan_to_num(nan, posinf, neginf)


def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:  # noqa: A002
    """torch.addcmul: input + value · tensor1 · tensor2."""
    return _t(input).addcmul(tensor1, tensor2, value=value)


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:  # noqa: A002
    """torch.addcdiv: input + value · tensor1 / tensor2."""
    return _t(input).addcdiv(tensor1, tensor2, value=value)


def clamp_min(input, min) -> Tensor:  # noqa: A002
    """torch.clamp_min: max(input, min)."""
    return _t(input).clamp_min(min)


def clamp_max(input, max) -> Tensor:  # noqa: A002
    """torch.clamp_max: min(input, max)."""
    return _t(input).clamp_max(max)


def heaviside(input, values) -> Tensor:  # noqa: A002
    """torch.heaviside: 0 below zero, values at zero, 1 above."""
    return _t(input).heaviside(values)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:  # noqa: A002
    """torch.isclose: |input − other| ≤ atol + rtol·|other| elementwise."""
    return _t(input).isclose(other, rtol, atol, equal_nan)


# ------------------------------------------------------------ reductions
def amax(input, dim=(), keepdim=False) -> Tensor:  # noqa: A002
    """torch.amax: the largest value over dim (ties share the gradient)."""
    return _t(input).amax(dim, keepdim)


def amin(input, dim=(), keepdim=False) -> Tensor:  # noqa: A002
    """torch.amin: the smallest value over dim (ties share the gradient)."""
    return _t(input).amin(dim, keepdim)


def aminmax(input, *, dim=None, keepdim=False) -> tuple:  # noqa: A002
    """torch.aminmax: (min, max) over dim."""
    return _t(input).aminmax(dim=dim, keepdim=keepdim)


def nansum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:  # noqa: A002
    """torch.nansum: Σ with nan counted as 0."""
    return _t(input).nansum(dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:  # noqa: A002
    """torch.nanmean: the mean of the non-nan elements."""
    return _t(input).nanmean(dim, keepdim, dtype=dtype)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """torch.var_mean: (Σ(x − x̄)²/(N − correction), x̄) over dim; correction 1 unless told."""
    x = _t(input)
    _need_spread_float(x, "var_mean")
    if correction is None:
        correction = 1 if unbiased is None else int(unbiased)
    dim = None if isinstance(dim, (tuple, list)) and not dim else dim
    return x.var(correction=correction, dim=dim, keepdim=keepdim), x.mean(dim=dim, keepdim=keepdim)


def _need_spread_float(x, name: str) -> None:
    """torch's refusal of an integer (bool) input to var_mean / std_mean."""
    if x.array.dtype.kind not in "fc":
        raise RuntimeError(f"{name} only support floating point and complex dtypes")


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """torch.std_mean: (√var, mean) over dim."""
    x = _t(input)
    _need_spread_float(x, "std_mean")
    if correction is None:
        correction = 1 if unbiased is None else int(unbiased)
    dim = None if isinstance(dim, (tuple, list)) and not dim else dim
    return x.std(correction=correction, dim=dim, keepdim=keepdim), x.mean(dim=dim, keepdim=keepdim)


def count_nonzero(input, dim=None) -> Tensor:  # noqa: A002
    """torch.count_nonzero: the number of nonzero elements over dim."""
    return _t(input).count_nonzero(dim)


def logcumsumexp(input, dim) -> Tensor:  # noqa: A002
    """torch.logcumsumexp: log Σ_{j ≤ k} e^{x_j} along dim."""
    return _t(input).logcumsumexp(dim)


def cummax(input, dim) -> tuple:  # noqa: A002
    """torch.cummax: (running maximum, where it was found) along dim."""
    return _t(input).cummax(dim)


def cummin(input, dim) -> tuple:  # noqa: A002
    """torch.cummin: (running minimum, where it was found) along dim."""
    return _t(input).cummin(dim)


def median(input, dim=None, keepdim=False):  # noqa: A002
    """torch.median: the lower median; with dim, (values, indices)."""
    return _t(input).median(dim, keepdim)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear") -> Tensor:  # noqa: A002
    """torch.quantile: the q-th quantiles over dim (differentiable)."""
    return _t(input).quantile(q, dim, keepdim, interpolation=interpolation)


# fmt: off
__all__ = [
    "acos", "acosh", "addcdiv", "addcmul", "amax", "amin", "aminmax", "arccos", "arccosh",
    "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "asin", "asinh", "atan", "atan2", "atanh",
    "bincount", "bucketize", "cartesian_prod", "cdist", "clamp_max", "clamp_min", "cosh",
    "count_nonzero", "cross", "cummax", "cummin", "deg2rad", "diag_embed", "diagonal", "diff",
    "digamma", "erf", "erfc", "erfinv", "exp2", "float_power", "heaviside", "histc", "hypot",
    "is_floating_point", "isclose", "kron", "lgamma", "log10", "log2", "logaddexp", "logaddexp2",
    "logcumsumexp", "logical_xor", "logit", "median", "meshgrid", "nan_to_num", "nanmean",
    "nansum", "quantile", "rad2deg", "searchsorted", "sgn", "signbit", "sinc", "sinh", "std_mean",
    "tan", "tensor_split", "trace", "tril_indices", "triu_indices", "var_mean", "xlogy",
]
# fmt: on
