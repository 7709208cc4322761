"""torch.nn names that code written for torch expects, with torch's behaviour in one process on
one device: ``nn.Buffer`` (a tensor that a module keeps as a buffer when assigned),
``nn.DataParallel`` (torch on a machine without CUDA runs the wrapped module as it is, and so
does ember), ``nn.SyncBatchNorm`` (batch norm over any rank ≥ 2; with no process group to
synchronise with it is BatchNorm, as torch's outside torch.distributed) and ``nn.NLLLoss2d``
(the deprecated alias of NLLLoss)."""

from __future__ import annotations

import warnings

from .. import backend
from ..backend import xp
from ..tensor import Tensor
from .loss import NLLLoss
from .module import Module
from .normalization import _BatchNorm

__all__ = ["Buffer", "DataParallel", "NLLLoss2d", "SyncBatchNorm"]


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


class SyncBatchNorm(_BatchNorm):
    """torch.nn.SyncBatchNorm: batch norm over x (N, C, ...) of any rank ≥ 2. ember runs one
    process, so the statistics are this batch's, as torch's outside torch.distributed;
    ``process_group`` is kept for torch's signature."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None):  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, x: Tensor) -> None:
        if x.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {x.ndim}D input)")

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """Every BatchNorm*d inside ``module`` (or module itself) replaced by a SyncBatchNorm
        holding the same parameters, running statistics and training mode."""
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)  # fmt: skip
            out.weight, out.bias = module.weight, module.bias
            out.running_mean, out.running_var = module.running_mean, module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.train(module.training)
            return out
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child, process_group)
            if converted is not child:
                _replace_child(module, name, converted)
        return module


def _replace_child(parent: Module, name: str, child: Module) -> None:
    """parent's child ``name`` (an attribute, or an entry of Sequential / ModuleList) := child."""
    if name in vars(parent):
        setattr(parent, name, child)
    else:
        parent[int(name)] = child


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
