"""ember.models — the model zoo. Each module registers its builders in ``registry``."""

from . import alexnet, char_lstm, efficientnet, gpt, lenet, mlp, mnist1d, mnist1d_gru, resnet, vgg
from .alexnet import AlexNet
from .bert import BertConfig, BertModel
from .blocks import Conv2dNormActivation, SqueezeExcitation, StochasticDepth
from .char_lstm import CharLSTM
from .efficientnet import EfficientNet, MBConv, MBConvConfig
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
    "AlexNet",
    "Conv2dNormActivation",
    "EfficientNet",
    "MBConv",
    "MBConvConfig",
    "SqueezeExcitation",
    "StochasticDepth",
]
