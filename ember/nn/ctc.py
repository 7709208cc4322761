"""CTCLoss module: ``F.ctc_loss`` with blank, reduction and zero_infinity held as state."""

from __future__ import annotations

from ..functional.ctc import ctc_loss
from .loss import _Loss


class CTCLoss(_Loss):
    """ℓ = −log p(l|x) = −log Σ_{π ∈ B⁻¹(l)} Π_t y_t^{π_t}: every alignment of l to the frames.

    Input log_probs (T, N, C) from log_softmax, targets (N, S) or concatenated,
    input_lengths and target_lengths (N,). Graves et al. 2006; see ``ember.ops.ctc``.
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return ctc_loss(
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            self.blank,
            self.reduction,
            self.zero_infinity,
        )
