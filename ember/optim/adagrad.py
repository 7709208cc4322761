"""Adagrad: per-parameter step sizes that shrink with the sum of all past squared gradients."""

from __future__ import annotations

import warnings

from ..backend import xp
from .adam_common import next_step, weight_decay
from .impl_flags import check_flags
from .optimizer import Optimizer, check_tensor_lr


class Adagrad(Optimizer):
    """Adaptive subgradient (Duchi, Hazan & Singer 2011):

    g ← g + λ·θ                          (weight_decay λ)
    η̃ ← η / (1 + (t - 1)·δ)              (lr_decay δ, step t = 1, 2, …)
    G ← G + g²                           (G₀ = initial_accumulator_value)
    θ ← θ - η̃ · g / (√G + ε)

    As torch's, every accumulator G₀ is the constructor's ``initial_accumulator_value``, set
    when the optimizer is built (so ``state_dict()`` holds it before the first step); a
    parameter group's own value is kept in the group but not used (ember warns), and a group
    added later starts from the constructor's value at its first step.

    ``foreach``, ``differentiable``, ``fused``:
    torch's implementation flags, kept in the param_groups with torch's defaults; ember has
    one implementation, so they do not change the numbers (errors as torch's: see
    ``impl_flags``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        check_tensor_lr(lr)
        if not 0.0 <= lr:  # (NaN too, as torch's)
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                eps=eps,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                foreach=foreach,
                maximize=maximize,
                differentiable=differentiable,
                fused=fused,
            ),
            maximize=maximize,
        )
        check_flags(foreach=foreach, fused=fused, differentiable=differentiable)
        for group in self.param_groups:
            for param in group["params"]:
                self.state[param] = self._fresh_state(param.array)

    def _fresh_state(self, p) -> dict:
        """{step: 0, sum: G₀}; for a complex parameter G₀ = v + v·i, as torch's."""
        v = self.defaults["initial_accumulator_value"]
        return {"step": 0, "sum": xp.full_like(p, complex(v, v) if p.dtype.kind == "c" else v)}

    def _check(self, group: dict) -> None:
        super()._check(group)
        own, used = group["initial_accumulator_value"], self.defaults["initial_accumulator_value"]
        if own != used:
            warnings.warn(
                f"Adagrad: a parameter group's initial_accumulator_value={own} is not used:"
                f" as torch's, every accumulator starts at the constructor's {used}",
                stacklevel=3,
            )

    def update(self, p, g, state, group):
        lr, δ, wd, eps = (group[k] for k in ("lr", "lr_decay", "weight_decay", "eps"))
        if not state:  # a group added after construction: at its first step, as torch
            state.update(self._fresh_state(p))
        t = next_step(state, p)
        g = weight_decay(p, g, lr, wd)
        clr = lr / (1 + (t - 1) * δ)
        G = state["sum"]  # noqa: N806 - the equation's symbol
        G += g * g
        p -= clr * (g / (xp.sqrt(G) + eps))
