"""Activation modules: the functional activations with a Module face."""

from __future__ import annotations

from .. import functional as F
from .activation_more import _Inplace
from .module import Module


class ReLU(_Inplace):
    """ReLU(x) = max(0, x)   (``inplace=True``: x itself becomes the result, as torch's)"""

    def forward(self, input):  # noqa: A002
        x = input
        return F.relu(x, self.inplace)


class LeakyReLU(Module):
    """LeakyReLU(x) = x if x > 0 else negative_slope·x"""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):  # noqa: A002
        x = input
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^{-x})"""

    def forward(self, input):  # noqa: A002
        x = input
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)"""

    def forward(self, input):  # noqa: A002
        x = input
        return F.tanh(x)


class _AlongDim(Module):
    """What Softmax and LogSoftmax share (torch derives neither from the other)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """softmax(x)_i = e^{x_i} / Σ_j e^{x_j} along ``dim`` (None: torch's deprecated implicit
    choice, with its warning)"""

    def forward(self, input):  # noqa: A002
        x = input
        return F.softmax(x, self.dim, _stacklevel=5)


class LogSoftmax(_AlongDim):
    """log softmax(x) along ``dim``, stable for logits of any size"""

    def forward(self, input):  # noqa: A002
        x = input
        return F.log_softmax(x, self.dim, _stacklevel=5)


class GELU(Module):
    """GELU(x) = x·Φ(x); ``approximate='tanh'`` for the tanh form"""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):  # noqa: A002
        x = input
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_Inplace):
    """SiLU(x) = Swish(x) = x·σ(x)"""

    def forward(self, input):  # noqa: A002
        x = input
        return F.silu(x, self.inplace)


Swish = SiLU
