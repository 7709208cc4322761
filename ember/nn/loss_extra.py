"""MultiMarginLoss, MultiLabelMarginLoss and TripletMarginWithDistanceLoss: the losses of
``ember.functional.loss_extra`` with their options held as state, under torch's names and
constructor arguments (the deprecated size_average and reduce included, in torch's positions;
see ``_Loss``).

Their reprs are torch's (``_Loss``: no fields), with the distance function of
TripletMarginWithDistanceLoss as a child module when it is one.
"""

from __future__ import annotations

from ..functional import loss_extra as L
from .activation_more import PairwiseDistance
from .loss import _Loss, _WeightedLoss


class MultiMarginLoss(_WeightedLoss):
    """ℓ_n = (1/C) · Σ_{i ≠ y} w_y · max(0, margin − x[y] + x[i])^p,  p ∈ {1, 2}"""

    def __init__(
        self, p: int = 1, margin: float = 1.0, weight=None, size_average=None, reduce=None,
        reduction: str = "mean",
    ):  # fmt: skip
        super().__init__(weight, size_average, reduce, reduction)  # weight: a buffer
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and getattr(weight, "ndim", 1) != 1:
            raise ValueError(
                f"MultiMarginLoss: weight must be 1-D, got shape {tuple(weight.shape)}"
            )
        self.p, self.margin = p, margin

    def forward(self, input, target):  # noqa: A002
        return L.multi_margin_loss(
            input, target, self.p, self.margin, self.weight, reduction=self.reduction
        )


class MultiLabelMarginLoss(_Loss):
    """ℓ_n = (1/C) · Σ_{j ∈ y} Σ_{i ∉ y} max(0, 1 − (x[j] − x[i])), y's classes ended by −1"""

    def forward(self, input, target):  # noqa: A002
        return L.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """ℓ = max(0, d(a, p) − d(a, n) + margin); swap: d(a, n) ← min(d(a, n), d(p, n))

    ``distance_function`` None is PairwiseDistance() (L2), kept as a child module as torch
    keeps it."""

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean"):  # fmt: skip
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got"
                f" {margin} instead"
            )
        self.distance_function = (
            distance_function if distance_function is not None else PairwiseDistance()
        )
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return L.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction,
        )  # fmt: skip


__all__ = ["MultiLabelMarginLoss", "MultiMarginLoss", "TripletMarginWithDistanceLoss"]
