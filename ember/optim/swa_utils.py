"""Weight averaging, as torch.optim.swa_utils: SWA (Izmailov et al. 2018) and EMA.

SWA:  θ̄ ← θ̄ + (θ − θ̄) / (n + 1)          the running mean of the weights seen
EMA:  θ̄ ← θ̄ + (1 − decay) · (θ − θ̄)     (torch's lerp)

``AveragedModel`` keeps a deep copy of the model whose parameters hold θ̄ and a buffer
``n_averaged``; ``update_parameters(model)`` folds in the current weights (the first call
copies them). ``SWALR`` anneals each group's rate to ``swa_lr`` over ``anneal_epochs`` steps:

    α_t = (1 − cos(π·t/T)) / 2  (or t/T),   η_t = α_t · η_swa + (1 − α_t) · η_0

and ``update_bn`` recomputes BatchNorm running statistics as a plain average over a loader,
since the averaged weights never saw the statistics they need.
"""

from __future__ import annotations

import itertools
import math
import warnings
from copy import deepcopy

from .. import backend, mistakes
from ..backend import xp
from ..function import no_grad
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from ..tensor import Tensor, as_array
from .lr_scheduler import LRScheduler
from .optimizer import lerp

__all__ = [
    "AveragedModel",
    "SWALR",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
    "update_bn",
]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )


def _f32(a):
    """Integer tensors average in float32, torch's default dtype, before the cast back."""
    return a if a.dtype.kind in "fc" else a.astype(xp.float32)


def _set(p: Tensor, value) -> None:
    p.array[...] = as_array(value).astype(p.array.dtype, copy=False)


def get_ema_multi_avg_fn(decay: float = 0.999):
    """EMA over lists of tensors, in place: θ̄ ← lerp(θ̄, θ, 1 − decay)."""
    _check_decay(decay)

    def ema_update(ema_params, current_params, num_averaged) -> None:
        for e, c in zip(ema_params, current_params):
            a, b = e.array, as_array(c)
            if a.dtype.kind in "fc":
                _set(e, lerp(a, b.astype(a.dtype, copy=False), 1 - decay))
            else:
                _set(e, _f32(a) * xp.float32(decay) + _f32(b) * xp.float32(1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """SWA over lists of tensors of one dtype (AveragedModel passes one list per dtype), in
    place: θ̄ ← θ̄ + (θ − θ̄)/(n + 1).

    As torch's: with ``num_averaged`` a tensor, the weight 1/(n + 1) is that tensor's true
    division, so in the default dtype (float32 unless set otherwise); integer tensors are
    refused (RuntimeError), as torch's foreach kernels refuse them."""

    def swa_update(averaged_params, current_params, num_averaged) -> None:
        n = int(as_array(num_averaged))
        weight = 1 / (n + 1)
        if isinstance(num_averaged, Tensor):
            weight = float(xp.dtype(backend.DEFAULT_DTYPE).type(weight))
        if averaged_params and averaged_params[0].array.dtype.kind not in "fc":
            raise RuntimeError(
                "get_swa_multi_avg_fn averages floating-point or complex tensors, as torch's"
                f" foreach kernels do; got {averaged_params[0].array.dtype} ones (average"
                " integer buffers with avg_fn, or leave use_buffers=False)"
            )
        for p, c in zip(averaged_params, current_params):
            a, b = p.array, as_array(c)
            _set(p, lerp(a, b.astype(a.dtype, copy=False), weight))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999):
    """EMA of one tensor: returns decay·θ̄ + (1 − decay)·θ."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged) -> Tensor:
        a, b = _f32(as_array(ema_param)), _f32(as_array(current_param))
        return Tensor(a * a.dtype.type(decay) + b * a.dtype.type(1 - decay))

    return ema_update


def get_swa_avg_fn():
    """SWA of one tensor: returns θ̄ + (θ − θ̄)/(n + 1)."""

    def swa_update(averaged_param, current_param, num_averaged) -> Tensor:
        a, b = as_array(averaged_param), as_array(current_param)
        n = int(as_array(num_averaged))
        return Tensor(a + _f32(b - a) / _f32(b - a).dtype.type(n + 1))

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` holding averaged weights; call it as the model.

    ``avg_fn(θ̄, θ, n)`` returns the new average of one tensor; ``multi_avg_fn(θ̄s, θs, n)``
    updates lists in place; neither means SWA. With ``use_buffers`` the buffers are averaged
    too, otherwise they are copied from the model at each update.
    """

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None,
                 use_buffers: bool = False) -> None:  # fmt: skip
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", Tensor(xp.zeros((), dtype=xp.int64)))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average (copy them on the first call)."""
        if self.use_buffers:
            mine = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            mine, theirs = list(self.module.parameters()), list(model.parameters())
        pairs = list(zip(mine, theirs))
        n = int(self.n_averaged.array)
        with no_grad():
            if n == 0:
                for p, q in pairs:
                    _set(p, q.array)
            elif self.avg_fn is not None:
                for p, q in pairs:
                    _set(p, self.avg_fn(Tensor(p.array), Tensor(q.array), self.n_averaged))
            else:
                multi = self.multi_avg_fn
                if multi is None:  # torch on the CPU: the one-tensor SWA rule
                    swa = get_swa_avg_fn()
                    for p, q in pairs:
                        _set(p, swa(p, q, self.n_averaged))
                else:  # one call per dtype, as torch's (its kernels take one dtype a list)
                    by_dtype: dict = {}
                    for p, q in pairs:
                        by_dtype.setdefault(p.array.dtype, []).append((p, q))
                    for group in by_dtype.values():
                        multi([p for p, _ in group], [Tensor(q.array) for _, q in group],
                              self.n_averaged)  # fmt: skip
            if not self.use_buffers:
                for b, c in zip(self.module.buffers(), model.buffers()):
                    _set(b, c.array)
        self.n_averaged.array[...] = n + 1


