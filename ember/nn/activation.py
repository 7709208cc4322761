"""Activation modules: the functional activations with a Module face."""

from __future__ import annotations

from .. import functional as F
from .module import Module


class ReLU(Module):
    """ReLU(x) = max(0, x)"""

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """LeakyReLU(x) = x if x > 0 else negative_slope·x"""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^{-x})"""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)"""

    def forward(self, x):
        return F.tanh(x)


class Softmax(Module):
    """softmax(x)_i = e^{x_i} / Σ_j e^{x_j} along ``dim``"""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log softmax(x) along ``dim``, stable for logits of any size"""

    def forward(self, x):
        return F.log_softmax(x, self.dim)


class GELU(Module):
    """GELU(x) = x·Φ(x); ``approximate='tanh'`` for the tanh form"""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """SiLU(x) = Swish(x) = x·σ(x)"""

    def forward(self, x):
        return F.silu(x)


Swish = SiLU
