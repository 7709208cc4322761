"""Tensor methods for torch's further statistics and set functions (mode, nanmedian, nanquantile,
unique_consecutive, histogram, isin, cov, corrcoef, trapezoid, cumulative_trapezoid,
combinations, vander, renorm).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


class StatsMoreTensorMethods:
    """See the module docstring."""

    __slots__ = ()
