"""More loss modules: the losses of ``ember.functional.loss_more`` with their options held as
state, under torch's names and constructor arguments (the deprecated size_average and reduce
included, in torch's positions; see ``_Loss``)."""

from __future__ import annotations

from ..functional import loss_more as L
from .loss import _Loss, _WeightedLoss


class SmoothL1Loss(_Loss):
    """z = |x - y|;  ℓ = 0.5·z²/β if z < β, else z - 0.5·β"""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):  # noqa: A002
        return L.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """z = |x - y|;  ℓ = 0.5·z² if z < δ, else δ·(z - 0.5·δ)"""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):  # noqa: A002
        return L.huber_loss(input, target, self.reduction, self.delta)


class KLDivLoss(_Loss):
    """ℓ = p·(log p - log q) for input log q; reduction may also be 'batchmean' (the true KL)"""

    reductions = ("mean", "sum", "none", "batchmean")

    def __init__(
        self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False
    ):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):  # noqa: A002
        return L.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    """ℓ = max(0, -y·(x₁ - x₂) + margin)"""

    def __init__(
        self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"
    ):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return L.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """ℓ = x if y = 1, max(0, margin - x) if y = -1"""

    def __init__(
        self, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean"
    ):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):  # noqa: A002
        return L.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """ℓ = 1 - cos(x₁, x₂) if y = 1, max(0, cos(x₁, x₂) - margin) if y = -1"""

    def __init__(
        self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"
    ):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return L.cosine_embedding_loss(
            input1, input2, target, self.margin, reduction=self.reduction
        )


class TripletMarginLoss(_Loss):
    """ℓ = max(0, ‖a - p + ε‖_p - ‖a - n + ε‖_p + margin)"""

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(size_average, reduce, reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return L.triplet_margin_loss(
            anchor,
            positive,
            negative,
            self.margin,
            self.p,
            self.eps,
            self.swap,
            reduction=self.reduction,
        )


class PoissonNLLLoss(_Loss):
    """ℓ = e^x - y·x (log_input), or x - y·log(x + eps); full adds Stirling's term"""

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average=None,
        eps: float = 1e-8,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return L.poisson_nll_loss(
            log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction
        )


class GaussianNLLLoss(_Loss):
    """ℓ = ½·(log max(var, eps) + (x - y)² / max(var, eps))  (+ ½·log 2π if full)"""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):  # noqa: A002
        return L.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class SoftMarginLoss(_Loss):
    """ℓ = log(1 + e^{-y·x})"""

    def forward(self, input, target):  # noqa: A002
        return L.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """ℓ_n = -(1/C)·Σ_c w_c·[y_c·log σ(x_c) + (1 - y_c)·log σ(-x_c)]"""

    def forward(self, input, target):  # noqa: A002
        return L.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)
