"""``ember.nn.utils.stateless``: torch's older path to ``functional_call`` (deprecated in torch
2.0 in favour of ``torch.func.functional_call``, which is ember.func.functional_call)."""

from __future__ import annotations

import warnings
from typing import Any

from ...func import _functional_call

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers: dict, args: Any = None,
                    kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:  # fmt: skip
    """``module(*args, **kwargs)`` with the tensors of ``parameters_and_buffers`` (one dict,
    dotted names) in place of its parameters and buffers, restored afterwards; see
    ``ember.func.functional_call``. Warns FutureWarning, as torch does."""
    warnings.warn(
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be"
        " removed in a future version of PyTorch. Please use `torch.func.functional_call`"
        " instead which is a drop-in replacement.",
        FutureWarning,
        stacklevel=2,
    )
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)  # fmt: skip
