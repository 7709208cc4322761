"""More of torch's learning-rate schedulers, with torch's arithmetic (see lr_scheduler.py).

LambdaLR:          ηₜ = η₀ · λ(t)
MultiplicativeLR:  ηₜ = ηₜ₋₁ · λ(t)
MultiStepLR:       ηₜ = η₀ · γ^(number of milestones ≤ t)
ConstantLR:        ηₜ = η₀ · factor for t < T, then η₀
PolynomialLR:      ηₜ = η₀ · (1 - min(t, T)/T)^p
CosineAnnealingWarmRestarts: ηₜ = η_min + (η₀ - η_min)·(1 + cos(π·T_cur/T_i))/2, T_cur → 0
                   at each restart, T_i ← T_i·T_mult
CyclicLR:          η rises linearly from base_lr to max_lr and back, every 2·step_size
OneCycleLR:        η from max_lr/div_factor up to max_lr, then down to η_start/final_div_factor
ChainedScheduler:  every scheduler's step, one after the other, on the same optimizer
"""

from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections import Counter

from .lr_scheduler import LRScheduler, ReduceLROnPlateau, _SchedulerOfSchedulers
from .lr_scheduler_cyclic import CyclicLR, OneCycleLR
from .lr_scheduler_warnings import set_group_value, within_step
from .optimizer import Optimizer

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "LambdaLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
]


class _LambdaScheduler(LRScheduler):
    """The lr_lambdas and their state_dict (callable objects keep their ``__dict__``), as torch."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        self.optimizer = optimizer
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(
                    f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        out["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
            for fn in self.lr_lambdas
        ]
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_LambdaScheduler):
    """ηₜ = η₀ · λ(t), ``lr_lambda`` one function or one per parameter group."""

    def get_lr(self):
        return [η0 * λ(self.last_epoch) for λ, η0 in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    """ηₜ = ηₜ₋₁ · λ(t) for t ≥ 1."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        fns = lr_lambda if isinstance(lr_lambda, (list, tuple)) else [lr_lambda]
        for fn in fns:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._lrs()
        return [lr * λ(self.last_epoch) for λ, lr in zip(self.lr_lambdas, self._lrs())]


class MultiStepLR(LRScheduler):
    """ηₜ = η₀ · γ^(number of milestones ≤ t); a milestone listed twice counts twice."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._lrs()]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        k = bisect_right(milestones, self.last_epoch)
        return [η0 * self.gamma**k for η0 in self.base_lrs]


class ConstantLR(LRScheduler):
    """ηₜ = η₀ · factor for t < total_iters, then η₀."""

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._lrs()]
        if self.last_epoch != self.total_iters:
            return self._lrs()
        return [lr * (1.0 / self.factor) for lr in self._lrs()]

    def _get_closed_form_lr(self):
        after = self.last_epoch >= self.total_iters
        return [η0 * (self.factor + after * (1 - self.factor)) for η0 in self.base_lrs]


class PolynomialLR(LRScheduler):
    """ηₜ = η₀ · (1 - min(t, T)/T)^p, T = total_iters, p = power; step by step as torch:
    ηₜ = ηₜ₋₁ · ((1 - t/T) / (1 - (t - 1)/T))^p."""

    def __init__(
        self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch=-1
    ):
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T = self.last_epoch, self.total_iters
        if self._is_initial or t > T:
            return self._lrs()
        decay = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [lr * decay for lr in self._lrs()]

    def _get_closed_form_lr(self):
        t, T = self.last_epoch, self.total_iters
        return [η0 * (1.0 - min(T, t) / T) ** self.power for η0 in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter 2017): ηₜ = η_min + (η₀ - η_min)·(1 + cos(π·T_cur/T_i))/2.

    T_cur counts steps since the last restart; at T_cur = T_i it restarts at 0 and the next
    period is T_i·T_mult. ``step(epoch)`` accepts fractional epochs, as torch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,  # noqa: N803 - torch's argument names
        T_mult: int = 1,  # noqa: N803
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(
                f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}"
            )
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        c = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (η0 - self.eta_min) * c for η0 in self.base_lrs]

    def step(self, epoch=None) -> None:
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        elif epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:  # the restart n with T_0·(T_mult^n - 1)/(T_mult - 1) ≤ epoch
                n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult**n
        else:
            self.T_i, self.T_cur = self.T_0, epoch
        self.last_epoch = math.floor(epoch)
        with within_step(self):
            values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            set_group_value(group, "lr", lr)
        self._last_lr = self._lrs()


class ChainedScheduler(_SchedulerOfSchedulers):
    """Step every scheduler in ``schedulers``, in order, each from the rate the last one set:
    e.g. a warmup multiplied into a decay."""

    def __init__(self, schedulers, optimizer: Optimizer | None = None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler to be chained")
        optimizer = optimizer or schedulers[0].optimizer
        for i, s in enumerate(schedulers):
            if not hasattr(s, "optimizer"):
                raise TypeError(f"ChainedScheduler at index {i} should have `optimizer`")
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(
                    f"ChainedScheduler does not support ReduceLROnPlateau (scheduler at index"
                    f" {i}): its step() needs a metric"
                )
            if s.optimizer is not optimizer:
                raise ValueError(
                    "ChainedScheduler expects all schedulers to belong to the same optimizer,"
                    f" but scheduler {type(s).__name__} at index {i} has a different one"
                )
        self._schedulers, self.optimizer = list(schedulers), optimizer
        self._last_lr = self._lrs()

    def step(self) -> None:  # noqa: D102 - no epoch argument, as torch
        for s in self._schedulers:
            s.step()
        self._last_lr = self._lrs()
