"""torch.nn.modules at torch's path: one file per file of torch's (``ember.nn.modules.conv``,
``.loss``, ``.batchnorm``, ``.pooling``, …) naming ember's layers where torch's code imports
them from, with the base classes torch keeps there (_ConvNd, _Loss, _WeightedLoss, _BatchNorm,
_NormBase, _DropoutNd, _MaxPoolNd, …), each a base of the same layers as torch's; every layer
also at ``ember.nn.modules.<Name>``, and the argument helpers in ``.utils`` (_pair, …).

What torch has there and ember lacks is left out, and named in that file's docstring.
"""

from . import (
    activation,
    adaptive,
    batchnorm,
    channelshuffle,
    container,
    conv,
    distance,
    dropout,
    flatten,
    fold,
    instancenorm,
    lazy,
    linear,
    linear_cross_entropy,
    linear_cross_entropy_options,
    loss,
    module,
    normalization,
    padding,
    pixelshuffle,
    pooling,
    rnn,
    sparse,
    transformer,
    upsampling,
    utils,
)
from .activation import *  # noqa: F403
from .adaptive import *  # noqa: F403
from .batchnorm import *  # noqa: F403
from .channelshuffle import *  # noqa: F403
from .container import *  # noqa: F403
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .flatten import *  # noqa: F403
from .fold import *  # noqa: F403
from .instancenorm import *  # noqa: F403
from .linear import *  # noqa: F403
from .linear_cross_entropy_options import *  # noqa: F403
from .loss import *  # noqa: F403
from .module import Module
from .normalization import *  # noqa: F403
from .padding import *  # noqa: F403
from .pixelshuffle import *  # noqa: F403
from .pooling import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sparse import *  # noqa: F403
from .transformer import *  # noqa: F403
from .upsampling import *  # noqa: F403

# the files whose names torch.nn.modules itself exports
_LAYER_FILES = (activation, adaptive, batchnorm, channelshuffle, container, conv, distance,
                dropout, flatten, fold, instancenorm, linear, linear_cross_entropy_options, loss,
                normalization, padding, pixelshuffle, pooling, rnn, sparse, transformer,
                upsampling)  # fmt: skip
__all__ = sorted({"Module"}.union(*(m.__all__ for m in _LAYER_FILES)))
