"""Adagrad: per-parameter step sizes that shrink with the sum of all past squared gradients."""

from __future__ import annotations

from ..backend import xp
from .adam_common import next_step, weight_decay
from .impl_flags import check_flags
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Adaptive subgradient (Duchi, Hazan & Singer 2011):

    g ← g + λ·θ                          (weight_decay λ)
    η̃ ← η / (1 + (t - 1)·δ)              (lr_decay δ, step t = 1, 2, …)
    G ← G + g²                           (G₀ = initial_accumulator_value)
    θ ← θ - η̃ · g / (√G + ε)

    ``foreach``, ``differentiable``, ``fused``:
    torch's implementation flags, kept in the param_groups with torch's defaults; ember has
    one implementation, so they do not change the numbers (errors as torch's: see
    ``impl_flags``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if lr_decay < 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if initial_accumulator_value < 0.0:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        if eps < 0.0:
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

    def update(self, p, g, state, group):
        lr, δ, wd, eps = (group[k] for k in ("lr", "lr_decay", "weight_decay", "eps"))
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(p, group["initial_accumulator_value"])
        t = next_step(state, p)
        g = weight_decay(p, g, lr, wd)
        clr = lr / (1 + (t - 1) * δ)
        G = state["sum"]  # noqa: N806 - the equation's symbol
        G += g * g
        p -= clr * (g / (xp.sqrt(G) + eps))
