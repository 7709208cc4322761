"""RMSprop: divide the gradient by a running root-mean-square of its recent values."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """Per-parameter step sizes from the running mean of g²:

    g ← g + λ·θ
    s ← α·s + (1 - α)·g²
    m ← α·m + (1 - α)·g;  d ← √(s - m²) + ε     (centered)
    d ← √s + ε                                   (otherwise)
    b ← μ·b + g/d;  θ ← θ - η·b                  (momentum μ > 0)
    θ ← θ - η·g/d                                (otherwise)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        for name, v in (
            ("epsilon", eps),
            ("momentum", momentum),
            ("weight_decay", weight_decay),
            ("alpha", alpha),
        ):
            if v < 0.0:
                raise ValueError(f"Invalid {name} value: {v}")
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
            ),
            maximize=maximize,
        )

    def update(self, p, g, state, group):
        lr, a, eps, wd, mu = (group[k] for k in ("lr", "alpha", "eps", "weight_decay", "momentum"))
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p)
            if mu:
                state["momentum_buffer"] = xp.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p)
        state["step"] += 1
        if wd:
            g = g + wd * p
        s = state["square_avg"]
        s *= a
        s += (1 - a) * g * g
        if group["centered"]:
            m = state["grad_avg"]
            m *= a
            m += (1 - a) * g
            d = xp.sqrt(s - m * m) + eps
        else:
            d = xp.sqrt(s) + eps
        if mu:
            b = state["momentum_buffer"]
            b *= mu
            b += g / d
            p -= lr * b
        else:
            p -= lr * (g / d)
