"""Learning-rate schedulers with torch's API and torch's arithmetic.

Each scheduler changes ``group["lr"]`` of its optimizer when ``step()`` is called (after
``optimizer.step()``), counting steps in ``last_epoch``. Like torch, the step rules are
*chainable*: each computes the new rate from the current one, so schedulers can be chained
(``SequentialLR``); a closed form ηₜ is given in each docstring and used when torch uses it.

StepLR:            ηₜ = η₀ · γ^⌊t / step_size⌋
ExponentialLR:     ηₜ = η₀ · γᵗ
CosineAnnealingLR: ηₜ = η_min + (η₀ - η_min) · (1 + cos(π·t / T_max)) / 2
LinearLR:          ηₜ = η₀ · (s + (e - s) · min(t, T) / T)
SequentialLR:      the first scheduler until the first milestone, then the next, …
ReduceLROnPlateau: η ← max(η · factor, min_lr) once a metric stops improving
"""

from __future__ import annotations

import math
from bisect import bisect_right

from . import lr_scheduler_warnings as _warn
from .optimizer import Optimizer


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and sets each group's ``lr``."""

    _is_initial = False
    _get_lr_called_within_step = False  # torch's flag: get_lr() warns outside step()

    def __init_subclass__(cls, **kwargs) -> None:
        # ember's schedulers' get_lr warns outside step(), as torch's own (not a user's)
        super().__init_subclass__(**kwargs)
        if "get_lr" in cls.__dict__ and cls.__module__.startswith("ember.optim"):
            cls.get_lr = _warn.warns_outside_step(cls.__dict__["get_lr"])

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming"
                        " a scheduler with last_epoch >= 0"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per parameter group."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        _warn.warn_if_optimizer_not_stepped(self)
        self._step_count += 1
        _warn.warn_epoch_given(epoch)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        with _warn.within_step(self):
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:  # jump to ``epoch``: torch uses the closed form where there is one
                self.last_epoch = epoch
                closed = getattr(self, "_get_closed_form_lr", None)
                values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            _warn.set_group_value(group, "lr", lr)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Everything but the optimizer, as torch (load it back with ``load_state_dict``)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """ηₜ = η₀ · γ^⌊t / step_size⌋: multiply by ``gamma`` every ``step_size`` steps."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [η0 * self.gamma ** (self.last_epoch // self.step_size) for η0 in self.base_lrs]


class ExponentialLR(LRScheduler):
    """ηₜ = η₀ · γᵗ"""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [η0 * self.gamma**self.last_epoch for η0 in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """ηₜ = η_min + (η₀ - η_min) · (1 + cos(π·t / T_max)) / 2   (SGDR without restarts)

    Computed step by step as torch does, ηₜ from ηₜ₋₁, so it chains after a warmup.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ):  # noqa: N803 - torch's argument name
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, η_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._lrs()
        if self._step_count == 1 and t > 0:
            return self._get_closed_form_lr()  # resumed with last_epoch > 0
        if (t - 1 - T) % (2 * T) == 0:
            return [
                lr + (η0 - η_min) * (1 - math.cos(math.pi / T)) / 2
                for η0, lr in zip(self.base_lrs, self._lrs())
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - η_min) + η_min for lr in self._lrs()]

    def _get_closed_form_lr(self):
        t, T, η_min = self.last_epoch, self.T_max, self.eta_min
        return [η_min + (η0 - η_min) * (1 + math.cos(math.pi * t / T)) / 2 for η0 in self.base_lrs]


