"""More of torch's losses, each composed from differentiable Tensor ops so its gradient is right
by construction: robust regression (smooth L1, Huber), distributions (KL divergence, Poisson and
Gaussian negative log-likelihoods), margins and embeddings (ranking, hinge, cosine, triplet) and
the soft-margin (logistic) losses. Each follows torch's formula term for term, so values agree to
rounding; shapes that torch would silently broadcast raise here, naming both shapes.
"""

from __future__ import annotations

import math

from ..amp.composite import as_one_op
from ..backend import xp
from ..errors import InputError
from ..function import is_grad_enabled
from ..ops.complex_refuse import refuse_complex
from ..tensor import Tensor, as_array
from .activation_more import pairwise_distance
from .loss import _reduce, check_reduction
from .loss_legacy import reduction_of
from .loss_regression import huber_loss as huber_loss  # re-exported: its old home
from .loss_regression import smooth_l1_loss as smooth_l1_loss
from .shape import where

# torch's guard on the squared magnitudes in cosine_embedding_loss: a C++ float, so 1e-12 rounded
# to float32 (9.9999999600e-13), which sets the loss of a zero vector to float64's last digits
_EPSILON = float(xp.float32(1e-12))


def _tensor(x, like: Tensor) -> Tensor:
    """``x`` as a Tensor of ``like``'s dtype (a Tensor passes through, keeping its graph)."""
    return x if isinstance(x, Tensor) else Tensor(as_array(x, like.dtype))


