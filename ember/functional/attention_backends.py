"""torch.nn.attention's SDPBackend and sdpa_kernel: which implementation of scaled dot-product
attention runs.

ember has two: the equation-faithful one composed from primitives
(``scaled_dot_product_attention_composed``, S = Q·Kᵀ·s + M, P = softmax(S), O = P·V), which is
torch's MATH backend, and its fused op with a hand-derived backward, which serves every fused
backend (FLASH_ATTENTION, EFFICIENT_ATTENTION, CUDNN_ATTENTION: one kernel, on the CPU and on
CuPy). OVERRIDEABLE names no ember kernel. As torch: the backends are tried in its default order
(flash, efficient, math, cuDNN) unless ``set_priority=True`` gives the list's own order, and a
call with none that can run raises.
"""

from __future__ import annotations

import contextlib
from enum import IntEnum


class SDPBackend(IntEnum):
    """torch.nn.attention.SDPBackend, with torch's values."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_DEFAULT_ORDER = (
    SDPBackend.FLASH_ATTENTION,
    SDPBackend.EFFICIENT_ATTENTION,
    SDPBackend.MATH,
    SDPBackend.CUDNN_ATTENTION,
)
_FUSED = {SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION}

#: the open sdpa_kernel blocks, innermost last: (allowed backends, their order or None). Empty
#: in normal use: every backend allowed, the fused op runs.
_stack: list = []


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Only ``backends`` (an SDPBackend or a list of them) may run scaled_dot_product_attention
    inside the block; with ``set_priority`` the list's order is their priority."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(
            "Backend must be an instance of SDPBackend or a list of SDPBackend instances, got"
            f" {type(backends).__name__}"
        )
    backends = list(dict.fromkeys([backends] if isinstance(backends, SDPBackend) else backends))
    _stack.append((set(backends), backends if set_priority else None))
    try:
        yield {}
    finally:
        _stack.pop()


def use_composed() -> bool:
    """Whether the innermost sdpa_kernel block makes MATH (the composed form) run: the first
    allowed backend, in priority order, that ember has."""
    allowed, order = _stack[-1]
    for b in order if order is not None else _DEFAULT_ORDER:
        if b in allowed and b in _FUSED:
            return False
        if b in allowed and b == SDPBackend.MATH:
            return True
    raise RuntimeError(
        "No viable backend for scaled_dot_product_attention was found. This is likely due to"
        " turning off both the math kernel and the fused kernels."
    )
