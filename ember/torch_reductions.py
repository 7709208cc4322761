"""torch's top-level reductions on ``ember.*``: ``ember.sum(x, dim=1)``, ``ember.max(x, 0)`` …

Thin wrappers over the Tensor methods of the same meaning, with torch's argument names and
order; re-exported by torch_functions.py. The names shadow Python's builtins (sum, max, min,
all, any) inside this module only.
"""

from __future__ import annotations

from .ops.complex_refuse import refuse_complex
from .tensor import Tensor
from .torch_shape import _t


def _one_dim(name: str, dim) -> None:
    """torch.max/min(input, dim) take one int dim: a tuple of dims is its TypeError (amax takes
    several)."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(
            f"{name}() received an invalid combination of arguments: dim must be an int, got"
            f" {type(dim).__name__} {tuple(dim)} (use amax/amin to reduce over several dims)"
        )


def sum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """torch.sum: over every element, or over dim (an int or a tuple); dtype: cast first."""
    return _t(input).sum(dim=dim, keepdim=keepdim, dtype=dtype)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """torch.mean (of a floating tensor, or one cast to a floating ``dtype`` first)."""
    return _t(input).mean(dim=dim, keepdim=keepdim, dtype=dtype)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:  # noqa: A002
    """torch.var: Σ(x - x̄)² / (N - correction); correction 1 (unbiased) unless told."""
    return _t(input).var(dim, unbiased, keepdim, correction=correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:  # noqa: A002
    """torch.std: √var (its gradient 0 where std = 0, as torch)."""
    return _t(input).std(dim, unbiased, keepdim, correction=correction)


def logsumexp(input, dim, keepdim: bool = False) -> Tensor:  # noqa: A002
    """torch.logsumexp: log Σ eˣ along dim, computed stably; dim must be given (torch's
    TypeError for None)."""
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' must be an int or a tuple of ints, not None")
    return _t(input).logsumexp(dim=dim, keepdim=keepdim)


def max(input, dim=None, keepdim: bool = False):  # noqa: A002
    """torch.max: the largest element; with dim, (values, indices); with a tensor, maximum."""
    if isinstance(dim, Tensor):
        return _t(input).maximum(dim)
    if dim is None:
        return _t(input).max()
    _one_dim("max", dim)
    return _t(input).max(dim, keepdim)


def min(input, dim=None, keepdim: bool = False):  # noqa: A002
    """torch.min: the smallest element; with dim, (values, indices); with a tensor, minimum."""
    if isinstance(dim, Tensor):
        return _t(input).minimum(dim)
    if dim is None:
        return _t(input).min()
    _one_dim("min", dim)
    return _t(input).min(dim, keepdim)


def argmax(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """torch.argmax: index of the largest element (of the flattened input when dim is None)."""
    x = _t(input)
    refuse_complex(x.array, "argmax")
    return x.argmax(dim, keepdim)


def argmin(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """torch.argmin."""
    x = _t(input)
    refuse_complex(x.array, "argmin")
    return x.argmin(dim, keepdim)


def all(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """torch.all: whether every element (along dim) is nonzero."""
    return _t(input).all(dim, keepdim)


def any(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """torch.any: whether some element (along dim) is nonzero."""
    return _t(input).any(dim, keepdim)


def numel(input) -> int:  # noqa: A002
    """torch.numel: the number of elements."""
    return _t(input).numel()
