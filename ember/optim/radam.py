"""RAdam: Adam whose adaptive step is switched on only once its variance is tractable."""

from __future__ import annotations

import math

from ..backend import xp
from .adam_common import check_adam_args, next_step, update_moments, weight_decay
from .impl_flags import check_flags
from .optimizer import Optimizer


class RAdam(Optimizer):
    """Rectified Adam (Liu et al. 2020):

    g ← g + λ·θ                          (weight_decay λ; decoupled: θ ← θ·(1 - η·λ))
    m ← β₁·m + (1 - β₁)·g;  m̂ = m / (1 - β₁ᵗ)
    v ← β₂·v + (1 - β₂)·g²
    ρ∞ = 2/(1 - β₂) - 1;  ρₜ = ρ∞ - 2t·β₂ᵗ/(1 - β₂ᵗ)
    rₜ = √((ρₜ - 4)(ρₜ - 2)ρ∞ / ((ρ∞ - 4)(ρ∞ - 2)ρₜ))
    θ ← θ - η·m̂·rₜ·√(1 - β₂ᵗ)/(√v + ε)    if ρₜ > 5
    θ ← θ - η·m̂                          otherwise (SGD with momentum while v is young)

    ``foreach``, ``capturable``, ``differentiable``:
    torch's implementation flags, kept in the param_groups with torch's defaults; ember has
    one implementation, so they do not change the numbers (errors as torch's: see
    ``impl_flags``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ):
        check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                maximize=maximize,
                foreach=foreach,
                capturable=capturable,
                decoupled_weight_decay=decoupled_weight_decay,
                differentiable=differentiable,
            ),
            maximize=maximize,
        )
        check_flags(foreach=foreach, differentiable=differentiable)

    def update(self, p, g, state, group):
        lr, (β1, β2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        t = next_step(state, p, "exp_avg", "exp_avg_sq")
        g = weight_decay(p, g, lr, wd, group["decoupled_weight_decay"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        update_moments(m, v, g, β1, β2)
        bc1, bc2 = 1 - β1**t, 1 - β2**t
        m_hat = m / bc1
        ρ_inf = 2 / (1 - β2) - 1
        ρ = ρ_inf - 2 * t * β2**t / bc2
        if ρ > 5.0:
            r = math.sqrt((ρ - 4) * (ρ - 2) * ρ_inf / ((ρ_inf - 4) * (ρ_inf - 2) * ρ))
            p -= m_hat * lr * (math.sqrt(bc2) / (xp.sqrt(v) + eps)) * r
        else:
            p -= m_hat * lr
