"""RMSprop: divide the gradient by a running root-mean-square of its recent values."""

from __future__ import annotations

from ..backend import xp
from .impl_flags import check_flags
from .optimizer import Optimizer, check_tensor_lr


class RMSprop(Optimizer):
    """Per-parameter step sizes from the running mean of g²:

    g ← g + λ·θ
    s ← α·s + (1 - α)·g²
    m ← α·m + (1 - α)·g;  d ← √(s - m²) + ε     (centered)
    d ← √s + ε                                   (otherwise)
    b ← μ·b + g/d;  θ ← θ - η·b                  (momentum μ > 0)
    θ ← θ - η·g/d                                (otherwise)

    ``capturable``, ``foreach``, ``differentiable``:
    torch's implementation flags, kept in the param_groups with torch's defaults; ember has
    one implementation, so they do not change the numbers (errors as torch's: see
    ``impl_flags``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        check_tensor_lr(lr)
        if not 0.0 <= lr:  # (NaN too, as torch's)
            raise ValueError(f"Invalid learning rate: {lr}")
        for name, v in (
            ("epsilon", eps),
            ("momentum", momentum),
            ("weight_decay", weight_decay),
            ("alpha", alpha),
        ):
            if not 0.0 <= v:  # (NaN too, as torch's)
                raise ValueError(f"Invalid {name} value: {v}")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                alpha=alpha,
                eps=eps,
                centered=centered,
                weight_decay=weight_decay,
                capturable=capturable,
                foreach=foreach,
                maximize=maximize,
                differentiable=differentiable,
            ),
            maximize=maximize,
        )
        check_flags(foreach=foreach, differentiable=differentiable)

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
