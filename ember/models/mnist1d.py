"""The MNIST-1D baselines of Greydanus (2020), "Scaling down deep learning".

MLP:   h₁ = ReLU(W₁x + b₁);  h₂ = h₁ + ReLU(W₂h₁ + b₂);  y = W₃h₂ + b₃       (40 → 256 → 256 → 10)
CNN:   h₁ = ReLU(conv₁(x)) 25@5, stride 2, pad 1;  h₂ = ReLU(conv₂(h₁)) 25@3/2;
       h₃ = ReLU(conv₃(h₂)) 25@3/2;  y = W·flatten(h₃) + b            (1×40 → 25×5 = 125 → 10)

Reported test accuracies: MLP 68%, CNN 94% (GRU 91%, built by the recurrent models).
Names as in the paper's code (linear1…3; conv1…3, linear). The MLP is 256 wide, as the
paper's training script builds it (its class default is 100, which lands near 64%).
"""

from __future__ import annotations

from .. import nn
from ..functional.conv import conv_padding
from ..ops.im2col import out_size
from ..tensor import Tensor
from .registry import register_model


class MLP1d(nn.Module):
    """MLP with one residual hidden layer on a flat signal x (N, L)."""

    def __init__(self, input_size: int = 40, num_classes: int = 10, hidden_size: int = 256):
        super().__init__()
        self.input_size = input_size
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.linear2 = nn.Linear(hidden_size, hidden_size)
        self.linear3 = nn.Linear(hidden_size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.input_size:
            raise ValueError(f"MLP1d expects {self.input_size} features per sample, got {x.shape}")
        h = self.linear1(x).relu()
        h = h + self.linear2(h).relu()
        return self.linear3(h)


class CNN1d(nn.Module):
    """Three strided 1-D convolutions and a linear read-out, on x (N, L) or (N, 1, L)."""

    def __init__(self, input_size: int = 40, num_classes: int = 10, channels: int = 25,
                 in_channels: int = 1):  # fmt: skip
        super().__init__()
        self.in_channels = in_channels
        self.conv1 = nn.Conv1d(in_channels, channels, 5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        length = input_size
        for conv in (self.conv1, self.conv2, self.conv3):
            ((p, _),) = conv_padding(conv.padding, conv.kernel_size, conv.dilation, conv.stride, 1)
            length = out_size(length, conv.kernel_size[0], conv.stride[0], 2 * p, 1)
        self.linear = nn.Linear(channels * length, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], self.in_channels, -1)
        h1 = self.conv1(x).relu()
        h2 = self.conv2(h1).relu()
        h3 = self.conv3(h2).relu()
        return self.linear(h3.flatten(1))


def _length(input_size, input_shape) -> int:
    if input_shape is not None:
        return int(tuple(input_shape)[-1])
    return int(input_size if isinstance(input_size, int) else tuple(input_size)[-1])


@register_model("mlp1d", task="classification")
def mlp1d(num_classes: int = 10, hidden_size: int = 256, input_size=40, input_shape=None,
          in_channels: int = 1) -> MLP1d:  # fmt: skip
    """Greydanus's MNIST-1D MLP: 40 → 256 → (+residual) 256 → 10."""
    return MLP1d(_length(input_size, input_shape) * in_channels, num_classes, hidden_size)


@register_model("cnn1d", task="classification")
def cnn1d(num_classes: int = 10, channels: int = 25, input_size=40, input_shape=None,
          in_channels: int = 1) -> CNN1d:  # fmt: skip
    """Greydanus's MNIST-1D CNN: three 1-D convolutions (25 channels, stride 2) and a linear."""
    return CNN1d(_length(input_size, input_shape), num_classes, channels, in_channels)
