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
from .attention import scaled_dot_product_attention, scaled_dot_product_attention_composed
from .conv import conv1d, conv2d, conv2d_composed
from .layernorm import layer_norm, layer_norm_composed
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
from .normalization import batch_norm, batch_norm_composed, group_norm
from .pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    avg_pool2d_composed,
    max_pool1d,
    max_pool2d,
    max_pool2d_composed,
)
from .shape import cat, maximum, minimum, pad, stack, where

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool2d_composed",
    "batch_norm",
    "batch_norm_composed",
    "conv1d",
    "conv2d",
    "conv2d_composed",
    "group_norm",
    "max_pool1d",
    "max_pool2d",
    "max_pool2d_composed",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cat",
    "cross_entropy",
    "cross_entropy_composed",
    "dropout",
    "embedding",
    "gelu",
    "l1_loss",
    "layer_norm",
    "layer_norm_composed",
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
    "scaled_dot_product_attention",
    "scaled_dot_product_attention_composed",
    "sigmoid",
    "silu",
    "softmax",
    "softmax_composed",
    "stack",
    "swish",
    "tanh",
    "where",
]
