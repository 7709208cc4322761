"""ember.functional — the public F: stateless maths over Tensors, with gradients."""

from .activation import (
    gelu,
    leaky_relu,
    log_softmax,
    log_softmax_composed,
    relu,
    sigmoid,
    silu,
    softmax,
    softmax_composed,
    swish,
    tanh,
)
from .layers import dropout, embedding, linear
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    cross_entropy_composed,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .shape import cat, maximum, minimum, pad, stack, where

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cat",
    "cross_entropy",
    "cross_entropy_composed",
    "dropout",
    "embedding",
    "gelu",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "log_softmax_composed",
    "maximum",
    "minimum",
    "mse_loss",
    "nll_loss",
    "pad",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "softmax_composed",
    "stack",
    "swish",
    "tanh",
    "where",
]
