"""ember.optim — optimizers, learning-rate schedulers (``ember.optim.lr_scheduler``),
gradient clipping."""

from ..nn.utils import clip_grad_norm_, clip_grad_value_
from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
    "swa_utils",
    "Adadelta",
    "Adagrad",
    "Adamax",
    "NAdam",
    "RAdam",
    "ASGD",
    "LBFGS",
    "Rprop",
    "Adafactor",
    "Muon",
]

# torch.optim.adamw at torch's path (AdamW lives beside Adam in adam.py)
import sys as _sys  # noqa: E402

from ..module_paths import register as _register  # noqa: E402

_register(_sys.modules[__name__], "adamw", {"AdamW": AdamW})
