"""torch.cpu.amp's deprecated spellings: ``autocast`` (torch's CPU default dtype, bfloat16,
which ember refuses when the region is enabled: NumPy has no bfloat16, pass
``dtype=ember.float16``) and ``GradScaler`` for "cpu", each warning (FutureWarning, torch's
words) that ``torch.amp``'s form replaces it. ember/cpu.py binds it as ``ember.cpu.amp``."""

from __future__ import annotations

import warnings

from . import autocast_mode
from .grad_scaler import GradScaler as _GradScaler


class autocast(autocast_mode.autocast):  # noqa: N801 - torch's name
    """``torch.cpu.amp.autocast(args...)``: ``ember.amp.autocast("cpu", args...)``."""

    def __init__(
        self, enabled: bool = True, dtype=autocast_mode.bfloat16, cache_enabled: bool = True
    ):
        warnings.warn(
            "`torch.cpu.amp.autocast(args...)` is deprecated. Please use"
            " `torch.amp.autocast('cpu', args...)` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """``torch.cpu.amp.GradScaler(args...)``: ``ember.amp.GradScaler("cpu", args...)``."""

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        warnings.warn(
            "`torch.cpu.amp.GradScaler(args...)` is deprecated. Please use"
            " `torch.amp.GradScaler('cpu', args...)` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
