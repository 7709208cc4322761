"""torch.nn.modules.normalization at torch's path: LayerNorm, GroupNorm, RMSNorm and
LocalResponseNorm. (Not here: torch's CrossMapLRN2d, a legacy Lua-torch layer ember lacks.)"""

from ..layernorm import LayerNorm
from ..layers_more import RMSNorm
from ..local_response import LocalResponseNorm
from ..normalization import GroupNorm

__all__ = ["GroupNorm", "LayerNorm", "LocalResponseNorm", "RMSNorm"]
