"""ember.optim — optimizers, learning-rate schedulers, gradient clipping."""

from ..nn.utils import clip_grad_norm_, clip_grad_value_
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "clip_grad_norm_", "clip_grad_value_"]
