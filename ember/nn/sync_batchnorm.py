"""SyncBatchNorm: batch norm whose training statistics span every rank's batch.

With W ranks each holding a slice x_r of one batch, per channel over all M = Σ_r M_r
positions (ember/ops/sync_batchnorm.py derives and combines them):

    μ = (1/M) Σ_all x,   σ² = (1/M) Σ_all (x − μ)²
    y = γ · (x − μ) / √(σ² + ε) + β
    running_mean ← (1 − momentum) · running_mean + momentum · μ
    running_var  ← (1 − momentum) · running_var  + momentum · σ² · M/(M − 1)

so each rank's y and ∂L/∂x are the rows one process would compute on the whole batch, and
the running statistics are the same bits on every rank. Eval mode, no process group, or a
group of one rank: exactly BatchNorm (the same numbers as BatchNorm1d/2d/3d), no messages.

Messages per training step and layer: one in forward (the statistics) and one in backward
(two per-channel gradient sums, only when x needs a gradient). Every rank must run the same
SyncBatchNorm layers in the same order, forward and backward, as in torch. In backward the
order is safe: ember's engine runs Functions in decreasing creation order, the same on every
rank for the same model, and DistributedDataParallel all-reduces gradients only once the
leaf gradients are accumulated, after the sweep, so a layer's backward message never
interleaves with DDP's buckets. A rank whose loss does not reach a SyncBatchNorm output (so
its backward never runs there) would leave the others waiting until the group's timeout.
"""

from __future__ import annotations

from .. import distributed as dist
from ..backend import xp
from ..function import is_grad_enabled, no_grad
from ..functional.normalization import check_same_dtype, update_running_stat
from ..mistakes import check_training_mode_in_no_grad
from ..ops import sync_batchnorm as S
from ..tensor import Tensor, apply
from .container import ModuleDict, ModuleList
from .module import Module
from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]

_NO_CHANNELS = "SyncBatchNorm number of input channels should be non-zero"  # torch's words


