"""NAdam: Adam with Nesterov momentum."""

from __future__ import annotations

from .. import backend
from ..backend import xp
from .adam_common import check_adam_args, next_step, update_moments, weight_decay
from .impl_flags import check_flags
from .optimizer import Optimizer


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat 2016), with torch's momentum schedule:

    g ← g + λ·θ                          (weight_decay λ; decoupled: θ ← θ·(1 - η·λ))
    μₜ = β₁·(1 - ½·0.96^(t·ψ))            (momentum_decay ψ)
    Πₜ = Πₜ₋₁·μₜ                           (Π₀ = 1)
    m ← β₁·m + (1 - β₁)·g
    v ← β₂·v + (1 - β₂)·g²
    d = √(v / (1 - β₂ᵗ)) + ε
    θ ← θ - η·(1 - μₜ)/(1 - Πₜ) · g/d - η·μₜ₊₁/(1 - Πₜ·μₜ₊₁) · m/d

    Πₜ is kept, as torch keeps ``mu_product``, in the default dtype (float32 unless
    ``set_default_dtype(float64)``), so the numbers are torch's.

    ``foreach``, ``capturable``, ``differentiable``:
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
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ):
        check_adam_args(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                momentum_decay=momentum_decay,
                decoupled_weight_decay=decoupled_weight_decay,
                maximize=maximize,
                foreach=foreach,
                capturable=capturable,
                differentiable=differentiable,
            ),
            maximize=maximize,
        )
        check_flags(foreach=foreach, differentiable=differentiable)

    _scalar_state = ("mu_product",)

    def update(self, p, g, state, group):
        lr, (β1, β2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        ψ = group["momentum_decay"]
        if not state:
            state["step"] = 0
            state["mu_product"] = xp.dtype(backend.DEFAULT_DTYPE).type(1.0)
        t = next_step(state, p, "exp_avg", "exp_avg_sq")
        g = weight_decay(p, g, lr, wd, group["decoupled_weight_decay"])
        μ = β1 * (1.0 - 0.5 * 0.96 ** (t * ψ))
        μ_next = β1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * ψ))
        Π_prev = state["mu_product"]
        Π = state["mu_product"] = Π_prev * type(Π_prev)(μ)  # rounded as torch's scalar tensor
        Π = float(Π)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        update_moments(m, v, g, β1, β2)
        d = xp.sqrt(v / (1 - β2**t)) + eps
        p += (-lr * (1.0 - μ) / (1.0 - Π)) * (g / d)
        p += (-lr * μ_next / (1.0 - Π * μ_next)) * (m / d)
