"""Adadelta: RMSprop whose step carries its own units, a running RMS of past updates."""

from __future__ import annotations

from ..backend import xp
from .adam_common import next_step, weight_decay
from .impl_flags import check_flags
from .optimizer import Optimizer, check_tensor_lr


class Adadelta(Optimizer):
    """An adaptive learning rate method (Zeiler 2012):

    g ← g + λ·θ                          (weight_decay λ)
    v ← ρ·v + (1 - ρ)·g²                 running mean of g²
    Δ ← √(u + ε) / √(v + ε) · g          the update, in the units of θ
    u ← ρ·u + (1 - ρ)·Δ²                 running mean of Δ²
    θ ← θ - η·Δ

    ``foreach``, ``capturable``, ``differentiable``:
    torch's implementation flags, kept in the param_groups with torch's defaults; ember has
    one implementation, so they do not change the numbers (errors as torch's: see
    ``impl_flags``).
    """

    def __init__(
        self,
        params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        check_tensor_lr(lr)
        if not 0.0 <= lr:  # (NaN too, as torch's)
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        defaults.update(capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults, maximize=maximize)
        check_flags(foreach=foreach, differentiable=differentiable)

    def update(self, p, g, state, group):
        lr, ρ, eps, wd = (group[k] for k in ("lr", "rho", "eps", "weight_decay"))
        next_step(state, p, "square_avg", "acc_delta")
        g = weight_decay(p, g, lr, wd)
        v, u = state["square_avg"], state["acc_delta"]
        v *= ρ
        v += (1 - ρ) * g * g
        Δ = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
        u *= ρ
        u += (1 - ρ) * Δ * Δ
        p -= lr * Δ
