"""ember.nn.utils, as torch.nn.utils: gradient clipping, packed sequences (``utils.rnn``) and
folding batch norm into the layer before it (``utils.fusion``), parametrizations
(``utils.parametrize``; weight and spectral norm in ``utils.parametrizations``)."""

from . import fusion, parametrizations, parametrize, prune, rnn, stateless
from .clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from .fusion import (
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from .module_utils import (
    convert_conv2d_weight_memory_format,
    convert_conv3d_weight_memory_format,
    skip_init,
)
from .vector import parameters_to_vector, vector_to_parameters
from .weight_norm_hooks import (
    remove_spectral_norm,
    remove_weight_norm,
    spectral_norm,
    weight_norm,
)

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "convert_conv2d_weight_memory_format",
    "convert_conv3d_weight_memory_format",
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
    "fusion",
    "parametrizations",
    "parametrize",
    "prune",
    "get_total_norm",
    "parameters_to_vector",
    "rnn",
    "skip_init",
    "stateless",
    "vector_to_parameters",
    "remove_spectral_norm",
    "remove_weight_norm",
    "spectral_norm",
    "weight_norm",
]
