"""Muon: momentum, orthogonalised by a Newton–Schulz iteration, for 2-d weight matrices."""

from __future__ import annotations

import math

from ..backend import xp
from .optimizer import Optimizer, check_tensor_lr, lerp, lerp_

# Keller Jordan's quintic coefficients and step count, torch's defaults
EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


class Muon(Optimizer):
    """MomentUm Orthogonalized by Newton–Schulz (Jordan et al. 2024), as torch computes it:

    B ← μ·B + (1 - μ)·G                     momentum buffer (torch's lerp)
    B̃ ← G + μ·(B - G)  (nesterov);  B̃ ← B  (otherwise)
    X ← bf16(B̃)ᵀ if rows > columns, else bf16(B̃);  X ← X / max(‖X‖_F, ε)
    k times:  A ← X·Xᵀ;  X ← a·X + (b·A + c·A·A)·X   quintic Newton–Schulz, (a, b, c)
    O ← X (transposed back)                  ≈ U·Vᵀ of B̃ = U·S·Vᵀ, singular values near 1
    θ ← θ·(1 - η·λ)                          decoupled weight decay
    θ ← θ - η'·O,  η' = η·√max(1, A/B)       ("original"; A×B the parameter's shape)
                   η' = η·0.2·√max(A, B)     ("match_rms_adamw": AdamW's update RMS)

    Like torch, the iteration runs in bfloat16: each matrix product (with its added term) is
    rounded once to bfloat16 (nearest even), here from its exact value in float64. torch
    accumulates in float32 in its own order, which on rare elements of large matrices moves a
    rounding by one bfloat16 step. Only 2-d parameters; state, as torch's,
    is ``momentum_buffer``. torch's Muon has no ``maximize``.
    """

    has_maximize = False  # torch's has none: its param_groups carry no such key

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
        eps: float = EPS,
        ns_steps: int = DEFAULT_NS_STEPS,
        adjust_lr_fn: str | None = None,
    ):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(
            params,
            dict(
                lr=lr,
                weight_decay=weight_decay,
                momentum=momentum,
                nesterov=nesterov,
                ns_coefficients=ns_coefficients,
                eps=eps,
                ns_steps=ns_steps,
                adjust_lr_fn=adjust_lr_fn,
            ),
        )
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        "Muon only supports 2D parameters whereas we found a parameter with"
                        f" size: {p.size()}"
                    )

    def update(self, p, g, state, group):
        lr, wd, mu = group["lr"], group["weight_decay"], group["momentum"]
        if g.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = xp.zeros_like(g)
        B = state["momentum_buffer"]
        lerp_(B, g, 1 - mu)
        B_tilde = lerp(g, B, mu) if group["nesterov"] else B
        O = _zeropower_via_newtonschulz(
            B_tilde, group["ns_coefficients"], group["ns_steps"], group["eps"]
        )
        p *= 1 - lr * wd
        p -= _adjust_lr(lr, group["adjust_lr_fn"], p.shape) * O.astype(p.dtype)


def _zeropower_via_newtonschulz(G, ns_coefficients, ns_steps: int, eps: float):
    """X ≈ U·Vᵀ for G = U·S·Vᵀ by ``ns_steps`` quintic iterations in bfloat16, as torch's
    ``_zeropower_via_newtonschulz``: float64 arrays holding bfloat16 values, each product and
    sum worked exactly (float64) and rounded once, through float32, to bfloat16."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if G.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    # torch works a bfloat16 op's Python scalars in float32
    a, b, c = (float(xp.float32(v)) for v in ns_coefficients)
    X = _bf16(G)
    tall = G.shape[0] > G.shape[1]
    if tall:
        X = X.T
    X = _bf16(X / xp.maximum(_bf16(xp.sqrt(xp.sum(X * X))), _bf16(eps)))
    for _ in range(ns_steps):
        A = _bf16(X @ X.T)
        A = _bf16(_addmm(A, A, A, b, c))
        X = _bf16(_addmm(X, A, X, a, 1.0))
    return X.T if tall else X


def _addmm(x, m1, m2, beta: float, alpha: float):
    """torch.addmm(x, m1, m2, beta=β, alpha=α) = β·x + α·(m1·m2), where, as torch's, β = 0
    leaves x out (so an inf in x, from an iteration that diverged, makes no NaN)."""
    product = alpha * (m1 @ m2)
    return product if beta == 0 else beta * x + product


def _bf16(x):
    """``x`` rounded to float32, then to the nearest bfloat16 (ties to even), as torch converts;
    returned as float64, in which the next products and sums of bfloat16 values are exact."""
    x = xp.asarray(x, dtype=xp.float32)
    u = x.view(xp.uint32)
    r = (u + xp.uint32(0x7FFF) + ((u >> xp.uint32(16)) & xp.uint32(1))) & xp.uint32(0xFFFF0000)
    return xp.where(xp.isnan(x), x, r.view(xp.float32)).astype(xp.float64)


def _adjust_lr(lr: float, adjust_lr_fn: str | None, shape) -> float:
    """η' for an A×B parameter: the orthogonalised update's RMS made alike across shapes."""
    A, B = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, A / B))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(A, B))
    else:
        ratio = 1.0
    return lr * ratio