def update_bn(loader, model: Module, device=None) -> None:
    """Recompute every BatchNorm's running statistics over ``loader`` (a cumulative average:
    momentum None), in training mode; a batch that is a list or tuple gives its first item."""
    momenta = {}
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.reset_running_stats()
            momenta[m] = m.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for m in momenta:
        m.momentum = None
    raised = set(mistakes._raised)
    with no_grad(), warnings.catch_warnings():
        # training mode under no_grad is the point here, not the usual evaluation mistake
        warnings.simplefilter("ignore", mistakes.EmberWarning)
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            model(batch if isinstance(batch, Tensor) else Tensor(as_array(batch)))
    mistakes._raised.intersection_update(raised)  # so a real mistake later still warns
    for m, momentum in momenta.items():
        m.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's rate from its current value to ``swa_lr`` in ``anneal_epochs``
    steps ('cos' or 'linear'), then hold it; torch's step-by-step arithmetic."""

    def __init__(self, optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:  # fmt: skip
        groups = optimizer.param_groups
        if isinstance(swa_lr, (list, tuple)):
            if len(swa_lr) != len(groups):
                raise ValueError(
                    f"swa_lr must have the same length as optimizer.param_groups: "
                    f"swa_lr has {len(swa_lr)} values, param_groups has {len(groups)}"
                )
            swa_lrs = list(swa_lr)
        else:
            swa_lrs = [swa_lr] * len(groups)
        for lr, group in zip(swa_lrs, groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        """η_0 recovered from η_{t−1} = α·η_swa + (1 − α)·η_0."""
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        cos = anneal_strategy == "cos"
        self.anneal_func = self._cosine_anneal if cos else self._linear_anneal

    def get_lr(self) -> list[float]:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        T = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / T)))
        groups = self.optimizer.param_groups
        prev = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / T)))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev)]

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
