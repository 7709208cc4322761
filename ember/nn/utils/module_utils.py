"""torch.nn.utils' ``skip_init`` and ``convert_conv2d_weight_memory_format`` /
``convert_conv3d_weight_memory_format``."""

from __future__ import annotations

import inspect
from contextlib import contextmanager

from .. import init

# ember.nn.init's in-place initialisers: what a layer's reset_parameters calls
_INITS = (
    "uniform_", "normal_", "constant_", "zeros_", "ones_", "xavier_uniform_", "xavier_normal_",
    "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "trunc_normal_", "eye_", "dirac_",
    "sparse_",
)  # fmt: skip


def _untouched(tensor, *args, **kwargs):
    return tensor


@contextmanager
def _init_skipped():
    """For its duration every ``ember.nn.init`` initialiser returns its tensor untouched."""
    saved = {name: getattr(init, name) for name in _INITS}
    try:
        for name in saved:
            setattr(init, name, _untouched)
        yield
    finally:
        for name, fn in saved.items():
            setattr(init, name, fn)


def skip_init(module_cls, *args, **kwargs):
    """torch.nn.utils.skip_init: build ``module_cls(*args, **kwargs)`` without initialising its
    parameters and buffers (torch builds it on the meta device, then ``to_empty``: the values
    are whatever memory held). torch requires the class to take a ``device`` keyword and raises
    RuntimeError otherwise, as here. ember builds it with ``ember.nn.init``'s initialisers
    turned off for the call (values a layer sets itself, e.g. LayerNorm's ones, still are)."""
    from ..module import Module

    if not issubclass(module_cls, Module):  # not a class: TypeError, as torch's
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    with _init_skipped():
        return module_cls(*args, **kwargs)


def _convert_weights(module, kinds, memory_format):
    if isinstance(module, kinds):
        module.weight.data = module.weight.detach().clone(memory_format=memory_format)
    for child in module.children():
        _convert_weights(child, kinds, memory_format)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """torch.nn.utils.convert_conv2d_weight_memory_format: lay out the weight of every Conv2d
    and ConvTranspose2d in ``module`` (itself included, recursively) in ``memory_format``
    (``ember.channels_last`` or ``ember.contiguous_format``), in place; returns ``module``.
    torch notes that channels_last pays off when the inputs are channels_last too."""
    from ..conv import Conv2d
    from ..conv_transpose import ConvTranspose2d

    return _convert_weights(module, (Conv2d, ConvTranspose2d), memory_format)


def convert_conv3d_weight_memory_format(module, memory_format):
    """torch.nn.utils.convert_conv3d_weight_memory_format: as the 2-d one for every Conv3d and
    ConvTranspose3d (``ember.channels_last_3d``)."""
    from ..conv3d import Conv3d
    from ..layers_3d_more import ConvTranspose3d

    return _convert_weights(module, (Conv3d, ConvTranspose3d), memory_format)
