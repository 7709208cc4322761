"""A VGG-style network (Simonyan & Zisserman 2014): stacks of 3×3 convolutions and 2×2 pools.

    features:   [conv 3×3 (+BN) → ReLU] × n, max pool 2      per stage, channels doubling
    classifier: global average pool → Linear → ReLU → Dropout → Linear

Small 3×3 filters stacked deep see as far as one large filter with fewer weights.
Names follow torchvision's VGG (``features.N``, ``classifier.N``); the configuration
``cfg`` lists channel counts and "M" for a pool, as torchvision's ``cfgs`` do. The
default is a small VGG for 28×28 images; global average pooling replaces torchvision's
7×7 flatten so any input size works.
"""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor
from .registry import register_model

SMALL_CFG = (32, 32, "M", 64, 64, "M", 128, 128, "M")


class VGG(nn.Module):
    def __init__(self, cfg=SMALL_CFG, in_channels: int = 1, num_classes: int = 10,
                 batch_norm: bool = True, hidden: int = 256, dropout: float = 0.5):  # fmt: skip
        super().__init__()
        layers, c = [], in_channels
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers.append(nn.Conv2d(c, int(v), 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(v)))
            layers.append(nn.ReLU())
            c = int(v)
        self.in_channels = in_channels
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(c, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, num_classes)
        )
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 3:
            x = x.unsqueeze(1)
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


@register_model("vgg", task="classification")
def vgg(
    in_channels: int = 1,
    num_classes: int = 10,
    cfg=SMALL_CFG,
    batch_norm: bool = True,
    hidden: int = 256,
    dropout: float = 0.5,
    input_size=28,
    input_shape=None,
) -> VGG:
    """VGG-style: 3×3 conv stacks with BN, 2×2 pools, GAP, a two-layer classifier.

    ``input_size`` is accepted for the CLI's sake: global average pooling fits any size.
    """
    if input_shape is not None:
        in_channels = tuple(input_shape)[0]
    return VGG(tuple(cfg), in_channels, num_classes, batch_norm, hidden, dropout)
