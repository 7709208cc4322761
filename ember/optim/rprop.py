"""Rprop: resilient backpropagation, a step size per element steered by the gradient's sign."""

from __future__ import annotations

from ..backend import xp
from ..ops.rounding import sign_array
from .impl_flags import check_flags
from .optimizer import Optimizer, check_tensor_lr


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun 1993), as torch's, element by element:

    s = sign(g · g_prev)                    (g_prev = 0 at the first step)
    Δ ← clamp(Δ · η₊, Δmin, Δmax)  where s > 0   (etas = (η₋, η₊), step_sizes = (Δmin, Δmax))
    Δ ← clamp(Δ · η₋, Δmin, Δmax)  where s < 0   (Δ₀ = lr)
    g ← 0                          where s < 0   (the sign flipped: no step, forget g)
    θ ← θ - sign(g) · Δ
    g_prev ← g

    The gradient's size never enters the step, only its sign.

    ``capturable``, ``foreach``, ``differentiable``:
    torch's implementation flags, kept in the param_groups with torch's defaults; ember has
    one implementation, so they do not change the numbers (errors as torch's: see
    ``impl_flags``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach)
        defaults.update(maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults, maximize=maximize)
        check_flags(foreach=foreach, differentiable=differentiable)

    def update(self, p, g, state, group):
        η_minus, η_plus = group["etas"]
        Δ_min, Δ_max = group["step_sizes"]
        if not state:
            state["step"] = 0
            state["prev"] = xp.zeros_like(p)
            state["step_size"] = xp.full_like(p, group["lr"])
        state["step"] += 1
        prev, Δ = state["prev"], state["step_size"]
        # torch's sign: 0 at NaN, so a NaN or infinite gradient (∞·0 at the first step) keeps
        # the step size (factor 1) and moves nothing or takes a plain step, instead of NaN
        s = sign_array(g * prev)
        # the factor per element: η₊, η₋ or 1
        factor = xp.where(s > 0, η_plus, xp.where(s < 0, η_minus, 1.0))
        factor = factor.astype(p.dtype, copy=False)
        Δ *= factor
        xp.clip(Δ, Δ_min, Δ_max, out=Δ)
        g = xp.where(factor == η_minus, xp.zeros((), dtype=g.dtype), g)
        p -= sign_array(g) * Δ
        prev[...] = g
