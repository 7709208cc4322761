"""ember.models — the model zoo. Each module registers its builders in ``registry``."""

from . import char_lstm, gpt, lenet, mlp, mnist1d, mnist1d_gru, resnet, vgg
from .bert import BertConfig, BertModel
from .char_lstm import CharLSTM
from .gpt import GPT
from .lenet import LeNet5
from .mlp import MLP
from .mnist1d import CNN1d, MLP1d
from .mnist1d_gru import GRUClassifier
from .registry import MODELS, get_model, register_model
from .resnet import BasicBlock, ResNet
from .sentence import SentenceEncoder
from .vgg import VGG

__all__ = [
    "GPT",
    "MLP",
    "MODELS",
    "VGG",
    "BasicBlock",
    "BertConfig",
    "BertModel",
    "CNN1d",
    "CharLSTM",
    "GRUClassifier",
    "LeNet5",
    "MLP1d",
    "ResNet",
    "SentenceEncoder",
    "get_model",
    "register_model",
]
