"""ember.models — the model zoo. Each module registers its builders in ``registry``."""

from . import char_lstm, lenet, mlp, mnist1d, mnist1d_gru, resnet, vgg
from .char_lstm import CharLSTM
from .lenet import LeNet5
from .mlp import MLP
from .mnist1d import CNN1d, MLP1d
from .mnist1d_gru import GRUClassifier
from .registry import MODELS, get_model, register_model
from .resnet import BasicBlock, ResNet
from .vgg import VGG

__all__ = [
    "BasicBlock",
    "CNN1d",
    "CharLSTM",
    "GRUClassifier",
    "LeNet5",
    "MLP",
    "MLP1d",
    "MODELS",
    "ResNet",
    "VGG",
    "char_lstm",
    "get_model",
    "lenet",
    "mlp",
    "mnist1d",
    "mnist1d_gru",
    "register_model",
    "resnet",
    "vgg",
]
