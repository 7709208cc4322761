"""EfficientNet (Tan & Le 2019): MBConv stages scaled in width and depth together.

    MBConv(x):  h = SiLU(BN(W_e ∗ x))                 expand 1×1 to t·C channels (if t ≠ 1)
                h = SiLU(BN(W_d ⊛ h))                 depthwise k×k, stride s
                h = SE(h) = σ(fc₂(SiLU(fc₁(GAP(h))))) ⊙ h     squeeze to max(1, C/4)
                y = BN(W_p ∗ h)                        project 1×1 to C_out, no activation
                y = x + StochasticDepth(y)             the residual, when s = 1 and C_out = C

    network:    conv 3×3/2 → BN → SiLU, seven MBConv stages, conv 1×1 → BN → SiLU (4·C_last),
                global average pool, Dropout, Linear

B0's stages (t, k, s, C_in, C_out, L): (1,3,1,32,16,1) (6,3,2,16,24,2) (6,5,2,24,40,2)
(6,3,2,40,80,3) (6,5,1,80,112,3) (6,5,2,112,192,4) (6,3,1,192,320,1). B1…B7 scale every
channel count by a width multiplier w (rounded to a multiple of 8, never below 90%) and
every L by a depth multiplier d (rounded up): compound scaling, the paper's point.
Stochastic depth's p grows linearly with the block's index, 0 to ``stochastic_depth_prob``.

Built as torchvision builds it, names included (``features.0.0.weight``,
``features.1.0.block.0.0.weight`` … ``classifier.1.weight``), so torchvision's state_dicts
load; torchvision's initialisation (He-normal fan_out convs, BN γ = 1 β = 0, Linear
U(±1/√out)). ``efficientnet_small`` (registered for ``ember train``) is a four-stage,
narrow version for 28×28 one-channel images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .. import nn
from ..tensor import Tensor
from .blocks import Conv2dNormActivation, SqueezeExcitation, StochasticDepth
from .registry import register_model
from .shapes import as_image_batch, spatial_shape

B0_SETTING = (  # (expand_ratio t, kernel k, stride s, input C, output C, layers L)
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
)
SMALL_SETTING = ((1, 3, 1, 16, 16, 1), (4, 3, 2, 16, 24, 2), (4, 5, 2, 24, 40, 2),
                 (4, 3, 1, 40, 64, 1))  # fmt: skip
# name: (width multiplier, depth multiplier, dropout); B5-B7 use BN eps 1e-3, momentum 0.01
PRESETS = {
    "b0": (1.0, 1.0, 0.2), "b1": (1.0, 1.1, 0.2), "b2": (1.1, 1.2, 0.3), "b3": (1.2, 1.4, 0.3),
    "b4": (1.4, 1.8, 0.4), "b5": (1.6, 2.2, 0.4), "b6": (1.8, 2.6, 0.5), "b7": (2.0, 3.1, 0.5),
}  # fmt: skip


def _make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """v rounded to the nearest multiple of ``divisor``, but never below 90% of v."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


@dataclass
class MBConvConfig:
    """One stage: L MBConv blocks, the first with stride s and C_in → C_out."""

    expand_ratio: float
    kernel: int
    stride: int
    input_channels: int
    out_channels: int
    num_layers: int

    @classmethod
    def scaled(cls, t, k, s, c_in, c_out, layers, width_mult=1.0, depth_mult=1.0):
        return cls(t, k, s, _make_divisible(c_in * width_mult), _make_divisible(c_out * width_mult),
                   int(math.ceil(layers * depth_mult)))  # fmt: skip


