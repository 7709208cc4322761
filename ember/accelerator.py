"""torch.accelerator for ember: the device-agnostic way to ask for the GPU, as PyTorch's
tutorials now write it::

    acc = ember.accelerator
    device = acc.current_accelerator().type if acc.is_available() else "cpu"

ember's accelerator is CUDA through CuPy, one device per process, chosen before import by
``EMBER_DEVICE=cuda`` (ember/cuda.py says more). Without it, the calls that need a device raise
torch's error with ember's reason appended.
"""

from __future__ import annotations

import contextlib

from . import backend, cuda
from .backend import CUDA_UNAVAILABLE

__all__ = [
    "current_accelerator", "current_device_idx", "current_device_index", "device_count",
    "device_index", "empty_cache", "get_memory_info", "is_available", "memory_allocated",
    "memory_reserved", "set_device_idx", "set_device_index", "synchronize",
]  # fmt: skip


def _require() -> None:
    if not backend.ON_GPU:
        raise RuntimeError(
            f"Cannot access accelerator device when none is available. ({CUDA_UNAVAILABLE})"
        )


def is_available() -> bool:
    return backend.ON_GPU


def current_accelerator(check_available: bool = False):
    """``device("cuda")`` when ember runs on the GPU, else None (as torch without one)."""
    return backend.device("cuda") if backend.ON_GPU else None


def device_count() -> int:
    return 1 if backend.ON_GPU else 0


def current_device_index() -> int:
    _require()
    return 0


current_device_idx = current_device_index


def _index_of(device) -> int:
    if device is None:
        return 0
    if isinstance(device, int):
        return device
    d = backend.device(device) if isinstance(device, str) else device
    return 0 if d.index is None else int(d.index)


def set_device_index(device, /) -> None:
    """Select the device: ember has one per process, index 0."""
    _require()
    if _index_of(device) != 0:
        raise RuntimeError(
            f"set_device_index({device!r}): ember uses one device per process, index 0; start"
            " one process per GPU (python -m ember.distributed.run) with CUDA_VISIBLE_DEVICES"
        )


set_device_idx = set_device_index


@contextlib.contextmanager
def device_index(device, /):
    """``with device_index(i):`` i must be 0 or None (one device per process)."""
    if device is not None:
        set_device_index(device)
    yield


def synchronize(device=None, /) -> None:
    _require()
    backend.synchronize()


def empty_cache() -> None:
    """Hand the memory CuPy's pool keeps for reuse back to the device."""
    _require()
    cuda.empty_cache()


def memory_allocated(device_index=None, /) -> int:
    """Bytes held by live arrays (CuPy's pool: used_bytes)."""
    _require()
    return cuda.memory_allocated()


def memory_reserved(device_index=None, /) -> int:
    """Bytes the pool holds, in use or kept for reuse (total_bytes)."""
    _require()
    return cuda.memory_reserved()


def get_memory_info(device_index=None, /) -> tuple[int, int]:
    """(free, total) bytes of the device."""
    _require()
    return cuda.mem_get_info()
