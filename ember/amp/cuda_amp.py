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


def _deprecated(what: str, device: str) -> None:
    warnings.warn(
        f"`torch.{device}.amp.{what}(args...)` is deprecated. Please use"
        f" `torch.amp.{what}('{device}', args...)` instead.",
        FutureWarning,
        stacklevel=3,
    )


class autocast(autocast_mode.autocast):  # noqa: N801 - torch's name
    """``torch.cuda.amp.autocast(args...)``: ``ember.amp.autocast("cuda", args...)``;
    cpu_amp.py's subclass is torch.cpu.amp's (its default dtype is torch's CPU one)."""

    _device, _default_dtype = "cuda", backend.xp.float16

    def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
        _deprecated("autocast", self._device)
        dtype = self._default_dtype if dtype is None else dtype
        super().__init__(self._device, enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """``torch.cuda.amp.GradScaler(args...)``: ``ember.amp.GradScaler("cuda", args...)``;
    cpu_amp.py's subclass is torch.cpu.amp's."""

    _device = "cuda"

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        _deprecated("GradScaler", self._device)
        super().__init__(
            self._device, init_scale, growth_factor, backoff_factor, growth_interval, enabled
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
