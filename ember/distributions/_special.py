"""The differentiable special functions and matrix ops the distributions need, by name.

softplus(x)   log(1 + eˣ), ∂/∂x = σ(x)   (no threshold: exact in both tails; a Function here)
erf, erfinv, lgamma, digamma, xlogy, diagonal    ember's Tensor methods (ember.torch_math)
cholesky(A), solve_tril(L, B) = L⁻¹·B, inverse(A)    ember.linalg's
"""

from __future__ import annotations

import math

from .. import backend, linalg
from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor, apply

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


class Softplus(Function):
    """y = log(1 + eˣ), computed as logaddexp(0, x) (no overflow for x ≫ 0, no loss for
    x ≪ 0); ∂y/∂x = σ(x), exact at x = 0 where max/abs formulations lose half of it."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).logaddexp(0, x)

    def backward(self, gy):
        return (gy * backend.expit(self.x),)


def _mT(a):
    return a.swapaxes(-1, -2)


def softplus(x: Tensor) -> Tensor:
    return apply(Softplus, x)


# The distributions' other special functions are ember's own, one implementation each
# (ember.torch_math's erf, erfinv, lgamma, digamma, xlogy; ember.linalg's solves):
def erf(x: Tensor) -> Tensor:
    return x.erf()


def erfinv(x: Tensor) -> Tensor:
    return x.erfinv()


def lgamma(x: Tensor) -> Tensor:
    return x.lgamma()


def digamma(x: Tensor) -> Tensor:
    return x.digamma()


def xlogy(a: Tensor, b: Tensor) -> Tensor:
    """a·log b, and 0 where a = 0 (also where b = 0 there), as torch.xlogy."""
    return a.xlogy(b)


def diagonal(m: Tensor) -> Tensor:
    """The diagonal of the last two dims, (…, n, n) → (…, n)."""
    return m.diagonal(dim1=-2, dim2=-1)


def cholesky(a: Tensor) -> Tensor:
    return linalg.cholesky(a)


def solve_tril(L: Tensor, b: Tensor) -> Tensor:
    """L⁻¹·b for lower-triangular L, in L's dtype (torch's solve_triangular casts b to A's
    dtype, so a float64 value of a float32 MultivariateNormal gives float32)."""
    if b.dtype != L.dtype:
        b = b.to(L.dtype)
    return linalg.solve_triangular(L, b, upper=False)


def inverse(a: Tensor) -> Tensor:
    return linalg.inv(a)