class MBConv(nn.Module):
    """Inverted residual with squeeze-excitation; the residual only where shapes agree."""

    def __init__(self, cnf: MBConvConfig, stochastic_depth_prob: float, bn_eps: float = 1e-5,
                 bn_momentum: float = 0.1):  # fmt: skip
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError(f"MBConv: stride must be 1 or 2, got {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        bn = {"bn_eps": bn_eps, "bn_momentum": bn_momentum}
        c_in, c_exp = cnf.input_channels, _make_divisible(cnf.input_channels * cnf.expand_ratio)
        layers = []
        if c_exp != c_in:
            layers.append(Conv2dNormActivation(c_in, c_exp, 1, activation_layer=nn.SiLU, **bn))
        layers.append(Conv2dNormActivation(c_exp, c_exp, cnf.kernel, cnf.stride, groups=c_exp,
                                           activation_layer=nn.SiLU, **bn))  # fmt: skip
        layers.append(SqueezeExcitation(c_exp, max(1, c_in // 4), activation=nn.SiLU))
        layers.append(Conv2dNormActivation(c_exp, cnf.out_channels, 1, activation_layer=None,
                                           **bn))  # fmt: skip
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, x: Tensor) -> Tensor:
        y = self.block(x)
        return x + self.stochastic_depth(y) if self.use_res_connect else y


class EfficientNet(nn.Module):
    """EfficientNet from stage configs; x (N, C, H, W) → logits (N, classes)."""

    def __init__(self, inverted_residual_setting, dropout: float, stochastic_depth_prob=0.2,
                 num_classes: int = 1000, last_channel: int | None = None, bn_eps=1e-5,
                 bn_momentum=0.1, in_channels: int = 3, stem_stride: int = 2):  # fmt: skip
        super().__init__()
        setting = list(inverted_residual_setting)
        if not setting or not all(isinstance(c, MBConvConfig) for c in setting):
            raise TypeError("inverted_residual_setting must be a non-empty list of MBConvConfig")
        bn = {"bn_eps": bn_eps, "bn_momentum": bn_momentum}
        layers = [Conv2dNormActivation(in_channels, setting[0].input_channels, 3, stem_stride,
                                       activation_layer=nn.SiLU, **bn)]  # fmt: skip
        total, block_id = sum(c.num_layers for c in setting), 0
        for cnf in setting:
            stage = []
            for i in range(cnf.num_layers):
                if i:  # later blocks of a stage keep the resolution and width
                    cnf = replace(cnf, input_channels=cnf.out_channels, stride=1)
                p = stochastic_depth_prob * float(block_id) / total  # deeper blocks drop more
                stage.append(MBConv(cnf, p, **bn))
                block_id += 1
            layers.append(nn.Sequential(*stage))
        c_last = setting[-1].out_channels
        c_head = last_channel if last_channel is not None else 4 * c_last
        layers.append(Conv2dNormActivation(c_last, c_head, 1, activation_layer=nn.SiLU, **bn))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(c_head, num_classes))
        self.in_channels, self.input_size = in_channels, None
        self._init_weights()

    def _init_weights(self) -> None:
        """torchvision's: He-normal (fan_out) convs, BN γ = 1 β = 0, Linear U(±1/√out)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        if self.input_size is not None:  # the small variant also takes (N, H, W) or flat rows
            x = as_image_batch(x, self.in_channels, self.input_size)
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def _efficientnet(arch: str, num_classes: int, dropout, stochastic_depth_prob) -> EfficientNet:
    width, depth, default_dropout = PRESETS[arch]
    setting = [MBConvConfig.scaled(*row, width, depth) for row in B0_SETTING]
    bn = {"bn_eps": 1e-3, "bn_momentum": 0.01} if arch in ("b5", "b6", "b7") else {}
    dropout = default_dropout if dropout is None else dropout
    return EfficientNet(setting, dropout, stochastic_depth_prob, num_classes, **bn)


def efficientnet_b0(num_classes: int = 1000, dropout=None, stochastic_depth_prob=0.2):
    """EfficientNet-B0 (5,288,548 parameters at 1000 classes; 224×224 in the paper)."""
    return _efficientnet("b0", num_classes, dropout, stochastic_depth_prob)


def efficientnet_b1(num_classes: int = 1000, dropout=None, stochastic_depth_prob=0.2):
    """EfficientNet-B1: depth × 1.1 (7,794,184 parameters at 1000 classes; 240×240)."""
    return _efficientnet("b1", num_classes, dropout, stochastic_depth_prob)


def efficientnet(variant: str = "b0", num_classes: int = 1000, dropout=None,
                 stochastic_depth_prob=0.2) -> EfficientNet:  # fmt: skip
    """Any of B0…B7 by name (torchvision's multipliers, dropouts and BN settings)."""
    if variant not in PRESETS:
        raise ValueError(f"variant must be one of {sorted(PRESETS)}, got {variant!r}")
    return _efficientnet(variant, num_classes, dropout, stochastic_depth_prob)


@register_model("efficientnet_small", task="classification")
def efficientnet_small(in_channels: int = 1, num_classes: int = 10, width_mult: float = 1.0,
                       depth_mult: float = 1.0, dropout: float = 0.2,
                       stochastic_depth_prob: float = 0.1, input_size=28,
                       input_shape=None) -> EfficientNet:  # fmt: skip
    """EfficientNet for 28×28 images: stem 16@3×3/2, four MBConv stages (14 → 7 → 4), head 256."""
    if input_shape is not None:
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(f"efficientnet_small: input_shape must be (C, H, W), got {shape!r}")
        in_channels, input_size = shape[0], shape[1:]
    setting = [MBConvConfig.scaled(*row, width_mult, depth_mult) for row in SMALL_SETTING]
    head = _make_divisible(256 * width_mult)
    model = EfficientNet(setting, dropout, stochastic_depth_prob, num_classes, head,
                         in_channels=in_channels)  # fmt: skip
    model.input_size = spatial_shape(input_size, 2)
    return model
