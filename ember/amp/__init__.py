"""``ember.amp``: automatic mixed precision, as torch.amp: ``autocast`` regions that run
matmuls and convolutions in float16 (autocast_mode.py, op lists in policies.py) and the
``GradScaler`` that keeps float16 gradients from underflowing (grad_scaler.py).

What torch.amp has and ember leaves out: bfloat16 (NumPy has no such dtype, so a region
asking for it is refused), devices other than "cpu" and "cuda", and the optimizer-side
scaling hooks (``_step_supports_amp_scaling``: ember's optimizers have no fused step).
"""

from .autocast_mode import (
    autocast,
    clear_autocast_cache,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_cache_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from .grad_scaler import GradScaler, OptState

__all__ = [
    "GradScaler",
    "OptState",
    "autocast",
    "clear_autocast_cache",
    "custom_bwd",
    "custom_fwd",
    "get_autocast_dtype",
    "is_autocast_available",
    "is_autocast_cache_enabled",
    "is_autocast_enabled",
    "set_autocast_cache_enabled",
    "set_autocast_dtype",
    "set_autocast_enabled",
]
