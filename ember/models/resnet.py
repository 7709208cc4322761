"""ResNet from BasicBlocks (He, Zhang, Ren & Sun 2015): skip connections let depth train.

    F(x) = BN₂(conv₂(ReLU(BN₁(conv₁(x)))))        two 3×3 convolutions
    y    = ReLU(F(x) + S(x))                      S = identity, or 1×1 conv + BN when the
                                                  shape changes (stride 2 or more channels)

A stem (conv1, bn1, ReLU, maxpool), stages layer1…layerK of BasicBlocks (widths w, 2w, 4w,
…; every stage after the first halves the resolution), a global average pool and fc.
Module names and layouts are torchvision's (conv1, bn1, layer1.0.conv1, …,
layer2.0.downsample.0/1, fc), so a torch ResNet built the same way loads with
``load_state_dict``. ``stem="imagenet"`` is torchvision's 7×7/2 conv + 3×3/2 max pool;
``stem="small"`` (default for images under 64 px) is a 3×3/1 conv and no pool, as for
CIFAR-sized inputs. ``dims=1`` builds the same network with 1-D convolutions.
"""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor
from .registry import register_model

PRESETS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 10: (1, 1, 1, 1), 14: (2, 2, 2)}


def _layers(dims: int):
    if dims == 2:
        return nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d
    return nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d, nn.AdaptiveAvgPool1d


class BasicBlock(nn.Module):
    """y = ReLU(BN₂(conv₂(ReLU(BN₁(conv₁(x))))) + S(x))."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None, dims=2):
        super().__init__()
        conv, bn, _, _ = _layers(dims)
        self.conv1 = conv(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = bn(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = bn(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        F_x = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(F_x + identity)


class ResNet(nn.Module):
    """ResNet of BasicBlocks: ``layers`` blocks per stage, base ``width`` channels."""

    def __init__(self, layers=(2, 2, 2, 2), num_classes: int = 1000, in_channels: int = 3,
                 width: int = 64, stem: str = "imagenet", dims: int = 2,
                 zero_init_residual: bool = False):  # fmt: skip
        super().__init__()
        if stem not in ("imagenet", "small"):
            raise ValueError(f"stem must be 'imagenet' or 'small', got {stem!r}")
        if not layers or any(n < 1 for n in layers):
            raise ValueError(f"layers must list at least one stage of ≥1 blocks, got {layers!r}")
        conv, bn, pool, gap = _layers(dims)
        self.dims, self.inplanes = dims, width
        if stem == "imagenet":
            self.conv1 = conv(in_channels, width, 7, stride=2, padding=3, bias=False)
            self.maxpool = pool(3, stride=2, padding=1)
        else:
            self.conv1 = conv(in_channels, width, 3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = bn(width)
        self.relu = nn.ReLU()
        for i, n_blocks in enumerate(layers):
            stage = self._make_layer(width * 2**i, n_blocks, 1 if i == 0 else 2)
            setattr(self, f"layer{i + 1}", stage)
        self.stages = len(layers)
        self.avgpool = gap(1)
        self.fc = nn.Linear(width * 2 ** (len(layers) - 1) * BasicBlock.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        conv, bn, _, _ = _layers(self.dims)
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                conv(self.inplanes, planes, 1, stride=stride, bias=False), bn(planes)
            )
        blocks_ = [BasicBlock(self.inplanes, planes, stride, downsample, self.dims)]
        self.inplanes = planes
        blocks_ += [BasicBlock(planes, planes, dims=self.dims) for _ in range(1, blocks)]
        return nn.Sequential(*blocks_)

    def _init_weights(self, zero_init_residual: bool) -> None:
        """torchvision's: He-normal (fan_out, ReLU) convs, BN γ = 1 and β = 0."""
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, BasicBlock) and zero_init_residual:
                nn.init.zeros_(m.bn2.weight)

    def features(self, x: Tensor) -> Tensor:
        """The last stage's feature maps, before pooling."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == self.dims + 1:  # (N, H, W) or (N, L): one input channel
            x = x.unsqueeze(1)
        return self.fc(self.avgpool(self.features(x)).flatten(1))


@register_model("resnet", task="classification")
def resnet(in_channels: int = 1, num_classes: int = 10, depth: int | None = None, layers=None,
           width: int = 16, stem: str | None = None, input_size=28, input_shape=None,
           zero_init_residual: bool = False) -> ResNet:  # fmt: skip
    """ResNet of BasicBlocks; defaults suit 28×28 images on a CPU: 3 stages × 2 blocks, width 16.

    ``depth`` picks a preset (10, 14, 18, 34: torchvision's resnet18/34 block counts) unless
    ``layers`` lists the blocks per stage.
    """
    if layers is None:
        if depth is not None and depth not in PRESETS:
            raise ValueError(f"depth must be one of {sorted(PRESETS)}, got {depth}")
        layers = PRESETS[depth] if depth is not None else (2, 2, 2)
    dims = 2
    if input_shape is not None:
        shape = tuple(input_shape)
        dims = max(1, len(shape) - 1) if len(shape) > 1 else 1
        in_channels = shape[0] if len(shape) > 1 else 1
        input_size = shape[1:] if len(shape) > 1 else shape
    size = input_size if isinstance(input_size, int) else min(input_size)
    if stem is None:
        stem = "small" if size < 64 else "imagenet"
    if stem == "imagenet" and size < 32:
        raise ValueError(f"stem='imagenet' downsamples 4×; input size {size} is too small")
    return ResNet(tuple(layers), num_classes, in_channels, width, stem, dims, zero_init_residual)
