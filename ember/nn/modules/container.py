"""torch.nn.modules.container at torch's path: Sequential, ModuleList, ModuleDict,
ParameterList, ParameterDict and the deprecated Container."""

from ..container import ModuleDict, ModuleList, Sequential
from ..layers_compat import Container
from ..parameter_containers import ParameterDict, ParameterList

__all__ = ["Container", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]
