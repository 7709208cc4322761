"""LayerNorm: normalise each sample over its trailing features."""

from __future__ import annotations

from .. import backend
from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from .linear import no_negative_size
from .module import Module, Parameter


class LayerNorm(Module):
    """y = γ ⊙ (x - μ) / √(σ² + ε) + β

    μ, σ² (biased) over the trailing ``normalized_shape`` axes of each sample; γ (``weight``)
    starts at 1 and β (``bias``) at 0, both of shape ``normalized_shape`` (torch's names and
    layout). x (..., *normalized_shape) → y of the same shape. Ba et al. 2016.
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        backend.check_device(device)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            no_negative_size("LayerNorm", self.normalized_shape)
        dtype = dtype or backend.DEFAULT_DTYPE
        self.weight = (
            Parameter(xp.ones(self.normalized_shape, dtype)) if elementwise_affine else None
        )
        has_bias = elementwise_affine and bias
        self.bias = Parameter(xp.zeros(self.normalized_shape, dtype)) if has_bias else None

    def reset_parameters(self) -> None:
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps},"
            f" elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
