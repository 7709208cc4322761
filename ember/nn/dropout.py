"""Dropout: during training zero each element with probability p, scale the rest by 1/(1-p);
and torch's base of the dropout layers, _DropoutNd."""

from __future__ import annotations

from .. import functional as F
from ..function import is_grad_enabled
from ..mistakes import check_training_mode_in_no_grad
from .module import Module


class _DropoutNd(Module):
    """What the dropout layers share (torch's base of Dropout, Dropout1d/2d/3d, AlphaDropout
    and FeatureAlphaDropout): ``p``, ``inplace``, the repr, and a forward that applies the
    class's ``fn(x, p, training, inplace)``; identity in eval. Masks come from ember's seeded
    generator."""

    fn = None

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):  # noqa: A002
        x = input
        if self.training and self.p > 0 and not is_grad_enabled():
            check_training_mode_in_no_grad(type(self).__name__)  # evaluating without eval()
        return type(self).fn(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout (F.dropout); with ``inplace=True`` x itself becomes the result, as
    torch's."""

    fn = staticmethod(F.dropout)
