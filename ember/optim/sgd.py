"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from .impl_flags import check_flags
from .optimizer import Optimizer, check_tensor_lr


class SGD(Optimizer):
    """Step downhill along the gradient:

    g ← g + λ·θ                         (weight_decay λ)
    b ← μ·b + (1 - τ)·g                 (momentum μ, dampening τ; b = g at the first step)
    g ← g + μ·b  if nesterov  else  b
    θ ← θ - η·g

    ``foreach``, ``differentiable``, ``fused``:
    torch's implementation flags, kept in the param_groups with torch's defaults; ember has
    one implementation, so they do not change the numbers (errors as torch's: see
    ``impl_flags``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        check_tensor_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
                foreach=foreach,
                differentiable=differentiable,
                fused=fused,
            ),
            maximize=maximize,
        )
        check_flags(foreach=foreach, fused=fused, differentiable=differentiable)

    def update(self, p, g, state, group):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd:
            g = g + wd * p
        if mu:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= mu
                b += (1 - group["dampening"]) * g
            g = g + mu * b if group["nesterov"] else b
        p -= lr * g
