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


# --- memory, the device's properties, events: torch.cuda's names over CuPy ----------------
# On the CPU the memory counters read 0 and empty_cache does nothing, as torch's CPU build
# answers; what needs a device raises with the reason.


def _pool():
    return backend.xp.get_default_memory_pool() if backend.ON_GPU else None


def memory_allocated(device=None) -> int:
    """Bytes held by live arrays (CuPy's memory pool: used_bytes); 0 on the CPU."""
    pool = _pool()
    return int(pool.used_bytes()) if pool is not None else 0


def memory_reserved(device=None) -> int:
    """Bytes the memory pool holds, in use or kept for reuse (total_bytes); 0 on the CPU."""
    pool = _pool()
    return int(pool.total_bytes()) if pool is not None else 0


def max_memory_reserved(device=None) -> int:
    """The most the pool has held since the last empty_cache: CuPy's pool only grows until
    then, so this is memory_reserved; 0 on the CPU."""
    return memory_reserved(device)


def max_memory_allocated(device=None) -> int:
    """An upper bound of the peak bytes held by live arrays since the last empty_cache: the
    pool's high-water mark (CuPy keeps no peak of live bytes); 0 on the CPU."""
    return memory_reserved(device)


def empty_cache() -> None:
    """Hand the blocks CuPy's pool keeps for reuse back to the device; nothing on the CPU."""
    pool = _pool()
    if pool is not None:
        pool.free_all_blocks()


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: NumPy and CuPy have no bfloat16, so ember computes in none."""
    return False


def is_initialized() -> bool:
    return backend.ON_GPU


def _require(what: str) -> None:
    if not backend.ON_GPU:
        raise RuntimeError(f"ember.cuda.{what}: no CUDA device in use: {CUDA_UNAVAILABLE}")


def init() -> None:
    _require("init")


def mem_get_info(device=None) -> tuple[int, int]:
    """(free, total) bytes of the device."""
    _require("mem_get_info")
    free, total = backend.xp.cuda.runtime.memGetInfo()
    return int(free), int(total)


class _DeviceProperties:
    """torch's _CudaDeviceProperties: name, total_memory, major, minor, multi_processor_count."""

    def __init__(self, props: dict) -> None:
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.total_memory = int(props["totalGlobalMem"])
        self.major, self.minor = int(props["major"]), int(props["minor"])
        self.multi_processor_count = int(props["multiProcessorCount"])

    def __repr__(self) -> str:
        return (
            f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor},"
            f" total_memory={self.total_memory // (1 << 20)}MB,"
            f" multi_processor_count={self.multi_processor_count})"
        )


def get_device_properties(device=None) -> _DeviceProperties:
    _require("get_device_properties")
    return _DeviceProperties(backend.xp.cuda.runtime.getDeviceProperties(0))


def get_device_capability(device=None) -> tuple[int, int]:
    props = get_device_properties(device)
    return props.major, props.minor


class Event:
    """torch.cuda.Event over a CuPy event: ``record()`` on the current stream,
    ``synchronize()``, ``query()``, ``elapsed_time(end)`` in milliseconds (both events created
    with ``enable_timing=True``), as torch's GPU timing code uses it."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False) -> None:  # fmt: skip
        _require("Event")
        self._event = backend.xp.cuda.Event(
            block=blocking, disable_timing=not enable_timing, interprocess=interprocess
        )

    def record(self, stream=None) -> None:
        self._event.record(stream)

    def synchronize(self) -> None:
        self._event.synchronize()

    def query(self) -> bool:
        return bool(self._event.done)

    def elapsed_time(self, end_event: Event) -> float:
        return float(backend.xp.cuda.get_elapsed_time(self._event, end_event._event))


def current_stream(device=None):
    """The stream ember's work is queued on (CuPy's current stream; it has torch's
    ``synchronize()``)."""
    _require("current_stream")
    return backend.xp.cuda.get_current_stream()


# torch.cuda.amp's deprecated autocast and GradScaler, for scripts written for torch < 2.3;
# registered so that ``from ember.cuda.amp import GradScaler`` finds it too
import sys  # noqa: E402

from .amp import cuda_amp as amp  # noqa: E402

sys.modules[__name__ + ".amp"] = amp
