"""ember.models — the model zoo. Each module registers its builders in ``registry``."""

from . import gpt  # noqa: F401  (registers "gpt")
from .gpt import GPT
from .registry import MODELS, get_model, register_model

__all__ = ["GPT", "MODELS", "get_model", "register_model"]
