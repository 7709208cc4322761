"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer


def check_adam_args(lr: float, betas, eps: float, weight_decay: float) -> None:
    """torch's argument checks shared by the Adam family."""
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps < 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")
    if weight_decay < 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adamax(Optimizer):
    """Adam's variant based on the infinity norm (Kingma & Ba 2015, §7.1):

    g ← g + λ·θ                          (weight_decay λ)
    m ← β₁·m + (1 - β₁)·g                first moment
    u ← max(β₂·u, |g| + ε)               exponentially weighted infinity norm
    θ ← θ - η / (1 - β₁ᵗ) · m / u
    """

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(
            params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        )

    def update(self, p, g, state, group):
        lr, (β1, β2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p)
            state["exp_inf"] = xp.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        if wd:
            g = g + wd * p
        m, u = state["exp_avg"], state["exp_inf"]
        m += (1 - β1) * (g - m)  # m ← β₁·m + (1 - β₁)·g, as torch's lerp
        u *= β2
        xp.maximum(u, xp.abs(g) + eps, out=u)
        clr = lr / (1 - β1**t)
        p -= clr * (m / u)
