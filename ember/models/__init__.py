"""ember.models — the model zoo. Each module registers its builders in ``registry``."""

from . import char_lstm, mlp, mnist1d_gru
from .char_lstm import CharLSTM
from .mlp import MLP
from .mnist1d_gru import GRUClassifier
from .registry import MODELS, get_model, register_model

__all__ = [
    "MLP",
    "MODELS",
    "CharLSTM",
    "GRUClassifier",
    "char_lstm",
    "get_model",
    "mlp",
    "mnist1d_gru",
    "register_model",
]
