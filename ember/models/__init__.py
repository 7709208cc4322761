"""ember.models — the model zoo. Each module registers its builders in ``registry``."""

from . import gpt  # noqa: F401  (registers "gpt")
from .bert import BertConfig, BertModel
from .gpt import GPT
from .registry import MODELS, get_model, register_model
from .sentence import SentenceEncoder

__all__ = [
    "BertConfig",
    "BertModel",
    "GPT",
    "MODELS",
    "SentenceEncoder",
    "get_model",
    "register_model",
]
