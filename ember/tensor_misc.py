"""torch's remaining Tensor conveniences: memory and layout queries (stride, nbytes …),
sampling methods, the conjugate-transpose family for real tensors, and the hooks that fire after
a leaf's gradient is accumulated.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py (see the
note at the end of tensor.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


class MiscTensorMethods:
    """torch's remaining Tensor conveniences; see the module docstring."""

    __slots__ = ()
