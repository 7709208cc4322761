"""ember.models — the model zoo. Each module registers its builders in ``registry``."""

from . import lenet, mnist1d, resnet, vgg
from .lenet import LeNet5
from .mnist1d import CNN1d, MLP1d
from .registry import MODELS, get_model, register_model
from .resnet import BasicBlock, ResNet
from .vgg import VGG

__all__ = [
    "MODELS",
    "VGG",
    "BasicBlock",
    "CNN1d",
    "LeNet5",
    "MLP1d",
    "ResNet",
    "get_model",
    "lenet",
    "mnist1d",
    "register_model",
    "resnet",
    "vgg",
]
