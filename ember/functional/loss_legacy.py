"""torch's deprecated loss arguments and its elementwise ``weight=``, shared by F and nn.

Every torch loss still takes ``size_average`` and ``reduce`` in its old positions, so torch
code passing arguments by position lands in the same slots here. ``legacy_reduction`` is
torch's ``_Reduction.legacy_get_string`` (the nn loss modules use it too).
"""

from __future__ import annotations

import warnings

from ..amp.composite import warning_level
from ..tensor import Tensor, as_array


def legacy_reduction(size_average, reduce, stacklevel: int = 2) -> str:
    """torch's reduction for its deprecated size_average and reduce (None counts as True):
    reduce False is 'none', else size_average True 'mean' and False 'sum'; warns as torch."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(
        "size_average and reduce args will be deprecated, please use"
        f" reduction='{reduction}' instead.",
        UserWarning,
        stacklevel=warning_level(stacklevel),
    )
    return reduction


def reduction_of(size_average, reduce, reduction: str) -> str:
    """``reduction``, unless torch's size_average or reduce is given (not None): then the
    legacy mapping wins, with torch's warning naming the code that called the loss."""
    if size_average is None and reduce is None:
        return reduction
    return legacy_reduction(size_average, reduce, stacklevel=4)


def weighted(loss: Tensor, weight, input: Tensor, reduction: str, by_weight: bool) -> Tensor:  # noqa: A002
    """torch's ``weight=`` of mse_loss, l1_loss and huber_loss: a weight shaped exactly as the
    input (else ValueError) multiplies the elementwise loss; 'sum' sums that, and 'mean' is
    Σ w·ℓ / Σ w for mse and l1 (``by_weight``) but the plain mean of w·ℓ for huber."""
    w = weight if isinstance(weight, Tensor) else Tensor(as_array(weight, input.dtype))
    if w.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * w
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / w.sum() if by_weight else loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
