"""Tensor methods for torch's further index and shape functions (index_put, masked_scatter, put,
take, select, movedim/moveaxis, diagflat, atleast_1d/2d/3d, column_stack, row_stack, hstack,
vstack, dstack).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


class IndexShapeTensorMethods:
    """See the module docstring."""

    __slots__ = ()
