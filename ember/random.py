"""``ember.random``: torch.random's names for the default generator's seed and state.

The functions are ember's own (``ember.manual_seed`` …, on the one default generator every
draw uses, on either device); ``fork_rng`` saves that generator's state on entry and puts it
back on exit, so the draws inside a block leave the draws after it as they would have been.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .backend import Generator, default_generator
from .creation import initial_seed, manual_seed, seed
from .torch_misc_more import get_rng_state, set_rng_state

__all__ = [
    "Generator",
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]


@contextlib.contextmanager
def fork_rng(
    devices=None, enabled: bool = True, _caller: str = "fork_rng", _devices_kw: str = "devices",
    device_type=None,
) -> Iterator[None]:  # fmt: skip
    """torch.random.fork_rng: the default generator's state is saved on entry and restored on
    exit (``enabled=False``: nothing is saved). ``devices`` and ``device_type`` name the CUDA
    generators torch forks besides the CPU's; ember draws every device's numbers from its one
    generator, so forking it covers them."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
