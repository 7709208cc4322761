"""Cosine annealing of the learning rate, per optimizer step, for the language trainer."""

from __future__ import annotations

import math


class CosineSchedule:
    """ηₜ = η₀ · (1 + cos(π·t / T)) / 2 for step t of T, per optimizer step (then 0).

    The closed form of torch's CosineAnnealingLR with eta_min = 0 and its scheduler surface
    (``step``, ``get_last_lr``, ``state_dict``), kept apart from ``optim.lr_scheduler`` for
    two differences the language trainer relies on: the rate stays 0 after T steps (torch's
    schedule climbs again), and a resumed run anneals over the T it is resumed with, not the
    saved one (see load_state_dict), so resuming towards a new --steps target anneals over
    the new total.
    """

    def __init__(self, optimizer, T_max: int):
        if T_max < 1:
            raise ValueError(f"a cosine schedule needs T_max ≥ 1 steps, got {T_max}")
        self.optimizer, self.T_max, self.last_epoch = optimizer, T_max, 0
        self.base_lrs = [g.setdefault("initial_lr", g["lr"]) for g in optimizer.param_groups]
        self._apply()

    def _apply(self) -> None:
        t = min(self.last_epoch, self.T_max)
        for group, eta0 in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = eta0 * (1 + math.cos(math.pi * t / self.T_max)) / 2

    def step(self) -> None:
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"T_max": self.T_max, "last_epoch": self.last_epoch, "base_lrs": self.base_lrs}

    def load_state_dict(self, state: dict) -> None:
        # T_max stays the one this run was built with: resuming towards a new --steps target
        # anneals over the new total; with the same target it is the schedule that stopped.
        self.last_epoch, self.base_lrs = int(state["last_epoch"]), list(state["base_lrs"])
        self._apply()
