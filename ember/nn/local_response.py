"""LocalResponseNorm: lateral inhibition across channels (Krizhevsky et al. 2012, §3.3).

    b_c = a_c / (k + (α/n) · Σ_{c' in the n channels around c} a_{c'}²)^β

x (N, C, *) → the same shape; channels past the edges count as zeros. No parameters.
AlexNet used n = 5, α = 1e-4, β = 0.75, k = 2.
"""

from __future__ import annotations

from ..functional.local_response import local_response_norm
from ..tensor import Tensor
from .module import Module


class LocalResponseNorm(Module):
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - torch's argument name
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
