"""ember.nn.utils, as torch.nn.utils: gradient clipping and packed sequences (``utils.rnn``)."""

from . import rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .vector import parameters_to_vector, vector_to_parameters

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "rnn",
    "vector_to_parameters",
]
