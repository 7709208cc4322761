"""Tensor methods for torch's further products, linear algebra and integer maths (addbmm,
baddbmm, addmv, addr, vdot, inner, ger, mv, matrix_power, matrix_exp, logdet, slogdet,
pinverse, lu, cholesky_solve, triangular_solve, frexp, ldexp, gcd, lcm, copysign, and the
in-place addbmm_, baddbmm_, addmv_, addr_, ldexp_, gcd_, lcm_, copysign_); each calls the
ember.* function of its name in ember/torch_linalg_funcs.py, or ember/torch_int_math.py for the
float and integer maths (chain_matmul is a function only, as in torch).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


def _f():
    from . import torch_linalg_funcs  # imported late: it builds on ember.linalg, above Tensor

    return torch_linalg_funcs


def _im():
    from . import torch_int_math  # imported late, as torch_linalg_funcs

    return torch_int_math


class LinalgTensorMethods:
    """See the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ products
    def addbmm(self, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
        """β·self + α·Σ_b (batch1_b @ batch2_b)."""
        return _f().addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
        """β·self + α·(batch1 @ batch2), batch by batch."""
        return _f().baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1) -> Tensor:
        """β·self + α·(mat @ vec)."""
        return _f().addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
        """β·self + α·(vec1 ⊗ vec2)."""
        return _f().addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def addbmm_(self, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
        """self ← β·self + α·Σ_b (batch1_b @ batch2_b); returns self."""
        return self._arith_("addbmm_", lambda s: s.addbmm(batch1, batch2, beta=beta, alpha=alpha))

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
        """self ← β·self + α·(batch1 @ batch2); returns self."""
        return self._arith_("baddbmm_", lambda s: s.baddbmm(batch1, batch2, beta=beta, alpha=alpha))

    def addmv_(self, mat, vec, *, beta=1, alpha=1) -> Tensor:
        """self ← β·self + α·(mat @ vec); returns self."""
        return self._arith_("addmv_", lambda s: s.addmv(mat, vec, beta=beta, alpha=alpha))

    def addr_(self, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
        """self ← β·self + α·(vec1 ⊗ vec2); returns self."""
        return self._arith_("addr_", lambda s: s.addr(vec1, vec2, beta=beta, alpha=alpha))

    def vdot(self, other) -> Tensor:
        """Σᵢ selfᵢ·otherᵢ of two 1-D tensors (real: the dot product)."""
        return _f().vdot(self, other)

    def inner(self, other) -> Tensor:
        """out[i…, j…] = Σ_k self[i…, k]·other[j…, k]."""
        return _f().inner(self, other)

    def ger(self, vec2) -> Tensor:
        """out[i, j] = selfᵢ·vec2ⱼ (torch.outer)."""
        return _f().ger(self, vec2)

    def mv(self, vec) -> Tensor:
        """self @ vec, a matrix times a vector."""
        return _f().mv(self, vec)

    # ------------------------------------------------------------ linear algebra
    def matrix_power(self, n) -> Tensor:
        """selfⁿ for an integer n."""
        return _f().matrix_power(self, n)

    def matrix_exp(self) -> Tensor:
        """exp(self) = Σ_k selfᵏ/k!."""
        return _f().matrix_exp(self)

    def logdet(self) -> Tensor:
        """log det(self); nan where det < 0."""
        return _f().logdet(self)

    def slogdet(self):
        """(sign, log|det self|)."""
        return _f().slogdet(self)

    def orgqr(self, input2) -> Tensor:
        """torch.Tensor.orgqr: Q = H₁⋯H_k from geqrf's reflectors (self) and their τ
        (input2), i.e. linalg.householder_product."""
        from . import linalg

        return linalg.householder_product(self, input2)

    def pinverse(self, rcond=1e-15) -> Tensor:
        """self⁺, the Moore–Penrose pseudo-inverse, σ ≤ rcond·σ_max dropped."""
        return _f().pinverse(self, rcond)

    def lu(self, pivot=True, get_infos=False):
        """self = P L U packed as (A_LU, pivots[, infos])."""
        return _f().lu(self, pivot=pivot, get_infos=get_infos)

    def cholesky_solve(self, input2, upper=False) -> Tensor:
        """X = (L Lᵀ)⁻¹ self with L = input2 (Uᵀ U if upper)."""
        return _f().cholesky_solve(self, input2, upper)

    def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):  # noqa: N803
        """(X, A.clone()) with op(T) X = self, T A's triangle."""
        return _f().triangular_solve(self, A, upper, transpose, unitriangular)

    # ------------------------------------------------------------ float and integer maths
    def frexp(self):
        """(mantissa, exponent) with self = mantissa·2^exponent."""
        return _im().frexp(self)

    def ldexp(self, other) -> Tensor:
        """self·2^other."""
        return _im().ldexp(self, other)

    def ldexp_(self, other) -> Tensor:
        """self ← self·2^other; returns self."""
        return self._arith_("ldexp_", lambda s: s.ldexp(other))

    def gcd(self, other) -> Tensor:
        """gcd(|self|, |other|), integers."""
        return _im().gcd(self, other)

    def gcd_(self, other) -> Tensor:
        """self ← gcd(self, other); returns self."""
        return self._arith_("gcd_", lambda s: s.gcd(other))

    def lcm(self, other) -> Tensor:
        """lcm(self, other), integers."""
        return _im().lcm(self, other)

    def lcm_(self, other) -> Tensor:
        """self ← lcm(self, other); returns self."""
        return self._arith_("lcm_", lambda s: s.lcm(other))

    def copysign(self, other) -> Tensor:
        """|self| with the sign of other."""
        return _im().copysign(self, other)

    def copysign_(self, other) -> Tensor:
        """self ← |self| with the sign of other; returns self."""
        return self._arith_("copysign_", lambda s: s.copysign(other))
