"""Activations: the seed's list, each a thin wrapper of its op.

ReLU(x)      = max(0, x)
LeakyReLU(x) = x if x > 0 else a·x
σ(x)         = 1 / (1 + e^{-x})
tanh(x)      = (e^x - e^{-x}) / (e^x + e^{-x})
softmax(x)_i = e^{x_i} / Σ_j e^{x_j}
GELU(x)      = x·Φ(x)
SiLU(x)      = Swish(x) = x·σ(x)
"""

from __future__ import annotations

from ..ops import elementwise as E
from ..ops import reduce as R
from ..tensor import Tensor, apply


def relu(x: Tensor) -> Tensor:
    return apply(E.ReLU, x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return apply(E.LeakyReLU, x, slope=negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return apply(E.Sigmoid, x)


def tanh(x: Tensor) -> Tensor:
    return apply(E.Tanh, x)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Softmax along ``dim``; the max is subtracted first, so any logits are safe."""
    return apply(R.Softmax, x, axis=dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    return apply(R.LogSoftmax, x, axis=dim)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU, exact (erf) or ``approximate='tanh'``, as torch.nn.functional.gelu."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    return apply(E.GELU, x, approximate=approximate)


def silu(x: Tensor) -> Tensor:
    return apply(E.SiLU, x)


swish = silu


def softmax_composed(x: Tensor, dim: int = -1) -> Tensor:
    """softmax from primitives, exp(x - max) / Σ exp(x - max): the reference for the fused op."""
    z = x - x.max(axis=dim, keepdims=True).detach()
    e = z.exp()
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax_composed(x: Tensor, dim: int = -1) -> Tensor:
    z = x - x.max(axis=dim, keepdims=True).detach()
    return z - z.exp().sum(axis=dim, keepdims=True).log()
