"""ember.models — the model zoo. Each module registers its builders in ``registry``."""

from . import mlp
from .mlp import MLP
from .registry import MODELS, get_model, register_model

__all__ = ["MLP", "MODELS", "get_model", "mlp", "register_model"]
