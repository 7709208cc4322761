"""GRU baseline for MNIST-1D (Greydanus & Kobak 2020): the 40-sample signal read one sample
at a time by a GRU; the last hidden state is classified.

    h_t = GRU(x_t, h_{t-1})   for t = 1..40   (x_t a scalar)
    ŷ = softmax(W·h_40 + b)

Shapes: x (B, 40) → logits (B, 10). The upstream README reports 91% test accuracy for its GRU.
"""

from __future__ import annotations

from .. import nn
from .registry import register_model


class GRUClassifier(nn.Module):
    def __init__(
        self, num_classes: int = 10, hidden_size: int = 64, num_layers: int = 1,
        bidirectional: bool = False, input_channels: int = 1,
    ):  # fmt: skip
        super().__init__()
        self.input_channels = input_channels
        self.gru = nn.GRU(
            input_channels, hidden_size, num_layers, batch_first=True, bidirectional=bidirectional
        )
        D = 2 if bidirectional else 1
        self.head = nn.Linear(D * hidden_size, num_classes)

    def forward(self, x):
        """x (B, L) or (B, L, C) → logits (B, num_classes)."""
        if x.ndim == 2:
            x = x.unsqueeze(-1)
        if x.ndim != 3 or x.shape[-1] != self.input_channels:
            raise ValueError(
                f"GRUClassifier: expected (batch, length) or (batch, length, {self.input_channels})"
                f", got {tuple(x.shape)}"
            )
        _, h_n = self.gru(x)
        last = h_n[-1] if not self.gru.bidirectional else h_n[-2:].transpose(0, 1).flatten(1)
        return self.head(last)


@register_model("gru1d", task="classification", description="GRU over the MNIST-1D signal")
def gru1d(num_classes: int = 10, hidden_size: int = 64, **options) -> GRUClassifier:
    """GRU baseline for MNIST-1D: a GRU reads the 40 samples, a linear layer classifies."""
    return GRUClassifier(num_classes, hidden_size, **options)
