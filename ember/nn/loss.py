"""Loss modules: the functional losses with their options held as state."""

from __future__ import annotations

import sys

from .. import functional as F
from ..functional.loss import check_reduction
from ..functional.loss_legacy import legacy_reduction
from .module import Module


def _is_init_of(frame, obj) -> bool:
    return frame.f_code.co_name == "__init__" and frame.f_locals.get("self") is obj


class _Loss(Module):
    """The base of the loss modules. Its arguments are torch's, deprecated ones included, so
    torch code that passes them by position lands in the same slots: size_average or reduce
    not None overrides ``reduction`` as torch does (see ``legacy_reduction``).

    ember's own losses check ``reduction`` here, against ``reductions``; a loss written on this
    base outside ember keeps whatever string it is given, as torch's _Loss does (its forward
    reads it)."""

    reductions = ("mean", "sum", "none")  # a loss that takes more (KLDivLoss) names them here

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            # the warning names the code that built the loss: past this and subclasses' __init__
            level, frame = 3, sys._getframe(1)
            while frame is not None and _is_init_of(frame, self):
                level, frame = level + 1, frame.f_back
            reduction = legacy_reduction(size_average, reduce, level)
        if type(self).__module__.startswith("ember."):
            check_reduction(reduction, self.reductions, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self):
        return ""  # torch's loss modules show no fields


class _WeightedLoss(_Loss):
    """torch's base of the losses with class weights (CrossEntropyLoss, NLLLoss, BCELoss, …):
    ``weight`` (or None) is kept as a buffer, so a given one is in the state_dict."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """ℓ = mean((x - y)²)"""

    def forward(self, input, target):  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """ℓ = mean(|x - y|)"""

    def forward(self, input, target):  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """ℓ = -log softmax(z)[t], from logits (fused and stable); see F.cross_entropy."""

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):  # noqa: A002
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """ℓ = -x[t] for log-probabilities x"""

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):  # noqa: A002
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class BCELoss(_WeightedLoss):
    """ℓ = -[y·log x + (1-y)·log(1-x)] on probabilities x"""

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """ℓ = -[p·y·log σ(z) + (1-y)·log(1-σ(z))] from logits z, stable"""

    def __init__(
        self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
        pos_weight=None,
    ):  # fmt: skip
        super().__init__(size_average, reduce, reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )
