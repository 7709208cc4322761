"""torch.nn.modules.distance at torch's path: PairwiseDistance and CosineSimilarity."""

from ..activation_more import CosineSimilarity, PairwiseDistance

__all__ = ["CosineSimilarity", "PairwiseDistance"]
