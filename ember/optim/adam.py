"""Adam and AdamW: momentum and RMSprop's scaling, with bias correction."""

from __future__ import annotations

import math

from ..backend import parallel_for, xp
from ..tensor import Tensor
from .adam_common import check_adam_args, next_step
from .impl_flags import check_flags
from .optimizer import Optimizer


class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba 2015):

    g ← g + λ·θ                          (weight_decay λ, L2 in the gradient)
    m ← β₁·m + (1 - β₁)·g                 first moment
    v ← β₂·v + (1 - β₂)·g²                second moment
    v̂_max ← max(v̂_max, v)                 (amsgrad: use v̂_max for v below)
    θ ← θ - η · (m / (1 - β₁ᵗ)) / (√(v / (1 - β₂ᵗ)) + ε)

    With ``decoupled_weight_decay`` (torch's flag; AdamW sets it) the decay is AdamW's.

    ``foreach``, ``capturable``, ``differentiable``, ``fused``:
    torch's implementation flags, kept in the param_groups with torch's defaults; ember has
    one implementation, so they do not change the numbers (errors as torch's: see
    ``impl_flags``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ):
        check_adam_args(lr, betas, eps, weight_decay)
        _check_tensor_hyperparameters(lr, betas, foreach, capturable)
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                maximize=maximize,
                foreach=foreach,
                capturable=capturable,
                differentiable=differentiable,
                fused=fused,
                decoupled_weight_decay=bool(decoupled_weight_decay),
            ),
            maximize=maximize,
        )
        check_flags(foreach=foreach, fused=fused, differentiable=differentiable)

    def update(self, p, g, state, group):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        t = next_step(state, p, *(buffers if group["amsgrad"] else buffers[:2]))
        decoupled = group["decoupled_weight_decay"]
        decay = 1 - lr * wd if decoupled else 1.0  # AdamW: θ ← θ·(1 - η·λ)
        l2 = 0.0 if decoupled else wd  # Adam: g ← g + λ·θ
        bc1 = 1 - b1**t
        sqrt_bc2 = math.sqrt(1 - b2**t)
        vmax = state.get("max_exp_avg_sq") if group["amsgrad"] else None
        arrays = (p, g, state["exp_avg"], state["exp_avg_sq"], vmax)
        # lr / bc1 first, as torch's step size (rounded to float32 with a float32 tensor lr)
        consts = (decay, l2, b1, b2, eps * sqrt_bc2, float(lr / bc1) * sqrt_bc2)
        if p.size < 2 * _GRAIN or not all(a is None or a.flags.c_contiguous for a in arrays):
            _adam_step(*arrays, *consts)
            return
        # the step is memory-bound: a large tensor is split over the threads
        flat = [None if a is None else a.reshape(-1) for a in arrays]

        def part(lo, hi):
            _adam_step(*(_part(a, lo, hi) for a in flat), *consts)

        parallel_for(part, p.size, _GRAIN)


def _check_tensor_hyperparameters(lr, betas, foreach, capturable) -> None:
    """torch's Adam checks of tensor ``lr`` and ``betas``: its foreach kernels take them only
    with ``capturable``, and the betas are both floats or both tensors (so ``betas=(0, 0.9)``,
    an int, is refused as torch refuses it)."""
    named = [("lr", lr), ("betas[0]", betas[0]), ("betas[1]", betas[1])]
    for name, v in named:
        if isinstance(v, Tensor):
            if foreach and not capturable:
                raise ValueError(
                    f"{name} as a Tensor is not supported for capturable=False and foreach=True"
                )
            if v.numel() != 1:
                raise ValueError(f"Tensor {name} must be 1-element")
    if not all(isinstance(b, float) for b in betas[:2]) and not all(
        isinstance(b, Tensor) for b in betas[:2]
    ):
        raise ValueError(
            "betas must be either both floats or both Tensors, got"
            f" ({type(betas[0]).__name__}, {type(betas[1]).__name__})"
        )


# elements per thread below which splitting loses: each of the ~10 ufunc calls must run long
# enough that the two threads do not queue for the GIL between calls (measured on 2 cores:
# 32k-element parts made GPT's AdamW step 30 % slower; 100k-element halves of the MLP's
# 784×256 weight made its update 18 % faster)
_GRAIN = 1 << 16


def _part(a, lo, hi):
    return None if a is None else a[lo:hi]


def _adam_step(p, g, m, v, vmax, decay, l2, b1, b2, eps_hat, step_size):
    """Adam's step on (a part of) one parameter, in place through one scratch array.

    η·(m/bc1)/(√(v/bc2) + ε) = (η·√bc2/bc1)·m/(√v + ε·√bc2): the same step, a pass fewer,
    with eps_hat = ε·√bc2 and step_size = η·√bc2/bc1.
    """
    if l2:
        g = g + l2 * p
    if decay != 1.0:
        p *= decay
    s = g * (1 - b1)
    m *= b1
    m += s  # m ← β₁·m + (1 - β₁)·g
    xp.multiply(g, g, out=s)
    s *= 1 - b2
    v *= b2
    v += s  # v ← β₂·v + (1 - β₂)·g²
    if vmax is not None:
        v = xp.maximum(vmax, v, out=vmax)
    denom = xp.sqrt(v, out=s)
    denom += eps_hat
    step = xp.divide(m, denom, out=s)
    step *= step_size
    p -= step


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019):

    θ ← θ·(1 - η·λ)                      decay the weights directly, not through g
    then Adam's step with λ = 0

    ``foreach``, ``capturable``, ``differentiable``, ``fused``:
    torch's implementation flags, kept in the param_groups with torch's defaults; ember has
    one implementation, so they do not change the numbers (errors as torch's: see
    ``impl_flags``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
