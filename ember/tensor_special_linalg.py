"""Tensor methods for torch's further special functions and legacy linear algebra (i0, igamma,
igammac, mvlgamma, polygamma, det, inverse, cholesky, cholesky_inverse, qr, svd, dist, trapz,
gradient, lu_solve, lu_unpack).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


class SpecialLinalgTensorMethods:
    """See the module docstring."""

    __slots__ = ()