class LinearLR(LRScheduler):
    """ηₜ = η₀ · (s + (e - s) · min(t, T) / T), s = start_factor, e = end_factor, T = total_iters.

    With s < 1 = e this is the usual linear warmup.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or equal"
                f" to 1, got start_factor={start_factor}"
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError(
                f"Ending multiplicative factor expected to be between 0 and 1, got {end_factor}"
            )
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        s, e, T, t = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        if t == 0:
            return [lr * s for lr in self._lrs()]
        if self._is_initial or t > T:
            return self._lrs()
        growth = 1.0 + (e - s) / (T * s + (t - 1) * (e - s))
        return [lr * growth for lr in self._lrs()]

    def _get_closed_form_lr(self):
        s, e, T, t = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        return [η0 * (s + (e - s) * min(T, t) / T) for η0 in self.base_lrs]


class _SchedulerOfSchedulers(LRScheduler):
    """A scheduler driving others (``self._schedulers``): their states nest in its own."""

    def state_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        out["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        inner = state.pop("_schedulers")
        self.__dict__.update(state)
        for s, sd in zip(self._schedulers, inner):
            s.load_state_dict(sd)


class SequentialLR(_SchedulerOfSchedulers):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted at its
    step 0), and so on: e.g. a LinearLR warmup followed by CosineAnnealingLR."""

    def __init__(self, optimizer: Optimizer, schedulers: list, milestones: list, last_epoch=-1):
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, but got none")
        for i, s in enumerate(schedulers):
            if not hasattr(s, "optimizer"):
                raise TypeError(
                    f"SequentialLR at index {i} should have `optimizer` as its attribute."
                )
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(
                    f"SequentialLR does not support ReduceLROnPlateau (scheduler at index {i}):"
                    " its step() needs a metric"
                )
            if getattr(s, "optimizer", None) is not optimizer:
                raise ValueError(
                    f"SequentialLR expects all schedulers to belong to the same optimizer, but"
                    f" scheduler {type(s).__name__} at index {i} has a different one"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "SequentialLR expects one milestone fewer than schedulers, got"
                f" {len(schedulers)} schedulers and {len(milestones)} milestones"
            )
        self._schedulers, self._milestones = list(schedulers), list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # the schedulers' own constructors already stepped once: undo that, start the first
        for group in optimizer.param_groups:
            _warn.set_group_value(group, "lr", group["initial_lr"])
        for s in self._schedulers:
            s.last_epoch -= 1
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:  # noqa: D102 - no epoch argument, as torch
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)  # the next phase starts from its own step 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


def warmup_cosine(
    optimizer: Optimizer,
    warmup_steps: int,
    total_steps: int,
    min_lr: float = 0.0,
    start_factor: float = 1e-3,
) -> LRScheduler:
    """Linear warmup from ``start_factor``·η₀ to η₀ over ``warmup_steps``, then cosine decay to
    ``min_lr`` at ``total_steps``: torch's SequentialLR(LinearLR, CosineAnnealingLR)."""
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"need 0 <= warmup_steps < total_steps, got warmup_steps={warmup_steps},"
            f" total_steps={total_steps}"
        )
    if warmup_steps == 0:
        return CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=min_lr)
    warmup = LinearLR(optimizer, start_factor, 1.0, total_iters=warmup_steps)
    cosine = CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=min_lr)
    return SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])


class ReduceLROnPlateau(LRScheduler):
    """Divide the learning rate when a metric stops improving.

    better(a, best) = a < best·(1 - threshold)   (mode 'min', threshold_mode 'rel')
                      a < best - threshold       ('min', 'abs');  mirrored for 'max'
    After more than ``patience`` steps without improvement: η ← max(η·factor, min_lr) (skipped
    when the change is below ``eps``), then ``cooldown`` steps in which bad steps do not count.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ):
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, got {factor}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode!r} is unknown; use 'min' or 'max'")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode!r} is unknown; use 'rel' or 'abs'")
        self.optimizer = optimizer
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(f"expected {n_groups} min_lrs, got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * n_groups
        self.factor, self.patience, self.cooldown, self.eps = factor, patience, cooldown, eps
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.last_epoch = 0
        self._last_lr = self._lrs()
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics, epoch: int | None = None) -> None:  # noqa: D102
        current = float(metrics)
        _warn.warn_epoch_given(epoch)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad steps in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"the optimizer has {len(groups)} parameter groups but ReduceLROnPlateau was"
                    f" given {len(self.min_lrs)} min_lrs"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                _warn.set_group_value(group, "lr", new)


# torch's other schedulers live in lr_scheduler_more.py and lr_scheduler_cyclic.py (files kept
# short); imported last, since they build on the classes above, so that each is reachable here
# under its torch name (ember.optim.lr_scheduler.OneCycleLR, …).
from .lr_scheduler_cyclic import CyclicLR, OneCycleLR  # noqa: E402, F401
from .lr_scheduler_more import (  # noqa: E402, F401
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingWarmRestarts,
    LambdaLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
)
