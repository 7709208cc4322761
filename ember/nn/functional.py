"""``ember.nn.functional``: ``ember.functional`` at torch's path, plus what is built on nn.

Code written ``import torch.nn.functional as F`` reads ``import ember.nn.functional as F``.
Every public name of ember.functional (its ``__all__``) is this module's too, and so is
``multi_head_attention_forward``: multi-head attention as a function of given weights (it
lives in nn/attention_forward.py beside nn.MultiheadAttention, which shares its arithmetic).
"""

from ..functional import *  # noqa: F403 - the whole public F, under torch's path
from ..functional import __all__ as _functional_names
from . import grad  # noqa: F401 - F.grad: the module torch.nn.grad
from .attention_forward import multi_head_attention_forward

__all__ = [*_functional_names, "multi_head_attention_forward"]
