"""MLP: a multilayer perceptron for classification.

    h₀ = flatten(x)
    h_k = φ(W_k·h_{k-1} + b_k)        k = 1 … L   (φ = ReLU; dropout after φ when p > 0)
    z = W_{L+1}·h_L + b_{L+1}          logits, one per class

Shapes: x (N, *) with prod(*) = in_features → z (N, num_classes). Stored as torch's
``nn.Sequential(nn.Flatten(), nn.Linear, nn.ReLU, …, nn.Linear)``, so a torch state_dict of that
Sequential (keys ``1.weight``, ``1.bias``, ``3.weight``, …; with dropout every hidden block
takes three slots) loads unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from .registry import register_model

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid}


class MLP(nn.Sequential):
    """Flatten → [Linear → activation (→ Dropout)] × len(hidden_sizes) → Linear."""

    def __init__(
        self,
        in_features: int = 784,
        hidden_sizes: Sequence[int] = (256, 256),
        num_classes: int = 10,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(_ACTIVATIONS)}, got {activation!r}"
            )
        if isinstance(hidden_sizes, int):
            hidden_sizes = (hidden_sizes,)
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden_sizes:
            layers += [nn.Linear(width, int(h)), _ACTIVATIONS[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = int(h)
        layers.append(nn.Linear(width, num_classes))
        super().__init__(*layers)
        self.in_features, self.num_classes = in_features, num_classes
        self.hidden_sizes = tuple(int(h) for h in hidden_sizes)

    def extra_repr(self) -> str:
        sizes = (self.in_features, *self.hidden_sizes, self.num_classes)
        return " → ".join(map(str, sizes))


@register_model("mlp", task="classification", description="multilayer perceptron (ReLU)")
def mlp(
    in_features: int = 784,
    num_classes: int = 10,
    hidden_sizes: Sequence[int] = (256, 256),
    activation: str = "relu",
    dropout: float = 0.0,
) -> MLP:
    """An MLP classifier; ``in_features``/``num_classes`` come from the dataset."""
    return MLP(in_features, hidden_sizes, num_classes, activation, dropout)
