"""torch.nn.modules.loss at torch's path, with torch's bases: _Loss (every loss; takes
size_average, reduce and reduction as torch's and sets ``self.reduction``) and _WeightedLoss
(adds ``weight``, kept as a buffer: CrossEntropyLoss, NLLLoss, BCELoss, …)."""

from ..ctc import CTCLoss
from ..layers_compat import NLLLoss2d
from ..linear_cross_entropy import LinearCrossEntropyLoss
from ..loss import (  # noqa: F401
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    _Loss,
    _WeightedLoss,
)
from ..loss_extra import MultiLabelMarginLoss, MultiMarginLoss, TripletMarginWithDistanceLoss
from ..loss_more import (
    CosineEmbeddingLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    MarginRankingLoss,
    MultiLabelSoftMarginLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
)

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CTCLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "LinearCrossEntropyLoss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "NLLLoss2d",
    "PoissonNLLLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]
