"""BatchNorm1d, BatchNorm2d and GroupNorm.

Batch norm (Ioffe & Szegedy 2015), per channel over the batch (and pixels):

    x̂ = (x − μ_B) / √(σ²_B + ε),   y = γ · x̂ + β
    running ← (1 − momentum) · running + momentum · batch statistic (variance unbiased)

momentum=None makes the running statistics a cumulative average (factor
1/num_batches_tracked). In eval mode the running statistics replace the batch's. Parameters
weight (γ, ones) and bias (β, zeros); buffers running_mean, running_var and
num_batches_tracked, named as in torch so checkpoints load unchanged.

Group norm (Wu & He 2018): statistics per sample over groups of C/G channels; no running
statistics, the same in train and eval.
"""

from __future__ import annotations

from .. import backend
from .. import functional as F
from ..backend import xp
from ..errors import InputError
from ..function import is_grad_enabled
from ..mistakes import check_training_mode_in_no_grad
from ..tensor import Tensor
from .linear import no_negative_size
from .module import Module, Parameter


def _reset_affine(weight, bias) -> None:
    if weight is not None:
        weight.array[...] = 1
    if bias is not None:
        bias.array[...] = 0


class _NormBase(Module):
    """What batch and instance norm share: affine weight (γ, ones) and bias (β, zeros),
    the running_mean/running_var/num_batches_tracked buffers, the repr."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):  # fmt: skip
        super().__init__()
        backend.check_device(device)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine or track_running_stats:
            no_negative_size(type(self).__name__, (num_features,))
        dtype = dtype or backend.DEFAULT_DTYPE
        # bias=False (torch's keyword): the learned scale γ without the shift β
        self.weight = Parameter(xp.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(xp.zeros(num_features, dtype=dtype)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(xp.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(xp.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(xp.zeros((), dtype=xp.int64)))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    _version = 2  # torch's: version 2 added num_batches_tracked

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):  # fmt: skip
        """As torch's: a state dict older than version 2 (or with no version: a plain dict)
        may lack num_batches_tracked, which then keeps its present value."""
        version = local_metadata.get("version")
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats:
            if key not in state_dict:
                state_dict[key] = self.num_batches_tracked
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)  # fmt: skip

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        """Running statistics back to (0, 1, 0 batches), γ to 1 and β to 0, as torch's."""
        self.reset_running_stats()
        _reset_affine(self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum},"
            f" affine={self.affine}, bias={self.bias is not None},"
            f" track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    allowed_ndims: tuple = ()

    def _check_input_dim(self, x: Tensor) -> None:
        # torch's hook: a subclass overrides it to take other ranks
        if x.ndim not in self.allowed_ndims:
            raise ValueError(
                f"{type(self).__name__}: expected a {' or '.join(map(str, self.allowed_ndims))}-D"
                f" input, got shape {x.shape}"
            )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        self._check_input_dim(x)
        # without γ, β or running statistics nothing is per channel: torch takes any count
        sized = self.weight is not None or self.running_mean is not None
        if sized and x.shape[1] != self.num_features:
            raise InputError(
                f"{type(self).__name__}({self.num_features}): input has {x.shape[1]} channels"
                f" (shape {x.shape})"
            )
        if self.training and not is_grad_enabled():
            check_training_mode_in_no_grad(type(self).__name__)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.array)
        use_batch_stats = self.training or not self.track_running_stats
        running = self.training or not use_batch_stats
        return F.batch_norm(
            x,
            self.running_mean if running else None,
            self.running_var if running else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over x (N, C) or (N, C, L)."""

    allowed_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over x (N, C, H, W)."""

    allowed_ndims = (4,)


class GroupNorm(Module):
    """Group norm over x (N, C, ...): weight (γ, ones) and bias (β, zeros) per channel."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):  # fmt: skip
        super().__init__()
        backend.check_device(device)
        if num_channels % num_groups:
            raise ValueError(
                f"num_channels={num_channels} must be divisible by num_groups={num_groups}"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups,
            num_channels,
            eps,
            affine,
        )
        if affine:
            no_negative_size("GroupNorm", (num_channels,))
        dtype = dtype or backend.DEFAULT_DTYPE
        self.weight = Parameter(xp.ones(num_channels, dtype=dtype)) if affine else None
        self.bias = Parameter(xp.zeros(num_channels, dtype=dtype)) if affine and bias else None

    def reset_parameters(self) -> None:
        _reset_affine(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        # γ and β are per channel, so the channel count must match (without them torch, and
        # so ember, normalises any C that num_groups divides)
        x = input
        affine = self.weight is not None or self.bias is not None
        if affine and x.ndim >= 2 and x.shape[1] != self.num_channels:
            raise InputError(
                f"GroupNorm({self.num_groups}, {self.num_channels}): expected an input"
                f" (N, {self.num_channels}, ...), got shape {x.shape}"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine},"
            f" bias={self.bias is not None}"
        )