class SyncBatchNorm(_BatchNorm):
    """torch.nn.SyncBatchNorm: batch norm over x (N, C, ...) of any rank ≥ 2, its training
    statistics computed over the union of the batches of ``process_group``'s ranks (a group
    of ``new_group``, or every rank when None). Parameters weight (γ), bias (β); buffers
    running_mean, running_var, num_batches_tracked, as BatchNorm's."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True):  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)  # fmt: skip
        self.process_group = process_group

    def _check_input_dim(self, x: Tensor) -> None:
        if x.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {x.ndim}D input)")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        group = self._sync_group()
        if group is None:  # torch falls back to plain batch norm here too
            self._check_input_dim(x)
            if x.shape[1] == 0:
                raise ValueError(_NO_CHANNELS)
            return super().forward(x)
        comm = _Messages(group, f"SyncBatchNorm({self.num_features})", x.shape)
        problem = self._input_problem(x)
        if problem is not None:  # tell the other ranks, which would otherwise wait in the exchange
            comm.refuse(problem)
        if not is_grad_enabled():
            check_training_mode_in_no_grad(type(self).__name__)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.array)
        y, mu, var = apply(S.SyncBatchNorm, x, self.weight, self.bias, eps=self.eps, comm=comm)
        if self.track_running_stats:
            with no_grad():
                update_running_stat(self.running_mean, mu.array, factor)
                update_running_stat(self.running_var, var.array, factor)
        return y

    def _sync_group(self):
        """The group to synchronise over, or None: eval mode, no group, or a group of one."""
        if not self.training or not dist.is_initialized():
            return None
        group = dist.group.WORLD if self.process_group is None else self.process_group
        return group if dist.get_world_size(group) > 1 else None

    def _input_problem(self, x: Tensor) -> Exception | None:
        """The error BatchNorm's checks (and torch's SyncBatchNorm's) give x, or None."""
        if x.ndim < 2:
            return ValueError(f"expected at least 2D input (got {x.ndim}D input)")
        if x.shape[1] == 0:
            return ValueError(_NO_CHANNELS)
        if x.shape[1] != self.num_features:
            return ValueError(
                f"SyncBatchNorm({self.num_features}): input has {x.shape[1]} channels"
                f" (shape {x.shape})"
            )
        try:
            if check_same_dtype("SyncBatchNorm", x, weight=self.weight, bias=self.bias,
                                running_mean=self.running_mean):  # fmt: skip
                return TypeError(
                    f"SyncBatchNorm: input dtype {x.dtype} and parameter dtype"
                    f" {self.weight.dtype} differ (convert the input with .float())"
                )
        except TypeError as e:
            return e
        return None

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every BatchNorm*d (and SyncBatchNorm) in its tree replaced by a
        SyncBatchNorm holding the same parameters and buffers (the same Tensors, as torch
        assigns them) and training mode; a layer that appears twice stays one layer."""
        return _convert(cls, module, process_group, {})


class _Messages:
    """The two messages of one SyncBatchNorm call on ``group``; an error from ember.distributed
    is raised again with the layer and this rank's input shape in front."""

    def __init__(self, group, layer: str, shape: tuple) -> None:
        self.group, self.where = group, f"{layer} with input shape {tuple(shape)}"

    def gather(self, mine):
        """Every rank's (C, 3) statistics, stacked in rank order: (W, C, 3)."""
        out = xp.empty((self.group.size(),) + mine.shape, mine.dtype)
        try:
            dist.all_gather_into_tensor(out, mine, group=self.group)
        except dist.DistBackendError as e:
            raise dist.DistBackendError(
                f"{self.where}: the ranks' batch statistics cannot be combined (each rank"
                f" sends (channels, 3) numbers; a rank that sends (0, 3) rejected its own"
                f" input and raises why): {e}"
            ) from e
        return out

    def all_reduce(self, sums) -> None:
        try:
            dist.all_reduce(sums, group=self.group)
        except dist.DistBackendError as e:
            raise dist.DistBackendError(
                f"{self.where}, backward: the ranks' gradient sums cannot be combined"
                f" (each rank sends 2·channels numbers): {e}"
            ) from e

    def refuse(self, problem: Exception) -> None:
        """Join the exchange with nothing, so that the other ranks raise too; then raise."""
        try:
            self.gather(xp.zeros((0, 3), xp.float64))
        except dist.DistBackendError as e:
            raise problem from e
        raise problem


def _convert(cls, module: Module, process_group, done: dict) -> Module:
    if id(module) in done:
        return done[id(module)]
    if isinstance(module, _BatchNorm):
        out = cls(module.num_features, module.eps, module.momentum, module.affine,
                  module.track_running_stats, process_group)  # fmt: skip
        out.weight, out.bias = module.weight, module.bias
        out.running_mean, out.running_var = module.running_mean, module.running_var
        out.num_batches_tracked = module.num_batches_tracked
        out.training = module.training
        done[id(module)] = out
        return out
    done[id(module)] = module
    for name, child in list(module.named_children()):
        converted = _convert(cls, child, process_group, done)
        if converted is not child:
            _replace_child(module, name, converted)
    return module


def _replace_child(parent: Module, name: str, child: Module) -> None:
    """parent's child ``name`` := child. A name is an attribute ("bn", and a Sequential's
    "0"), an entry of a list, tuple or dict attribute ("blocks.0", "heads.a"), a ModuleList's
    index or a ModuleDict's key (module.py's _children_of names them so)."""
    attrs = vars(parent)
    if name in attrs:
        setattr(parent, name, child)
    elif isinstance(parent, ModuleDict):
        parent[name] = child
    elif isinstance(parent, ModuleList):
        parent[int(name)] = child
    else:
        attr, _, key = name.partition(".")
        value = attrs[attr]
        if isinstance(value, dict):
            value[next(k for k in value if str(k) == key)] = child
        elif isinstance(value, list):
            value[int(key)] = child
        else:  # a tuple: rebuilt with the one entry replaced
            setattr(parent, attr, tuple(child if i == int(key) else v for i, v in enumerate(value)))
