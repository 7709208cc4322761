"""ember.models — the model zoo. Each module registers its builders in ``registry``."""

from . import char_lstm, mnist1d_gru
from .char_lstm import CharLSTM
from .mnist1d_gru import GRUClassifier
from .registry import MODELS, get_model, register_model

__all__ = [
    "MODELS",
    "CharLSTM",
    "GRUClassifier",
    "char_lstm",
    "get_model",
    "mnist1d_gru",
    "register_model",
]
