"""Dropout: during training zero each element with probability p, scale the rest by 1/(1-p)."""

from __future__ import annotations

from .. import functional as F
from ..function import is_grad_enabled
from ..mistakes import check_training_mode_in_no_grad
from .module import Module


class Dropout(Module):
    """Inverted dropout (F.dropout); with ``inplace=True`` x itself becomes the result, as
    torch's."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        if self.training and self.p > 0 and not is_grad_enabled():
            check_training_mode_in_no_grad("Dropout")  # evaluating without model.eval()
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
