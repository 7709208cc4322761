"""Tensor methods for torch's further special functions and legacy linear algebra (i0, igamma,
igammac, mvlgamma, polygamma, det, inverse, cholesky, cholesky_inverse, qr, svd, dist,
lu_solve, and the in-place i0_, igamma_, igammac_, mvlgamma_, polygamma_); each calls the
ember.* function of its name in ember/torch_special_linalg.py (trapz, gradient and lu_unpack are
functions only, as in torch).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


def _f():
    from . import torch_special_linalg  # imported late: it builds on ember.linalg, above Tensor

    return torch_special_linalg


class SpecialLinalgTensorMethods:
    """See the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ special functions
    def i0(self) -> Tensor:
        """I₀(self) = Σ_k (x/2)^{2k}/(k!)², the modified Bessel function of order 0."""
        return _f().i0(self)

    def igamma(self, other) -> Tensor:
        """P(self, other), the regularised lower incomplete gamma."""
        return _f().igamma(self, other)

    def igammac(self, other) -> Tensor:
        """Q(self, other) = 1 − P(self, other), the regularised upper incomplete gamma."""
        return _f().igammac(self, other)

    def mvlgamma(self, p) -> Tensor:
        """log Γ_p(self) = ¼p(p−1)·log π + Σ_{j<p} log Γ(self − j/2)."""
        return _f().mvlgamma(self, p)

    def polygamma(self, n) -> Tensor:
        """ψ⁽ⁿ⁾(self) = dⁿ⁺¹/dxⁿ⁺¹ log Γ(x) at self."""
        return _f().polygamma(n, self)

    def i0_(self) -> Tensor:
        """self ← I₀(self); returns self."""
        return self._arith_("i0_", lambda s: s.i0())

    def igamma_(self, other) -> Tensor:
        """self ← P(self, other); returns self."""
        return self._arith_("igamma_", lambda s: s.igamma(other))

    def igammac_(self, other) -> Tensor:
        """self ← Q(self, other); returns self."""
        return self._arith_("igammac_", lambda s: s.igammac(other))

    def mvlgamma_(self, p) -> Tensor:
        """self ← log Γ_p(self); returns self."""
        return self._arith_("mvlgamma_", lambda s: s.mvlgamma(p))

    def polygamma_(self, n) -> Tensor:
        """self ← ψ⁽ⁿ⁾(self); returns self."""
        return self._arith_("polygamma_", lambda s: s.polygamma(n))

    # ------------------------------------------------------------ legacy linear algebra
    def det(self) -> Tensor:
        """det(self) of a batch of square matrices."""
        return _f().det(self)

    def inverse(self) -> Tensor:
        """self⁻¹ of a batch of square matrices."""
        return _f().inverse(self)

    def cholesky(self, upper=False) -> Tensor:
        """L with self = L Lᵀ (U with self = Uᵀ U if upper)."""
        return _f().cholesky(self, upper)

    def cholesky_inverse(self, upper=False) -> Tensor:
        """(L Lᵀ)⁻¹ from the Cholesky factor L = self ((Uᵀ U)⁻¹ if upper)."""
        return _f().cholesky_inverse(self, upper)

    def qr(self, some=True):
        """(Q, R) with self = QR (reduced if some, else complete)."""
        return _f().qr(self, some)

    def svd(self, some=True, compute_uv=True):
        """(U, S, V) with self = U diag(S) Vᵀ."""
        return _f().svd(self, some, compute_uv)

    def dist(self, other, p=2) -> Tensor:
        """‖self − other‖_p over all elements."""
        return _f().dist(self, other, p)

    def lu_solve(self, LU_data, LU_pivots) -> Tensor:  # noqa: N803 - torch's names
        """X with A X = self, A = P L U packed in (LU_data, LU_pivots)."""
        return _f().lu_solve(self, LU_data, LU_pivots)
