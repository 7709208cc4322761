"""Building blocks of the modern CNNs (torchvision.ops' names and semantics).

    Conv2dNormActivation:  y = act(BN(conv(x)))                 the conv-BN-activation unit
    SqueezeExcitation:     s = σ(W₂ ∗ δ(W₁ ∗ GAP(x)) + b₂),  y = s ⊙ x
    StochasticDepth:       y = m ⊙ x / (1 − p),  m ~ Bernoulli(1 − p)   (training only)

Squeeze-and-excitation (Hu, Shen & Sun 2017) squeezes each channel to its global average,
passes the C-vector through a bottleneck (W₁: C → C_s, δ, W₂: C_s → C; 1×1 convolutions,
torchvision's ``fc1``/``fc2``) and rescales every channel by the gate s ∈ (0, 1).
Stochastic depth (Huang, Sun, Liu, Sedra & Weinberger 2016) drops a residual branch whole:
mode 'row' draws one m per sample, 'batch' one for the whole batch; survivors are scaled by
1/(1 − p) so the expectation is unchanged, and in eval mode it is the identity. Its draws
come from ember's seeded generator (``ember.manual_seed``), as dropout's do.
"""

from __future__ import annotations

from .. import backend, nn
from ..tensor import Tensor


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:  # noqa: A002
    """torchvision.ops.stochastic_depth: zero whole rows (or the whole batch) with probability p."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival = 1.0 - p
    shape = (input.shape[0],) + (1,) * (input.ndim - 1) if mode == "row" else (1,) * input.ndim
    m = backend.default_generator.bernoulli_mask(survival, shape, input.dtype)
    if survival > 0.0:
        m /= survival
    return input * Tensor(m)


class StochasticDepth(nn.Module):
    """y = m ⊙ x / (1 − p) in training (m per row or per batch), x in eval."""

    def __init__(self, p: float, mode: str):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return stochastic_depth(input, self.p, self.mode, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


class SqueezeExcitation(nn.Module):
    """y = σ(fc2(δ(fc1(GAP(x))))) ⊙ x; δ = ``activation`` (ReLU), σ = ``scale_activation``."""

    def __init__(self, input_channels: int, squeeze_channels: int, activation=nn.ReLU,
                 scale_activation=nn.Sigmoid):  # fmt: skip
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        s = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(input)))))
        return s * input


class Conv2dNormActivation(nn.Sequential):
    """conv k×k (padding (k−1)/2, no bias) → BN → activation: children 0, 1, 2 as torchvision's."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, groups: int = 1, activation_layer=nn.ReLU,
                 bn_eps: float = 1e-5, bn_momentum: float = 0.1):  # fmt: skip
        padding = (kernel_size - 1) // 2
        conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, groups=groups,
                         bias=False)  # fmt: skip
        layers = [conv, nn.BatchNorm2d(out_channels, eps=bn_eps, momentum=bn_momentum)]
        if activation_layer is not None:
            layers.append(activation_layer())
        super().__init__(*layers)
        self.out_channels = out_channels
