"""torch.cpu.amp's deprecated spellings: ``autocast`` (torch's CPU default dtype, bfloat16,
which ember refuses when the region is enabled: NumPy has no bfloat16, pass
``dtype=ember.float16``) and ``GradScaler`` for "cpu", each warning (FutureWarning, torch's
words) that ``torch.amp``'s form replaces it. ember/cpu.py binds it as ``ember.cpu.amp``."""

from __future__ import annotations

from . import autocast_mode, cuda_amp


class autocast(cuda_amp.autocast):  # noqa: N801 - torch's name
    """``torch.cpu.amp.autocast(args...)``: ``ember.amp.autocast("cpu", args...)``."""

    _device, _default_dtype = "cpu", autocast_mode.bfloat16


class GradScaler(cuda_amp.GradScaler):
    """``torch.cpu.amp.GradScaler(args...)``: ``ember.amp.GradScaler("cpu", args...)``."""

    _device = "cpu"
