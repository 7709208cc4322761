"""Adafactor: Adam's second moment kept as row and column factors, with relative step sizes."""

from __future__ import annotations

import math

from ..backend import xp
from .optimizer import Optimizer, check_tensor_lr, lerp_


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern 2018), as torch states it (ε₁ and η used as torch does):

    β̂₂ₜ ← 1 - t^τ                                   (τ = beta2_decay ≤ 0)
    ρₜ ← min(η, 1/√t);  αₜ ← max(ε₂, RMS(θ))·ρₜ      relative step, RMS(θ) before the decay
    θ ← θ - η·λ·θ                                   decoupled weight decay
    R ← β̂₂ₜ·R + (1 - β̂₂ₜ)·mean_{-1}(G²)            (≥ 2-d: row factor, last dim kept as 1)
    C ← β̂₂ₜ·C + (1 - β̂₂ₜ)·mean_{-2}(G²)            (≥ 2-d: column factor)
    V̂ ← R·C / max(mean_{-2}(R), ε₁)                 (≥ 2-d: the rank-1 estimate of E[G²])
    V̂ ← β̂₂ₜ·V̂ + (1 - β̂₂ₜ)·G²                       (0-d and 1-d: the full second moment)
    U ← G / max(√V̂, ε₁)
    Û ← U / max(1, RMS(U)/d)                        update clipping
    θ ← θ - αₜ·Û

    ε₁ = None means the parameter dtype's machine epsilon. The moving averages are torch's
    ``lerp`` (weight 1 - β̂₂ₜ), so step 1 sets them to G² exactly. State, as torch's: ``step``,
    and ``row_var`` and ``col_var`` (≥ 2-d) or ``variance`` (0-d, 1-d).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,  # torch's flag; ember has one implementation
        maximize: bool = False,
    ):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(
            params,
            dict(
                lr=lr,
                beta2_decay=beta2_decay,
                eps=eps,
                d=d,
                weight_decay=weight_decay,
                foreach=foreach,
                maximize=maximize,
            ),
            maximize=maximize,
        )

    def update(self, p, g, state, group):
        lr, tau, (eps1, eps2), d, wd = (
            group[k] for k in ("lr", "beta2_decay", "eps", "d", "weight_decay")
        )
        if eps1 is None:
            eps1 = float(xp.finfo(p.dtype).eps)
        if not state:
            state["step"] = 0
            if g.ndim > 1:
                state["row_var"] = xp.zeros(g.shape[:-1] + (1,), dtype=g.dtype)
                state["col_var"] = xp.zeros(g.shape[:-2] + (1,) + g.shape[-1:], dtype=g.dtype)
            else:
                state["variance"] = xp.zeros_like(g)
        state["step"] += 1
        t = float(state["step"])
        w = t**tau  # 1 - β̂₂ₜ
        rho = min(lr, 1 / t**0.5)
        alpha = max(eps2, float(xp.sqrt(xp.sum(p * p))) / math.sqrt(p.size)) * rho
        if wd != 0:
            p *= 1 - lr * wd
        if g.ndim > 1:
            R, C = state["row_var"], state["col_var"]
            lerp_(R, xp.mean(g * g, axis=-1, keepdims=True), w)
            lerp_(C, xp.mean(g * g, axis=-2, keepdims=True), w)
            V = R @ C  # (…, n, 1) @ (…, 1, m): the outer product R·C
            V /= xp.maximum(xp.mean(R, axis=-2, keepdims=True), eps1)
        else:
            V = state["variance"]
            lerp_(V, g * g, w)
            V = V.copy()
        # ε₁² under the root keeps ε₁'s magnitude: 1/max(√V̂, ε₁) = 1/√max(V̂, ε₁²)
        U = xp.maximum(V, eps1 * eps1, out=V)
        U = xp.sqrt(U, out=U)
        U = xp.divide(g, U, out=U)
        clip = max(1.0, float(xp.sqrt(xp.sum(U * U))) / (math.sqrt(U.size) * d))
        p -= (alpha / clip) * U
