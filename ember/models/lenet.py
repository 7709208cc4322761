"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998): two conv + pool stages, three linear layers.

    h₁ = pool(ReLU(conv₁(x)))       conv 5×5, 6 filters, padding 2 (28×28 stays 28×28), pool 2
    h₂ = pool(ReLU(conv₂(h₁)))      conv 5×5, 16 filters, pool 2            → 16×5×5 = 400
    y  = fc₃(ReLU(fc₂(ReLU(fc₁(flatten(h₂))))))      400 → 120 → 84 → classes

The modern form (ReLU and max pooling where the paper had scaled tanh and trainable
subsampling), as ember's benchmark and PERFORMANCE.md define it. Smaller images (8×8
digits) pad the second convolution too, so two pools still fit; 1-D signals (MNIST-1D)
get the same network with 1-D convolutions and pools.
"""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor
from .registry import register_model
from .shapes import as_image_batch, spatial_shape


class LeNet5(nn.Module):
    """LeNet-5 on x (N, C, H, W) — or (N, C, L) with ``dims=1`` — returning logits (N, classes)."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size=28, dims: int = 2):
        super().__init__()
        size = spatial_shape(input_size, dims)
        conv, pool = (nn.Conv2d, nn.MaxPool2d) if dims == 2 else (nn.Conv1d, nn.MaxPool1d)
        pad2 = 0 if min(size) >= 16 else 2
        after = [((s // 2) - 4 + 2 * pad2) // 2 for s in size]
        if min(after) < 1:
            raise ValueError(
                f"LeNet5: input size {size} is too small for two 5×5 conv + pool stages"
            )
        self.dims, self.in_channels, self.input_size = dims, in_channels, size
        self.conv1 = conv(in_channels, 6, 5, padding=2)
        self.pool1 = pool(2)
        self.conv2 = conv(6, 16, 5, padding=pad2)
        self.pool2 = pool(2)
        n_flat = 16
        for s in after:
            n_flat *= s
        self.fc1 = nn.Linear(n_flat, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        x = as_image_batch(x, self.in_channels, self.input_size)
        h = self.pool1(self.relu(self.conv1(x)))
        h = self.pool2(self.relu(self.conv2(h)))
        h = h.flatten(1)
        h = self.relu(self.fc1(h))
        h = self.relu(self.fc2(h))
        return self.fc3(h)


@register_model("lenet", task="classification")
def lenet(in_channels: int = 1, num_classes: int = 10, input_size=28, input_shape=None):
    """LeNet-5: conv 6@5×5, pool, conv 16@5×5, pool, fc 120, fc 84, fc classes."""
    in_channels, input_size, dims = _from_shape(in_channels, input_size, input_shape)
    return LeNet5(in_channels, num_classes, input_size, dims)


def _from_shape(in_channels, input_size, input_shape):
    """(C, H, W) → 2-D, (C, L) or (L,) → 1-D; otherwise ``input_size`` decides."""
    if input_shape is None:
        if isinstance(input_size, (tuple, list)) and len(input_size) == 1:
            return in_channels, tuple(input_size), 1
        return in_channels, input_size, 2
    shape = tuple(input_shape)
    if len(shape) == 3:
        return shape[0], shape[1:], 2
    if len(shape) == 2:
        return shape[0], shape[1:], 1
    if len(shape) == 1:
        return 1, shape, 1
    raise ValueError(f"input_shape must be (C, H, W), (C, L) or (L,), got {input_shape!r}")
