"""torch.nn.modules.sparse at torch's path: Embedding and EmbeddingBag."""

from ..layers_fold import EmbeddingBag
from ..linear import Embedding

__all__ = ["Embedding", "EmbeddingBag"]
