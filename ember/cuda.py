"""``ember.cuda``: whether ember can run on an NVIDIA GPU, with torch.cuda's names.

This version runs on NumPy, on the CPU only: its CuPy backend (the same ops on CuPy arrays
behind ``backend.py``) is not built yet, so the answers below are "no" on every machine,
GPU or not. Code written the PyTorch way, ``device = "cuda" if ember.cuda.is_available()
else "cpu"``, picks the CPU; asking for "cuda" anyway is a clear error that says why
(``backend.check_device``).
"""

from __future__ import annotations

from .backend import CUDA_UNAVAILABLE


def is_available() -> bool:
    """True when tensors can be placed on a CUDA device: never in this CPU-only version."""
    return False


def device_count() -> int:
    """How many CUDA devices ember can use: 0 in this CPU-only version."""
    return 0


def why_unavailable() -> str:
    """The reason ``is_available()`` is False, as the device errors give it."""
    return CUDA_UNAVAILABLE
