"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from ..backend import xp
from .adam_common import check_adam_args, next_step, weight_decay
from .impl_flags import check_flags
from .optimizer import Optimizer


class Adamax(Optimizer):
    """Adam's variant based on the infinity norm (Kingma & Ba 2015, §7.1):

    g ← g + λ·θ                          (weight_decay λ)
    m ← β₁·m + (1 - β₁)·g                first moment
    u ← max(β₂·u, |g| + ε)               exponentially weighted infinity norm
    θ ← θ - η / (1 - β₁ᵗ) · m / u

    ``foreach``, ``differentiable``, ``capturable``:
    torch's implementation flags, kept in the param_groups with torch's defaults; ember has
    one implementation, so they do not change the numbers (errors as torch's: see
    ``impl_flags``).
    """

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ):
        check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        defaults.update(
            foreach=foreach, maximize=maximize, differentiable=differentiable, capturable=capturable
        )
        super().__init__(params, defaults, maximize=maximize)
        check_flags(foreach=foreach, differentiable=differentiable)

    def update(self, p, g, state, group):
        lr, (β1, β2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        t = next_step(state, p, "exp_avg", "exp_inf")
        g = weight_decay(p, g, lr, wd)
        m, u = state["exp_avg"], state["exp_inf"]
        m += (1 - β1) * (g - m)  # m ← β₁·m + (1 - β₁)·g, as torch's lerp
        u *= β2
        xp.maximum(u, xp.abs(g) + eps, out=u)
        clr = lr / (1 - β1**t)
        p -= clr * (m / u)
