"""PyTorch's Tensor conveniences that compose ops ember already has (no new primitive).

``TorchTensorMethods`` is a mixin that ``Tensor`` (tensor.py) inherits, as it inherits
``TensorMethods``: device and dtype helpers, ``new_*`` makers, ``*_as`` shape helpers,
matrix products under torch's names, elementwise maths and comparisons under torch's method
names. Each method is a few lines over Tensor's own operators and methods, so its gradient
is right by construction; tests hold each against torch.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py (see
the note at the end of tensor.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


class TorchTensorMethods:
    """PyTorch's Tensor conveniences composed from existing ops; see the module docstring."""

    __slots__ = ()
