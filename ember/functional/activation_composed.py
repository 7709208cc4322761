"""The piecewise activations as compositions of differentiable Tensor operations: each a
``where`` over the comparison torch's kernels make, written as the equation reads.

``activation_more`` runs each of these as one op (ops/activations_piecewise.py), faster and
with its derivative written by hand; these compositions are the reference the tests hold those
ops to (values and gradients, float64), and the definition the ops' docstrings restate.
The comparisons run on raw arrays, outside the ops, so these are not for ONNX export (the
mask would be baked in); the ops are.

The branch a ``where`` discards is clamped first, so it never overflows to inf (0·inf would
be nan in the backward); a NaN input takes the side torch's scalar kernels give it.
"""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor
from .shape import where


def _const(x: Tensor, a) -> Tensor:
    """A constant array in x's dtype (the discarded side of a ``where``: no gradient)."""
    return Tensor(xp.asarray(a, dtype=x.dtype))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """min(max(x, min_val), max_val): x itself unless x ≤ min_val or x ≥ max_val."""
    inside = ~((x.array <= min_val) | (x.array >= max_val))
    return where(inside, x, _const(x, xp.clip(x.array, min_val, max_val)))


def hardsigmoid(x: Tensor) -> Tensor:
    """min(max(x + 3, 0), 6) / 6: (x + 3)/6 strictly between −3 and 3."""
    inside = (x > -3.0) & (x < 3.0)
    return where(inside, (x + 3.0) / 6.0, _const(x, xp.clip(x.array + 3.0, 0.0, 6.0) / 6.0))


def hardswish(x: Tensor) -> Tensor:
    """x·min(max(x + 3, 0), 6) / 6: x·0 for x ≤ −3 (NaN at −inf, as torch's), x for x ≥ 3 (and
    NaN), x·(x + 3)/6 between, the middle branch fed x only where it is chosen."""
    mid = (x.array > -3.0) & (x.array < 3.0)
    xm = where(mid, x, 0.0)
    upper = where(x.array < 3.0, xm * (xm + 3.0) / 6.0, x)
    return where(x.array <= -3.0, x * 0.0, upper)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^{βx}) / β, and x where βx > threshold."""
    bx = x * beta
    # min(βx, threshold) by a where, not a clamp: a NaN x keeps its NaN gradient (a clamp's
    # backward shuts it, as torch's), as the fused op and torch's softplus give
    capped = where(bx.array > threshold, _const(bx, threshold), bx)
    return where(bx > threshold, x, capped.exp().log1p() / beta)


def mish(x: Tensor) -> Tensor:
    """x·tanh(Softplus(x))."""
    return x * softplus(x).tanh()


def threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    """value if x ≤ threshold else x."""
    return where(~(x.array <= threshold), x, _const(x, float(value)))


def hardshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """0 if −λ ≤ x ≤ λ else x."""
    return where(~((x.array >= -lambd) & (x.array <= lambd)), x, _const(x, 0.0))


def softshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """x − λ above λ, x + λ below −λ, 0 between."""
    shift = _const(x, xp.where(x.array > lambd, lambd, -lambd))  # NaN: x + λ, still NaN
    return where(~((x.array >= -lambd) & (x.array <= lambd)), x - shift, _const(x, 0.0))


def prelu(x: Tensor, a: Tensor) -> Tensor:
    """x if x > 0 else a·x, a one slope or one per channel (dim 1); arguments checked by
    ``activation_more.prelu``."""
    if x.ndim >= 2:  # one slope per channel: a as (1, C, 1, …) broadcasts along dim 1
        a = a.reshape(*[a.numel() if d == 1 else 1 for d in range(x.ndim)])
    return where(x > 0, x, a * x)


COMPOSED = {
    "hardtanh": hardtanh,
    "hardsigmoid": hardsigmoid,
    "hardswish": hardswish,
    "softplus": softplus,
    "mish": mish,
    "threshold": threshold,
    "hardshrink": hardshrink,
    "softshrink": softshrink,
    "prelu": prelu,
}
