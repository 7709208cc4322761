"""Tensor methods for torch's aliases, predicates and small conveniences (concat, greater,
less_equal, absolute, fix, fliplr, ravel, swapaxes, tile, broadcast_tensors, allclose, equal,
argwhere, fmax, isposinf, logspace, rsub, promote_types …).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


class AliasTensorMethods:
    """See the module docstring."""

    __slots__ = ()
