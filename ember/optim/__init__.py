"""ember.optim — optimizers, learning-rate schedulers (``ember.optim.lr_scheduler``),
gradient clipping."""

from ..nn.utils import clip_grad_norm_, clip_grad_value_
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
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
]
