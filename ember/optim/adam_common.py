"""What the Adam family (Adam, Adamax, NAdam, RAdam) shares: torch's argument checks, the
per-parameter state's first-step setup, weight decay and the moment updates. The state setup
and weight decay serve Adadelta and Adagrad too."""

from __future__ import annotations

from ..backend import xp
from .optimizer import check_tensor_lr


def check_adam_args(lr: float, betas, eps: float, weight_decay: float) -> None:
    """torch's argument checks shared by the Adam family; NaN fails them all, as torch's
    ``not 0.0 <= x``."""
    check_tensor_lr(lr)
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if len(betas) < 2:  # torch's IndexError at betas[1] (ember failed at the first step)
        raise IndexError(f"betas must be a pair (beta1, beta2), got {tuple(betas)}")
    for i, b in enumerate(betas[:2]):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
    if len(betas) > 2:  # torch's ValueError unpacking them at the first step
        raise ValueError(f"betas must be a pair (beta1, beta2), got {len(betas)} values")


def next_step(state: dict, p, *buffers: str) -> int:
    """On the first step, state = {step: 0, *buffers: zeros like p}; then step += 1.

    Returns the new step t. Extra state a rule keeps (NAdam's mu_product) is set by the
    caller before this call, after ``state["step"] = 0``, to keep torch's key order.
    """
    if "step" not in state:
        state["step"] = 0
    if buffers and buffers[0] not in state:
        for name in buffers:
            state[name] = xp.zeros_like(p)
    state["step"] += 1
    return state["step"]


def weight_decay(p, g, lr: float, wd: float, decoupled: bool = False):
    """g + λ·θ (L2 in the gradient), or with ``decoupled`` θ ← θ·(1 - η·λ) in place and g
    unchanged (AdamW's rule). Returns the gradient to use."""
    if wd:
        if decoupled:
            p *= 1 - lr * wd
        else:
            g = g + wd * p
    return g


def update_moments(m, v, g, β1: float, β2: float) -> None:
    """m ← β₁·m + (1 - β₁)·g (as torch's lerp), v ← β₂·v + (1 - β₂)·g², in place."""
    m += (1 - β1) * (g - m)
    v *= β2
    v += (1 - β2) * g * g
