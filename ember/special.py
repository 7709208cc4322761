"""ember.special: torch.special's functions that deep-learning code reaches for.

Each is a composition of ember's differentiable ops, so its gradient is right by
construction (and held to torch's by tests/test_special_module.py):

    expit(x) = σ(x) = 1/(1 + e⁻ˣ)              logit(p) = log(p/(1 − p))
    ndtr(x)  = Φ(x) = ½·erfc(−x/√2)            ndtri(p) = Φ⁻¹(p) = √2·erf⁻¹(2p − 1)
    log_ndtr(x) = log Φ(x)                      (finite far into the left tail)
    xlogy(x, y) = x·log y,  xlog1py(x, y) = x·log(1 + y),  both 0 where x = 0
    entr(x) = −x·log x  (0 at 0, −∞ below 0)    gammaln = log Γ,  psi = digamma = (log Γ)′
    multigammaln(a, p) = ¼p(p−1)·log π + Σ_{j<p} log Γ(a − j/2)

The Bessel family, i0e/i1e, erfcx, ζ, gammainc/gammaincc and polygamma are in special_more.py,
the orthogonal polynomials (Chebyshev, Hermite, Laguerre, Legendre) in special_polynomials.py;
both re-exported here.
"""

from __future__ import annotations

import math

from . import special_more, special_polynomials
from .backend import xp
from .errors import InputError
from .ops import special as SP
from .ops.elementwise import not_implemented_for
from .special_more import *  # noqa: F403 - airy_ai … zeta, in its __all__
from .special_polynomials import *  # noqa: F403 - chebyshev_polynomial_t …, in its __all__
from .tensor import Tensor, apply
from .tensor_methods import _float_operands, _floating, _t
from .torch_math import (
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    lgamma,
    logit,
    refuse_two_numbers,
    sinc,
    xlogy,
)
from .torch_reductions import logsumexp  # torch's own: dim=None is its TypeError
from .torch_shape import _t as _as_tensor
from .torch_special_linalg import _int_arg

gammaln = lgamma
psi = digamma


def expit(input) -> Tensor:  # noqa: A002 - torch's argument name
    """σ(x) = 1/(1 + e⁻ˣ), the logistic sigmoid."""
    return _as_tensor(input).sigmoid()


def expm1(input) -> Tensor:  # noqa: A002
    """eˣ − 1, accurate for small x."""
    return _as_tensor(input).expm1()


def log1p(input) -> Tensor:  # noqa: A002
    """log(1 + x), accurate for small x."""
    return _as_tensor(input).log1p()


def round(input, *, decimals: int = 0) -> Tensor:  # noqa: A001, A002 - torch's names
    """Round half to even (decimals by keyword only, as torch)."""
    return _as_tensor(input).round(decimals)


def ndtr(input) -> Tensor:  # noqa: A002
    """Φ(x) = ½·erfc(−x/√2), the standard normal CDF (erfc keeps the left tail's digits);
    float16 in float32, rounded once, as torch's."""
    x = _as_tensor(input)
    if x.array.dtype == "float16":
        return ndtr(x.float()).half()
    return erfc(x * (-1 / math.sqrt(2.0))) * 0.5


def _refuse_kernel(x: Tensor, kernel: str, dtypes: str = "c", half: bool = False) -> Tensor:
    """x, or torch's NotImplementedError where its kernel has no version for x's dtype (kinds
    in ``dtypes``; float16 too where ``half``), rather than NumPy's answer or TypeError."""
    if x.array.dtype.kind in dtypes or half and x.array.dtype == xp.float16:
        raise not_implemented_for(kernel, x.array.dtype)
    return x


def ndtri(input) -> Tensor:  # noqa: A002
    """Φ⁻¹(p), the standard normal quantile (exact in the tails, where √2·erf⁻¹(2p − 1)
    would lose the digits of p to the subtraction). No float16 or complex kernel, as torch."""
    x = _refuse_kernel(_as_tensor(input), "ndtri_cpu", half=True)
    return apply(SP.Ndtri, _floating(x))


def log_ndtr(input) -> Tensor:  # noqa: A002
    """log Φ(x), finite far into the left tail (where Φ itself underflows). No float16 or
    complex kernel, as torch."""
    x = _refuse_kernel(_as_tensor(input), "log_ndtr_cpu", half=True)
    return apply(SP.LogNdtr, _floating(x))


def xlog1py(input, other) -> Tensor:  # noqa: A002
    """x·log(1 + y), 0 where x = 0 (even where log(1 + y) is infinite); either may be a
    number, not both (torch's TypeError)."""
    refuse_two_numbers("special_xlog1py", input, other)
    if not isinstance(input, Tensor) and isinstance(other, Tensor):
        x = _t(input, other)  # a weak number: other's dtype wins, a 0-d float16 one too
    else:
        x = _as_tensor(input)
    x, y = _float_operands(x, _t(other, x))
    _refuse_kernel(x, "xlog1py_cpu")  # no complex kernel, as torch
    return apply(SP.Xlog1py, x, y)


def entr(input) -> Tensor:  # noqa: A002
    """−x·log x elementwise: 0 at x = 0, −∞ for x < 0 (torch's entropy integrand)."""
    x = _refuse_kernel(_as_tensor(input), "entr_cpu")  # no complex kernel, as torch
    return apply(SP.Entr, _floating(x))


def multigammaln(input, p: int) -> Tensor:  # noqa: A002
    """log Γ_p(a) = ¼p(p−1)·log π + Σ_{j<p} log Γ(a − j/2), the multivariate log-gamma."""
    p = _int_arg("special_multigammaln", "p", 2, p)  # a bool or float p: torch's TypeError
    a = _as_tensor(input)
    if a.array.dtype.kind == "b":  # torch's refusal, as mvlgamma's (a bool counts as 0 or 1)
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if p < 1:  # torch's RuntimeError; ember's ValueError callers still catch it
        raise InputError(
            f"multigammaln: p must be ≥ 1 (p has to be greater than or equal to 1), got {p}"
        )
    total = lgamma(a)
    for j in range(1, p):
        total = total + lgamma(a - j / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)


def softmax(input, dim: int, dtype=None) -> Tensor:  # noqa: A002
    """e^{x_i} / Σ_j e^{x_j} along dim."""
    x = _as_tensor(input) if dtype is None else _as_tensor(input).astype(dtype)
    return x.softmax(dim)


def log_softmax(input, dim: int, dtype=None) -> Tensor:  # noqa: A002
    """x_i − log Σ_j e^{x_j} along dim."""
    x = _as_tensor(input) if dtype is None else _as_tensor(input).astype(dtype)
    return x.log_softmax(dim)


__all__ = [
    "digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln",
    "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri",
    "psi", "round", "sinc", "softmax", "xlog1py", "xlogy",
    *special_more.__all__, *special_polynomials.__all__,
]  # fmt: skip
