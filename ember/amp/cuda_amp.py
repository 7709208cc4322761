"""torch.cuda.amp's deprecated spellings: ``autocast`` and ``GradScaler`` for "cuda", each
warning (FutureWarning, torch's words) that ``torch.amp``'s form replaces it.

Meant to be reachable as ``ember.cuda.amp`` (training scripts written for torch < 2.3 use
``torch.cuda.amp.GradScaler(enabled=...)``); ember/cuda.py binds it.
"""

from __future__ import annotations

import warnings

from .. import backend
from . import autocast_mode
from .grad_scaler import GradScaler as _GradScaler


class autocast(autocast_mode.autocast):
    """``torch.cuda.amp.autocast(args...)``: ``ember.amp.autocast("cuda", args...)``."""

    def __init__(self, enabled: bool = True, dtype=backend.xp.float16, cache_enabled: bool = True):
        warnings.warn(
            "`torch.cuda.amp.autocast(args...)` is deprecated. Please use"
            " `torch.amp.autocast('cuda', args...)` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """``torch.cuda.amp.GradScaler(args...)``: ``ember.amp.GradScaler("cuda", args...)``."""

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        warnings.warn(
            "`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use"
            " `torch.amp.GradScaler('cuda', args...)` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(
            "cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled
        )


def custom_fwd(fwd=None, *, cast_inputs=None):
    """``torch.cuda.amp.custom_fwd``: ``ember.amp.custom_fwd(device_type="cuda")``."""
    warnings.warn(
        "`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use"
        " `torch.amp.custom_fwd(args..., device_type='cuda')` instead.",
        FutureWarning,
        stacklevel=2,
    )
    return autocast_mode.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd):
    """``torch.cuda.amp.custom_bwd``: ``ember.amp.custom_bwd(device_type="cuda")``."""
    warnings.warn(
        "`torch.cuda.amp.custom_bwd(args...)` is deprecated. Please use"
        " `torch.amp.custom_bwd(args..., device_type='cuda')` instead.",
        FutureWarning,
        stacklevel=2,
    )
    return autocast_mode.custom_bwd(bwd, device_type="cuda")
