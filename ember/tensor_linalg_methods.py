"""Tensor methods for torch's further products, linear algebra and integer maths (addbmm, baddbmm,
addmv, addr, chain_matmul, vdot, inner, ger, mv, matrix_power, matrix_exp, logdet, slogdet,
pinverse, lu, cholesky_solve, triangular_solve, frexp, ldexp, gcd, lcm, copysign).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


class LinalgTensorMethods:
    """See the module docstring."""

    __slots__ = ()
