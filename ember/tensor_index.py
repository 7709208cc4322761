"""Tensor methods that run the index and scan ops of ``ember/ops/index.py``.

``IndexTensorMethods`` is a mixin that ``Tensor`` (tensor.py) inherits: gather and scatter,
index_select, masked_select, cumulative sums and products, sorting and top-k, each one
``apply`` of a primitive op with a hand-written backward (gradchecked, and held against
torch in the tests).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py (see
the note at the end of tensor.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


class IndexTensorMethods:
    """Methods running the ops of ember/ops/index.py; see the module docstring."""

    __slots__ = ()
