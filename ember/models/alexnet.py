"""AlexNet (Krizhevsky, Sutskever & Hinton 2012): the deep CNN that won ImageNet 2012.

    features:   conv 11×11/4 → ReLU → [LRN] → max pool 3/2
                conv 5×5     → ReLU → [LRN] → max pool 3/2
                conv 3×3 → ReLU → conv 3×3 → ReLU → conv 3×3 → ReLU → max pool 3/2
    avgpool:    adaptive average pool to 6×6
    classifier: Dropout → Linear(256·6·6, 4096) → ReLU → Dropout → Linear(4096, 4096) → ReLU
                → Linear(4096, classes)

    LRN:        b_c = a_c / (k + (α/n) Σ_{c' near c} a_{c'}²)^β,  n = 5, α = 1e-4, β = 0.75, k = 2

ReLUs, dropout in the classifier, overlapping pools and local response normalisation (LRN)
were the paper's ingredients. The layout and names are torchvision's (``features.0`` …
``features.12``, ``avgpool``, ``classifier.1/.4/.6``), which follows the single-GPU "one
weird trick" variant (Krizhevsky 2014: 64, 192, 384, 256, 256 filters, where the 2012
paper split 96, 256, 384, 384, 256 over two GPUs) and leaves LRN out. ``lrn=True`` puts it
back after the first two ReLUs as the 2012 paper had it: slots 1 and 4 then hold
``Sequential(ReLU, LocalResponseNorm)``, so every index, and the state_dict (LRN has no
parameters), stays torchvision's. Default (PyTorch) layer initialisation, as torchvision.

``alexnet_small`` (registered for ``ember train``) is the same network shrunk for 28×28
one-channel images: a 5×5/1 first convolution, narrower layers, a 2×2 pool before a
256-wide classifier, and He-normal weights (zero biases) so that eight layers without
normalisation train from scratch at a constant learning rate.
"""

from __future__ import annotations

from .. import nn
from ..nn.local_response import LocalResponseNorm
from ..tensor import Tensor
from .registry import register_model
from .shapes import as_image_batch, spatial_shape


class AlexNet(nn.Module):
    """x (N, C, H, W) → logits (N, classes); torchvision's at the defaults (H, W ≥ 63)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, lrn: bool = False,
                 in_channels: int = 3, widths=(64, 192, 384, 256, 256), hidden: int = 4096,
                 stem=(11, 4, 2), pool_size: int = 6):  # fmt: skip
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        k, s, p = stem

        def relu_lrn():  # the 2012 paper normalised responses after the first two ReLUs
            if not lrn:
                return nn.ReLU()
            return nn.Sequential(nn.ReLU(), LocalResponseNorm(5, 1e-4, 0.75, 2.0))

        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, k, stride=s, padding=p),  # 0
            relu_lrn(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(c1, c2, 5, padding=2),  # 3
            relu_lrn(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(c2, c3, 3, padding=1),  # 6
            nn.ReLU(),
            nn.Conv2d(c3, c4, 3, padding=1),  # 8
            nn.ReLU(),
            nn.Conv2d(c4, c5, 3, padding=1),  # 10
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(c5 * pool_size * pool_size, hidden),  # 1
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),  # 4
            nn.ReLU(),
            nn.Linear(hidden, num_classes),  # 6
        )
        self.in_channels, self.input_size = in_channels, None

    def forward(self, x: Tensor) -> Tensor:
        if self.input_size is not None:  # the small variant also takes (N, H, W) or flat rows
            x = as_image_batch(x, self.in_channels, self.input_size)
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def alexnet(num_classes: int = 1000, dropout: float = 0.5, lrn: bool = False) -> AlexNet:
    """torchvision's AlexNet (61,100,840 parameters at 1000 classes); ``lrn`` as the 2012 paper."""
    return AlexNet(num_classes, dropout, lrn)


@register_model("alexnet_small", task="classification")
def alexnet_small(in_channels: int = 1, num_classes: int = 10, dropout: float = 0.5,
                  lrn: bool = False, widths=(32, 64, 96, 64, 64), hidden: int = 256,
                  input_size=28, input_shape=None) -> AlexNet:  # fmt: skip
    """AlexNet for 28×28 images: conv 5×5/1, pools 3/2 (28 → 13 → 6 → 2), fc 256, 256.

    Needs inputs of at least 7×7 (three 3/2 pools); ``lrn=True`` adds the 2012 paper's LRN.
    """
    if input_shape is not None:
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(f"alexnet_small: input_shape must be (C, H, W), got {input_shape!r}")
        in_channels, input_size = shape[0], shape[1:]
    size = spatial_shape(input_size, 2)
    if min(size) < 7:
        raise ValueError(f"alexnet_small: input size {size} is too small for three 3/2 pools")
    model = AlexNet(num_classes, dropout, lrn, in_channels, tuple(widths), hidden, (5, 1, 2), 2)
    model.input_size = size
    for m in model.modules():  # He et al. 2015: keeps the activations' scale through 8 ReLUs
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model
