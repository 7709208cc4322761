"""The robust regression losses, smooth L1 and Huber, composed from differentiable Tensor ops
(values agree with torch's to rounding). Unlike torch, target shapes that differ from the
input's raise here rather than broadcast."""

from __future__ import annotations

from ..amp.composite import as_one_op
from ..errors import InputError
from ..ops.complex_refuse import refuse_complex
from ..ops.elementwise import not_implemented_for
from ..tensor import Tensor, as_array
from .loss import _reduce, check_reduction
from .loss_legacy import reduction_of, weighted
from .shape import where

#: torch's smooth L1 and Huber losses have no complex kernels
_REAL_LOSS = "take the loss of |x − y| with a zero target instead"


def _pair(name: str, input: Tensor, target) -> Tensor:  # noqa: A002
    t = target if isinstance(target, Tensor) else Tensor(as_array(target, input.dtype))
    if t.shape != input.shape:
        raise InputError(f"{name}: shapes must be equal, got input {input.shape}, target {t.shape}")
    return t.to(input.dtype) if t.dtype.kind == "b" else t  # a mask target: its 0s and 1s


@as_one_op("smooth_l1_loss")
def smooth_l1_loss(  # noqa: PLR0913
    input: Tensor,  # noqa: A002
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Smooth L1 loss: quadratic near zero, linear beyond ``beta`` (Fast R-CNN).

    z = |x - y|
    ℓ = 0.5·z²/β     if z < β
        z - 0.5·β    otherwise          (β = 0: plain L1, ℓ = z)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    if beta < 0:
        raise InputError(f"smooth_l1_loss: beta must be ≥ 0, got {beta}")
    y = _pair("smooth_l1_loss", input, target)
    for t in (input, y):  # torch has no complex kernel (a complex target promotes to one)
        if t.dtype.kind == "c":
            refuse_complex(t.array, "smooth_l1_loss", NotImplementedError, _REAL_LOSS)
    z = (input - y).abs()
    if z.dtype.kind in "biu":  # torch has no integer kernel (a float on either side is fine)
        raise not_implemented_for("smooth_l1_cpu", z.dtype)
    if beta == 0.0:
        return _reduce(z, reduction)
    small = ~(z.array >= beta)  # NaN takes the quadratic side: its gradient NaN, as torch
    zq = _inside(z, small)
    return _reduce(where(small, 0.5 * zq * zq / beta, z - 0.5 * beta), reduction)


def _inside(z: Tensor, small) -> Tensor:
    """z where ``small``, else 0: the quadratic branch's operand, so an infinite z on the
    linear side (where that branch is not taken) cannot make its gradient 0·∞ = NaN."""
    return where(small, z, Tensor(as_array(0).astype(z.dtype)))


@as_one_op("huber_loss")
def huber_loss(
    input: Tensor,  # noqa: A002
    target,
    reduction: str = "mean",
    delta: float = 1.0,
    weight=None,
) -> Tensor:
    """Huber loss: squared error near zero, ``delta``-scaled absolute error beyond it.

    z = |x - y|
    ℓ = 0.5·z²             if z < δ
        δ·(z - 0.5·δ)      otherwise     (= δ · smooth_l1 with β = δ)

    With ``weight`` (the input's shape) ℓ = w·ℓ, and as torch's its 'mean' is the plain mean
    of w·ℓ (not divided by Σ w, unlike mse_loss and l1_loss).
    """
    if weight is None:
        check_reduction(reduction)
    if delta <= 0:
        raise InputError(f"huber_loss: delta must be > 0, got {delta}")
    y = _pair("huber_loss", input, target)
    if input.dtype.kind == "c":
        refuse_complex(input.array, "huber_loss", NotImplementedError, _REAL_LOSS)
    if y.dtype.kind == "c":  # torch: the complex result cannot be cast to the real input's
        refuse_complex(y.array, "huber_loss", RuntimeError, _REAL_LOSS)
    z = (input - y).abs()
    if z.dtype.kind in "biu":
        raise not_implemented_for("huber_cpu", z.dtype)
    small = ~(z.array >= delta)  # NaN takes the quadratic side: its gradient NaN, as torch
    zq = _inside(z, small)
    loss = where(small, 0.5 * zq * zq, delta * (z - 0.5 * delta))
    if weight is not None:
        return weighted(loss, weight, input, reduction, by_weight=False)
    return _reduce(loss, reduction)
