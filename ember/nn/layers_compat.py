"""torch.nn names that code written for torch expects, with torch's behaviour in one process on
one device: ``nn.Buffer`` (a tensor that a module keeps as a buffer when assigned),
``nn.DataParallel`` (torch on a machine without CUDA runs the wrapped module as it is, and so
does ember) and ``nn.NLLLoss2d`` (the deprecated alias of NLLLoss). ``nn.SyncBatchNorm``,
which used to live here, is in sync_batchnorm.py (re-exported below for old imports)."""

from __future__ import annotations

import warnings

from .. import backend
from ..backend import xp
from ..tensor import Tensor
from .loss import NLLLoss
from .module import Module
from .sync_batchnorm import SyncBatchNorm

__all__ = ["Buffer", "Container", "DataParallel", "NLLLoss2d", "SyncBatchNorm"]


class Buffer(Tensor):
    """torch.nn.Buffer: ``module.name = nn.Buffer(t, persistent=False)`` keeps t as a buffer;
    ``persistent=False`` leaves it out of the state_dict. The data is shared with t (detached);
    ``Buffer()`` is an empty float tensor."""

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent: bool = True):
        if data is None:
            data = xp.empty((0,), dtype=backend.DEFAULT_DTYPE)
        super().__init__(data.array if isinstance(data, Tensor) else data)
        self.persistent = bool(persistent)


class DataParallel(Module):
    """torch.nn.DataParallel(module, device_ids=None, output_device=None, dim=0): one process
    on one device runs ``module`` as it is (torch does the same where CUDA is absent); the state
    dict names its entries ``module.…`` as torch's."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        self.module, self.dim = module, dim
        self.device_ids, self.output_device = [], None

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


class NLLLoss2d(NLLLoss):
    """torch.nn.NLLLoss2d: NLLLoss under its deprecated name (torch warns the same)."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):  # fmt: skip
        warnings.warn(
            "`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in"
            " replacement.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class Container(Module):
    """torch.nn.Container (deprecated in torch for Module): ``Container(name=module, ...)``
    adds each keyword's module as a child, with torch's FutureWarning."""

    def __init__(self, **kwargs) -> None:
        warnings.warn(
            "`nn.Container` is deprecated. All of its functionality is now implemented in"
            " `nn.Module`. Subclass that instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)
