"""torch.backends.cudnn: ember calls no cuDNN (its GPU ops are CuPy's), so it is never
available; the flags are stored and read back for torch code's sake."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: ember does not call cuDNN."""
    return False


def version() -> None:
    """None, as torch's when cuDNN is not available."""
    return None


@contextlib.contextmanager
def flags(
    enabled: bool = False, benchmark: bool = False, deterministic: bool = False,
    allow_tf32: bool = True,
) -> Iterator[None]:  # fmt: skip
    """torch.backends.cudnn.flags: the four flags set inside the block, restored after."""
    g = globals()
    saved = {k: g[k] for k in ("enabled", "benchmark", "deterministic", "allow_tf32")}
    g.update(enabled=enabled, benchmark=benchmark, deterministic=deterministic,
             allow_tf32=allow_tf32)  # fmt: skip
    try:
        yield
    finally:
        g.update(saved)
