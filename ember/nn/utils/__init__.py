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

# torch.nn.utils' file paths (weight_norm.py, spectral_norm.py, convert_parameters.py, init.py,
# memory_format.py): torch's attributes of those names are the functions, kept here too
import sys as _sys  # noqa: E402

from ...module_paths import register as _register  # noqa: E402
from . import module_utils as _module_utils  # noqa: E402
from . import vector as _vector  # noqa: E402
from . import weight_norm_hooks as _hooks  # noqa: E402

_here = _sys.modules[__name__]
for _file, _names in {
    "weight_norm": {"WeightNorm": _hooks.WeightNorm, "weight_norm": _hooks.weight_norm,
                    "remove_weight_norm": _hooks.remove_weight_norm},
    "spectral_norm": {"SpectralNorm": _hooks.SpectralNorm, "spectral_norm": _hooks.spectral_norm,
                      "remove_spectral_norm": _hooks.remove_spectral_norm},
    "convert_parameters": {"parameters_to_vector": _vector.parameters_to_vector,
                           "vector_to_parameters": _vector.vector_to_parameters},
    "init": {"skip_init": _module_utils.skip_init},
    "memory_format": {
        "convert_conv2d_weight_memory_format": _module_utils.convert_conv2d_weight_memory_format,
        "convert_conv3d_weight_memory_format": _module_utils.convert_conv3d_weight_memory_format,
    },
}.items():  # fmt: skip
    _register(_here, _file, _names, attribute=_file not in ("weight_norm", "spectral_norm"))
