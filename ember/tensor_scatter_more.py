"""Tensor methods for torch's scatter variants and the neural-network functions torch also exposes
at its top level (slice_scatter, select_scatter, diagonal_scatter, split_with_sizes,
index_reduce; torch.conv2d, torch.layer_norm, torch.dropout … with torch's own top-level
signatures).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


class ScatterMoreTensorMethods:
    """See the module docstring."""

    __slots__ = ()
