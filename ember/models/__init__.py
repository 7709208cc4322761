"""ember.models — the model zoo. Each module registers its builders in ``registry``."""

from .registry import MODELS, get_model, register_model

__all__ = ["MODELS", "get_model", "register_model"]