def _check_shapes(name: str, **tensors) -> None:
    """Raise at the call when the named tensors' shapes differ, naming every shape."""
    shapes = {k: tuple(v.shape) for k, v in tensors.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{k} {s}" for k, s in shapes.items())
        raise InputError(f"{name}: shapes must be equal, got {listed}")


def _pair(name: str, input: Tensor, target) -> Tensor:  # noqa: A002
    t = _tensor(target, input)
    _check_shapes(name, input=input, target=t)
    return t


@as_one_op("kl_div")
def kl_div(
    input: Tensor,  # noqa: A002
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence KL(P‖Q) with ``input`` = log Q (log-probabilities).

        ℓ = p·(log p - log q)        target p (0·log 0 = 0)
        ℓ = e^{lp}·(lp - log q)      log_target: target lp = log p

    Reductions as torch: 'mean' averages over every element (not the KL of a batch of
    distributions); 'batchmean' sums and divides by the batch size N = input.shape[0], which is
    the KL divergence averaged over the batch; 'sum' and 'none' as usual. As torch, a
    size_average or reduce given picks the reduction, yet 'batchmean' still divides by N.
    """
    legacy = size_average is not None or reduce is not None
    if not legacy:
        check_reduction(reduction, ("mean", "batchmean", "sum", "none"), "kl_div")
    p = _pair("kl_div", input, target)
    for t in (input, p):  # torch: "Complex inputs not supported"
        if t.dtype.kind == "c":
            refuse_complex(t.array, "kl_div", RuntimeError, "probabilities are real")
    if log_target:
        loss = p.exp() * (p - input)
    else:  # xlogy(p, p) - p·log q: log of 1 where p = 0 keeps value and gradient finite
        safe = Tensor(as_array(p.array == 0, p.dtype))
        loss = p * (p + safe).log() - p * input
    if legacy:
        out = _reduce(loss, reduction_of(size_average, reduce, reduction))
        return out / input.shape[0] if reduction == "batchmean" and input.ndim else out
    if reduction == "batchmean":
        s = loss.sum()
        if not input.ndim:
            return s
        return s / input.shape[0] if input.shape[0] else s * float("nan")  # 0/0, as torch
    return _reduce(loss, reduction)


@as_one_op("margin_ranking_loss")
def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Ranking loss: x₁ should rank above x₂ where y = 1, below where y = -1.

    ℓ = max(0, -y·(x₁ - x₂) + margin)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    y = _tensor(target, input1)
    _check_shapes("margin_ranking_loss", input1=input1, input2=input2, target=y)
    return _reduce((-y * (input1 - input2) + margin).clamp(min=0), reduction)


@as_one_op("hinge_embedding_loss")
def hinge_embedding_loss(
    input: Tensor,  # noqa: A002
    target,
    margin: float = 1.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Hinge embedding loss on distances x with labels y ∈ {1, -1}:

        ℓ = x                     if y = 1
            max(0, margin - x)    if y = -1
    (as torch, a label that is neither gets both terms)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    y = _pair("hinge_embedding_loss", input, target).array
    margin_term = where(y != 1, (margin - input).clamp(min=0), 0.0)
    self_term = where(y != -1, input, 0.0)
    return _reduce(margin_term + self_term, reduction)


@as_one_op("cosine_embedding_loss")
def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Cosine embedding loss: pull pairs together (y = 1), push them apart (y = -1).

        cos = Σ x₁·x₂ / √((Σ x₁² + ε)·(Σ x₂² + ε))      ε = 1e-12, sums over the feature dim
        ℓ = 1 - cos                   if y = 1
            max(0, cos - margin)      if y = -1

    Shapes: inputs (N, D) with target (N,), or inputs (D,) with a scalar target.
    """
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    y = _tensor(target, input1)
    _check_shapes("cosine_embedding_loss", input1=input1, input2=input2)
    if y.ndim > 1 or input1.ndim != y.ndim + 1 or input1.shape[:-1] != y.shape:
        raise InputError(
            "cosine_embedding_loss: expects inputs (N, D) with target (N,) or inputs (D,) with"
            f" a scalar target, got inputs {input1.shape} and target {y.shape}"
        )
    d = y.ndim
    dot = (input1 * input2).sum(dim=d)
    m1 = (input1 * input1).sum(dim=d) + _EPSILON
    m2 = (input2 * input2).sum(dim=d) + _EPSILON
    cos = dot / (m1 * m2).sqrt()
    pos = where(y.array == 1, 1 - cos, 0.0)
    neg = where(y.array == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(pos + neg, reduction)


@as_one_op("triplet_margin_loss")
def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Triplet margin loss (Balntas et al. 2016): the anchor nearer its positive than its
    negative by at least the margin.

        d(u, v) = ‖u - v + ε‖_p                       over the last dim
        ℓ = max(0, d(a, p) - d(a, n) + margin)
        swap: d(a, n) ← min(d(a, n), d(p, n))      (the harder negative distance)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be > 0, got {margin}")
    _check_shapes("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


@as_one_op("poisson_nll_loss")
def poisson_nll_loss(
    input: Tensor,  # noqa: A002
    target,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a Poisson target y with rate λ (the constant log y! dropped):

    ℓ = e^x - y·x                  log_input: x = log λ
    ℓ = x - y·log(x + eps)         otherwise: x = λ
    full: + y·log y - y + ½·log(2πy) for y > 1   (Stirling's approximation of log y!)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    y = _pair("poisson_nll_loss", input, target)
    loss = input.exp() - y * input if log_input else input - y * (input + eps).log()
    if full:
        small = y.array <= 1  # the term is masked there; 2 keeps its logs finite, gradient 0
        ys = where(small, 2.0, y)
        stirling = ys * ys.log() - ys + 0.5 * (2 * math.pi * ys).log()
        loss = loss + where(small, 0.0, stirling)
    return _reduce(loss, reduction)


def _gaussian_var(var, input: Tensor) -> Tensor:
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        return Tensor(as_array(var, input.dtype))  # a constant: broadcasts, no gradient
    v = _tensor(var, input)
    if (v.array < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if v.shape == input.shape:
        return v
    if v.shape == input.shape[:-1]:  # one variance per row (homoscedastic within it)
        return v.unsqueeze(-1)
    if v.ndim == input.ndim and sum(b for a, b in zip(input.shape, v.shape) if a != b) == 1:
        return v  # a single dimension of size 1 broadcasts
    raise ValueError(
        f"gaussian_nll_loss: var of shape {v.shape} does not fit input of shape {input.shape}"
        " (expected the input's shape, its shape without the last dim, or one dim of size 1)"
    )


def gaussian_nll_loss(
    input: Tensor,  # noqa: A002
    target,
    var,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of y under N(μ = x, σ² = var):

        ℓ = ½·(log max(var, eps) + (x - y)² / max(var, eps))   (+ ½·log 2π if full)

    As torch, the clamp at eps is outside the graph: the gradient w.r.t. var is the formula's
    at the clamped value, passed through unchanged. var: the input's shape, its shape without
    the last dim, one dim of size 1, or a number.
    """
    check_reduction(reduction)
    y = _pair("gaussian_nll_loss", input, target)
    v = _gaussian_var(var, input)
    clamped = Tensor(v.array.clip(eps, None))
    v = v - v.detach() + clamped  # value max(var, eps), gradient identity (exact: v - v = 0)
    d = input - y
    loss = 0.5 * (v.log() + d * d / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


@as_one_op("soft_margin_loss")
def soft_margin_loss(
    input: Tensor,  # noqa: A002
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Two-class logistic loss on labels y ∈ {1, -1}:

    ℓ = log(1 + e^{-y·x})
    """
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    y = _pair("soft_margin_loss", input, target)
    if input.dtype.kind == "c" and input.requires_grad and is_grad_enabled():
        raise RuntimeError(  # torch computes it, but has no derivative for complex outputs
            f"soft_margin_loss(): does not support automatic differentiation for outputs with"
            f" complex dtype (got {input.dtype}), as torch; detach the input"
        )
    return _reduce((-input * y).exp().log1p(), reduction)


def _log_sigmoid(x: Tensor) -> Tensor:
    """log σ(x) = min(x, 0) - log(1 + e^{-|x|}), stable for either sign."""
    return x.minimum(0.0) - (-x.abs()).exp().log1p()


def multilabel_soft_margin_loss(
    input: Tensor,  # noqa: A002
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-label one-versus-all logistic loss over C classes with targets y ∈ {0, 1}:

        ℓ_n = -(1/C)·Σ_c w_c·[y_c·log σ(x_c) + (1 - y_c)·log σ(-x_c)]

    one value per sample (the last dim is the class dim), then reduced.
    """
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    y = _pair("multilabel_soft_margin_loss", input, target)
    if input.dtype.kind == "c":  # torch: no complex log_sigmoid
        refuse_complex(input.array, "multilabel_soft_margin_loss", NotImplementedError)
    loss = -(y * _log_sigmoid(input) + (1 - y) * _log_sigmoid(-input))
    if weight is not None:
        loss = loss * _tensor(weight, input)
    c = input.shape[-1] if input.ndim else 1
    return _reduce(loss.sum(dim=input.ndim - 1 if input.ndim else None) / c, reduction)
