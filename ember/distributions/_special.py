"""The differentiable special functions and matrix ops the distributions need.

Function classes on raw arrays (forward and backward side by side, as in ``ember.ops``), each
wrapped by a lower-case helper that applies it to Tensors:

    erf(x)        ∂/∂x = 2/√π · e^{−x²}
    erfinv(p)     ∂/∂p = √π/2 · e^{erfinv(p)²}
    lgamma(x)     log Γ(x),  ∂/∂x = ψ(x)
    digamma(x)    ψ(x),      ∂/∂x = ψ′(x) (trigamma)
    softplus(x)   log(1 + eˣ), ∂/∂x = σ(x)   (no threshold: exact in both tails)
    cholesky(A)   L with L·Lᵀ = A (lower); the backward of torch.linalg.cholesky
    solve_tril(L, B)   X = L⁻¹·B for lower-triangular L (batch dims broadcast)
    inverse(A)    A⁻¹, ∂ = −A⁻ᵀ·G·A⁻ᵀ
"""

from __future__ import annotations

import math

from .. import backend
from ..backend import get_array_module
from ..function import Function, unbroadcast
from ..tensor import Tensor, apply

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


class Erf(Function):
    """y = erf(x) = 2/√π ∫₀ˣ e^{−t²} dt."""

    def forward(self, x):
        self.x = x
        return backend.erf(x)

    def backward(self, gy):
        xp = get_array_module(gy)
        return (gy * (_TWO_OVER_SQRT_PI * xp.exp(-self.x * self.x)),)


class Erfinv(Function):
    """y = erf⁻¹(p) for p in (−1, 1)."""

    def forward(self, p):
        self.y = y = backend.erfinv(p)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        return (gy * (_SQRT_PI_OVER_TWO * xp.exp(self.y * self.y)),)


class Lgamma(Function):
    """y = log Γ(x) (log |Γ(x)| for negative x); ∂y/∂x = ψ(x)."""

    def forward(self, x):
        self.x = x
        return backend.gammaln(x)

    def backward(self, gy):
        return (gy * backend.psi(self.x),)


class Digamma(Function):
    """y = ψ(x) = Γ′(x)/Γ(x); ∂y/∂x = ψ′(x), the trigamma function."""

    def forward(self, x):
        self.x = x
        return backend.psi(x)

    def backward(self, gy):
        return (gy * backend.polygamma(1, self.x).astype(gy.dtype, copy=False),)


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


class Cholesky(Function):
    """L = cholesky(A), A = L·Lᵀ symmetric positive definite, L lower triangular.

    Backward as torch's (Murray 2016): with Φ(X) = tril(X) with the diagonal halved,
    S = Φ(Lᵀ·Ḡ) symmetrised, Ā = L⁻ᵀ·S·L⁻¹ (a symmetric gradient).
    """

    def forward(self, a):
        xp = get_array_module(a)
        self.L = L = xp.linalg.cholesky(a)
        return L

    def backward(self, gL):
        xp = get_array_module(gL)
        L = self.L
        s = xp.tril(_mT(L) @ xp.tril(gL))
        s = 0.5 * (s + _mT(xp.tril(s, -1)))
        L_inv = xp.linalg.inv(L)
        return (_mT(L_inv) @ s @ L_inv,)


class SolveTril(Function):
    """X = L⁻¹·B for L (…, n, n) lower triangular (its upper part is ignored) and B (…, n, k).

    Backward: B̄ = L⁻ᵀ·X̄, L̄ = −tril(B̄·Xᵀ), each summed over broadcast batch dims.
    """

    def forward(self, L, b):
        xp = get_array_module(L)
        self.L = L = xp.tril(L)
        self.x = x = xp.linalg.solve(L, b)
        self.shapes = L.shape, b.shape
        return x

    def backward(self, gx):
        xp = get_array_module(gx)
        nL, nb = self.needs_input_grad
        sL, sb = self.shapes
        L = self.L
        gb = xp.linalg.solve(xp.broadcast_to(_mT(L), gx.shape[:-2] + L.shape[-2:]), gx)
        gL = unbroadcast(-xp.tril(gb @ _mT(self.x)), sL) if nL else None
        return gL, (unbroadcast(gb, sb) if nb else None)


class Inverse(Function):
    """Y = A⁻¹; Ā = −Yᵀ·Ȳ·Yᵀ."""

    def forward(self, a):
        self.y = y = get_array_module(a).linalg.inv(a)
        return y

    def backward(self, gy):
        yT = _mT(self.y)
        return (-(yT @ gy @ yT),)


def erf(x: Tensor) -> Tensor:
    return apply(Erf, x)


def erfinv(x: Tensor) -> Tensor:
    return apply(Erfinv, x)


def lgamma(x: Tensor) -> Tensor:
    return apply(Lgamma, x)


def digamma(x: Tensor) -> Tensor:
    return apply(Digamma, x)


def softplus(x: Tensor) -> Tensor:
    return apply(Softplus, x)


def cholesky(a: Tensor) -> Tensor:
    return apply(Cholesky, a)


def solve_tril(L: Tensor, b: Tensor) -> Tensor:
    return apply(SolveTril, L, b)


def inverse(a: Tensor) -> Tensor:
    return apply(Inverse, a)


def xlogy(a: Tensor, b: Tensor) -> Tensor:
    """a·log b, and 0 where a = 0 (also where b = 0 there), as torch.xlogy."""
    zero = (a == 0).data
    if not zero.any():
        return a * b.log()
    xp = get_array_module(zero)
    b_safe = b.where(Tensor(~zero), Tensor(xp.ones((), b.dtype)))  # log 1 = 0 where a = 0
    return a * b_safe.log()


def diagonal(m: Tensor) -> Tensor:
    """The diagonal of the last two dims, (…, n, n) → (…, n), as a masked row sum (its
    gradient lands on the diagonal only)."""
    xp = get_array_module(m.data)
    return (m * Tensor(xp.eye(m.shape[-1], dtype=m.dtype))).sum(-1)
