"""The maths of the basic layers: linear, dropout, embedding."""

from __future__ import annotations

from .. import backend
from ..ops import linalg as L
from ..ops import shape as S
from ..ops.elementwise import Mul
from ..tensor import Tensor, apply


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x·Wᵀ + b, with x (..., in_features) and W (out_features, in_features)."""
    if x.shape[-1:] != weight.shape[-1:]:
        raise ValueError(
            f"linear: input of shape {x.shape} has {x.shape[-1] if x.shape else '-'} features,"
            f" but the weight of shape {weight.shape} expects {weight.shape[-1]}"
        )
    if bias is None:
        return apply(L.Linear, x, weight)
    return apply(L.Linear, x, weight, bias)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (inverted dropout)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    mask = backend.default_generator.bernoulli_mask(1.0 - p, x.shape, x.dtype)
    mask *= 1.0 / (1.0 - p)
    return apply(Mul, x, Tensor(mask))


def embedding(indices, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` picked by integer ``indices``; repeated rows accumulate gradient.

    The row at ``padding_idx`` receives no gradient, as in torch.
    """
    idx = indices.data if isinstance(indices, Tensor) else backend.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding indices must be integers, got dtype {idx.dtype}")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"embedding index {int(bad)} is out of range for {n} embeddings")
    return apply(S.Embedding, weight, index=idx, padding_idx=padding_idx)
