"""``ember.cuda``: whether ember runs on an NVIDIA GPU, with torch.cuda's names.

ember runs each process on one device, chosen before import by the environment variable
``EMBER_DEVICE``: unset or "cpu" runs on NumPy, "cuda" runs the same ops on CuPy arrays
(``backend.py`` swaps the array module; no model code changes). So ``is_available()`` is
True exactly in a process started with EMBER_DEVICE=cuda on a machine whose CuPy sees a GPU.
Code written the PyTorch way, ``device = "cuda" if ember.cuda.is_available() else "cpu"``,
then picks the device the process runs on; asking for the other one is a clear error that
says why (``backend.check_device``).
"""

from __future__ import annotations

from . import backend
from .backend import CUDA_UNAVAILABLE


def is_available() -> bool:
    """True when tensors live on a CUDA device: in a process started with EMBER_DEVICE=cuda."""
    return backend.ON_GPU


def device_count() -> int:
    """How many CUDA devices ember can use: 1 on the GPU (one device per process), else 0."""
    return 1 if backend.ON_GPU else 0


def current_device() -> int:
    """The index of the device in use (0, the only one), as torch.cuda.current_device."""
    if not backend.ON_GPU:
        raise RuntimeError(f"no CUDA device in use: {CUDA_UNAVAILABLE}")
    return 0


def get_device_name(device=None) -> str:
    """The GPU's name, as torch.cuda.get_device_name."""
    if not backend.ON_GPU:
        raise RuntimeError(f"no CUDA device in use: {CUDA_UNAVAILABLE}")
    return backend.device_name()


def synchronize(device=None) -> None:
    """Wait for the GPU to finish the work queued so far (time a step only after this); on
    the CPU there is nothing to wait for."""
    backend.synchronize()


def manual_seed(seed: int) -> None:
    """Seed the draws, as torch.cuda.manual_seed: ember draws on the host for either device,
    so this is ``ember.manual_seed``."""
    backend.default_generator.manual_seed(seed)


manual_seed_all = manual_seed


def why_unavailable() -> str:
    """The reason ``is_available()`` is False, as the device errors give it ("" when True)."""
    return "" if backend.ON_GPU else CUDA_UNAVAILABLE


# torch.cuda.amp's deprecated autocast and GradScaler, for scripts written for torch < 2.3;
# registered so that ``from ember.cuda.amp import GradScaler`` finds it too
import sys  # noqa: E402

from .amp import cuda_amp as amp  # noqa: E402

sys.modules[__name__ + ".amp"] = amp
