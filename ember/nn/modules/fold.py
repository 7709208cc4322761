"""torch.nn.modules.fold at torch's path: Fold and Unfold."""

from ..layers_fold import Fold, Unfold

__all__ = ["Fold", "Unfold"]
