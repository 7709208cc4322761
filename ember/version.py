"""torch.version for ember: ``__version__`` and the build's accelerator versions. ember runs
on NumPy, and on CuPy when ``EMBER_DEVICE=cuda`` selects it: ``cuda`` is then the CUDA runtime
version CuPy was built against ("12.4"), else None, as torch's CPU builds report it."""

from . import backend

__all__ = ["__version__", "cuda", "debug", "git_version", "hip", "xpu"]

__version__ = "0.1.0"
debug = False
git_version = "Unknown"
hip = None
xpu = None


def _cuda_version() -> str | None:
    if not backend.ON_GPU:
        return None
    runtime = backend.xp.cuda.runtime.runtimeGetVersion()  # 12040 for 12.4
    return f"{runtime // 1000}.{runtime % 1000 // 10}"


cuda = _cuda_version()
