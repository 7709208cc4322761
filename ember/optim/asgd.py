"""ASGD: stochastic gradient descent with a decaying step and a running average of the iterates."""

from __future__ import annotations

from .. import backend
from ..backend import xp
from .impl_flags import check_flags
from .optimizer import Optimizer, check_tensor_lr


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky 1992), with torch's schedules, at step t = 1, 2, …:

    g ← g + λ·θ                              (weight_decay λ)
    θ ← θ·(1 - λd·ηₜ) - ηₜ·g                  (lambd λd; η₁ = lr)
    θ̄ ← θ̄ + μₜ·(θ - θ̄)                        (θ̄ = ``ax``; θ̄ ← θ while μₜ = 1)
    ηₜ₊₁ = lr / (1 + λd·lr·t)^α               (alpha α)
    μₜ₊₁ = 1 / max(1, t - t₀)                  (averaging starts after step t₀)

    The parameters follow the plain iterates θ; the average θ̄ is kept in the state as ``ax``.
    η and μ are kept, as torch keeps them, in the default dtype (float32 unless
    ``set_default_dtype(float64)``), so the numbers are torch's.

    ``foreach``, ``differentiable``, ``capturable``:
    torch's implementation flags, kept in the param_groups with torch's defaults; ember has
    one implementation, so they do not change the numbers (errors as torch's: see
    ``impl_flags``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay)
        defaults.update(
            foreach=foreach, maximize=maximize, differentiable=differentiable, capturable=capturable
        )
        super().__init__(params, defaults, maximize=maximize)
        check_flags(foreach=foreach, differentiable=differentiable)

    _scalar_state = ("eta", "mu")

    def update(self, p, g, state, group):
        lr, λd, α, t0, wd = (group[k] for k in ("lr", "lambd", "alpha", "t0", "weight_decay"))
        scalar = xp.dtype(backend.DEFAULT_DTYPE).type  # torch's scalar-state dtype
        if not state:
            state["step"] = 0
            state["eta"] = scalar(lr)
            state["mu"] = scalar(1.0)
            state["ax"] = xp.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        if wd != 0:
            g = g + wd * p
        η = float(state["eta"])
        p *= 1 - λd * η
        p -= η * g
        ax, μ = state["ax"], state["mu"]
        if float(μ) != 1:
            ax += (p - ax) * μ
        else:
            ax[...] = p
        # torch rounds the new η, μ to the default dtype, then copies them into its state
        # tensors, whose dtype load_state_dict may have changed to the parameter's
        kept = type(state["eta"])
        state["eta"] = kept(scalar(lr / ((1 + λd * lr * t) ** α)))
        state["mu"] = kept(scalar(1 / max(1, t - t0)))
