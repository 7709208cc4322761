"""The last of torch's margin losses, composed from differentiable Tensor ops (gathers, where,
sums), so their gradients are right by construction: multi_margin_loss (the multi-class
hinge), multilabel_margin_loss (torch's target format, class indices ended by −1) and
triplet_margin_with_distance_loss (any distance function).

A hinge term counts only where it is strictly positive, as torch's kernels test ``z > 0``: a
tie at the margin adds 0 and sends back no gradient.
"""

from __future__ import annotations

from .. import backend
from ..amp.composite import as_one_op
from ..backend import xp
from ..errors import IndexInputError, InputError, InputTypeError
from ..ops.complex_refuse import refuse_complex
from ..tensor import Tensor, as_array
from .activation_more import pairwise_distance
from .loss import _reduce, check_reduction
from .loss_legacy import reduction_of
from .shape import where


def _class_targets(name: str, target, shapes: tuple, low: int, classes: int):
    """The integer target as an int64 array (one of ``shapes``), every value in [low, classes)."""
    t = as_array(target)
    if t.dtype.kind not in "iu":
        raise InputTypeError(f"{name}: target must hold integer class indices, got dtype {t.dtype}")
    if tuple(t.shape) not in shapes:
        wanted = " or ".join(str(s) for s in shapes)
        raise InputError(f"{name}: target of shape {tuple(t.shape)}, expected {wanted}")
    if t.size and (t.min() < low or t.max() >= classes):
        bad = int(t.min()) if t.min() < low else int(t.max())
        raise IndexInputError(
            f"{name}: target {bad} is out of range for {classes} classes"
            f" (valid: {low}..{classes - 1})"
        )
    return t.astype(backend.int64, copy=False)


def _batched(name: str, input: Tensor) -> tuple:  # noqa: A002
    if input.ndim not in (1, 2):
        raise InputError(f"{name}: expected input (N, C) or (C,), got shape {input.shape}")
    return (input.unsqueeze(0) if input.ndim == 1 else input), input.ndim == 1


@as_one_op("multi_margin_loss")
def multi_margin_loss(
    input: Tensor,  # noqa: A002 - torch's argument names
    target,
    p: int = 1,
    margin: float = 1.0,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss over x (N, C) or (C,) with class indices y (N,) or ():

    ℓ_n = (1/C) · Σ_{i ≠ y_n} w_{y_n} · max(0, margin − x[n, y_n] + x[n, i])^p,  p ∈ {1, 2}
    """
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("multi_margin_loss: only p == 1 and p == 2 supported")
    if input.dtype.kind == "c":  # torch has no complex kernel: a hinge compares scores
        refuse_complex(input.array, "multi_margin_loss", NotImplementedError)
    x, single = _batched("multi_margin_loss", input)
    n, c = x.shape
    shapes = ((), (1,)) if single else ((n,),)
    y = _class_targets("multi_margin_loss", target, shapes, 0, c).reshape(n)
    x_y = x.gather(1, y.reshape(n, 1))  # (N, 1): the target class's score
    z = x - x_y + margin
    hinge = (z.array > 0) & (xp.arange(c) != y[:, None])  # strictly positive, other classes
    h = where(hinge, z if p == 1 else z * z, 0.0)
    if weight is not None:
        w = weight if isinstance(weight, Tensor) else Tensor(as_array(weight, x.dtype))
        if w.ndim != 1 or w.shape[0] != c:
            raise InputError(
                f"multi_margin_loss: inconsistent weight size, expected {c} but got {w.shape}"
            )
        h = h * w.index_select(0, y).unsqueeze(1)
    loss = h.sum(dim=1) / c
    return _reduce(loss.reshape(()) if single else loss, reduction)


@as_one_op("multilabel_margin_loss")
def multilabel_margin_loss(
    input: Tensor,  # noqa: A002
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-label hinge loss over x (N, C) or (C,). The target has the input's shape and
    lists each sample's classes, ended by the first −1 (later entries are ignored):

        ℓ_n = (1/C) · Σ_{j ∈ y_n} Σ_{i ∉ y_n} max(0, 1 − (x[n, j] − x[n, i]))

    (a class listed twice counts twice, as in torch's kernel)."""
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    if input.dtype.kind == "c":  # as multi_margin_loss
        refuse_complex(input.array, "multilabel_margin_loss", NotImplementedError)
    x, single = _batched("multilabel_margin_loss", input)
    n, c = x.shape
    t = _class_targets("multilabel_margin_loss", target, (input.shape,), -1, c).reshape(n, c)
    listed = xp.cumprod(t != -1, axis=1).astype(bool)  # positions before the first −1
    safe = xp.where(listed, t, 0)
    is_target = xp.zeros((n, c), dtype=bool)
    rows = xp.broadcast_to(xp.arange(n)[:, None], (n, c))
    is_target[rows[listed], safe[listed]] = True
    x_j = x.gather(1, safe)  # (N, C): the score of the j-th listed class
    z = x.unsqueeze(1) - x_j.unsqueeze(2) + 1.0  # z[n, j, i] = 1 − x[n, j] + x[n, i]
    hinge = listed[:, :, None] & ~is_target[:, None, :] & (z.array > 0)
    loss = where(hinge, z, 0.0).sum(dim=(1, 2)) / c
    return _reduce(loss.reshape(()) if single else loss, reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function=None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """Triplet loss under any distance d (default: pairwise_distance, the L2 one):

    ℓ = max(0, d(a, p) − d(a, n) + margin)
    swap: d(a, n) ← min(d(a, n), d(p, n))      (the harder negative, Balntas et al. 2016)
    """
    check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be > 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise InputError(
            "triplet_margin_with_distance_loss: anchor, positive and negative must have the same"
            f" number of dimensions, got anchor {anchor.ndim}D, positive {positive.ndim}D and"
            f" negative {negative.ndim}D"
        )
    d = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = d(anchor, positive), d(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(d(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


__all__ = [
    "multi_margin_loss",
    "multilabel_margin_loss",
    "triplet_margin_with_distance_loss",
]
