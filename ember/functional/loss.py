"""Losses. Cross-entropy is one fused, stable op (log-softmax + NLL with a hand-written
backward); ``cross_entropy_composed`` builds the same from primitives and tests hold
the two equal. Shapes follow torch: input (N, C) or (N, C, d1, ...), target (N,) or
(N, d1, ...) of class indices, or class probabilities shaped like the input.
"""

from __future__ import annotations

import math
import warnings

from .. import backend
from ..amp.composite import as_one_op, warning_level
from ..backend import xp
from ..errors import InputError, InputTypeError
from ..mistakes import check_loss_input
from ..ops import loss as LO
from ..ops.complex_refuse import refuse_complex
from ..ops.elementwise import not_implemented_for
from ..tensor import Tensor, apply, as_array
from .loss_legacy import reduction_of, weighted
from .shape import broadcasts_to

_REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction, allowed=_REDUCTIONS, name: str = "") -> None:
    """The one wording every loss uses for a reduction it does not know (a loss that takes
    more, like kl_div's 'batchmean', passes its own ``allowed``)."""
    if reduction not in allowed:
        *rest, last = (repr(r) for r in allowed)
        prefix = f"{name}: " if name else ""
        raise ValueError(
            f"{prefix}reduction must be {', '.join(rest)} or {last}, got {reduction!r}"
        )


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _classes_last(x: Tensor, name: str = "cross_entropy"):
    """(N, C, d1, ...) -> (N·d1·..., C) and the shape to restore per-element losses."""
    if x.ndim == 0:
        raise InputError(
            f"{name}: expected input (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor"
        )
    if x.ndim == 1:
        return x.reshape(1, -1), ()
    if x.ndim == 2:
        return x, (x.shape[0],)
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    rest = (x.shape[0],) + x.shape[2:]
    return x.permute(*perm).reshape(-1, x.shape[1]), rest


def _class_targets(target, n_classes: int, ignore_index: int, shape=None, name: str = ""):
    """The class indices flat as int64, checked: integers, shaped as the input wants (N, d1, ...)
    for input (N, C, d1, ...), () or (1,) for input (C,)), each in [0, C) or ignore_index."""
    t = as_array(target)
    if t.dtype.kind not in "iu":
        raise InputTypeError(f"class-index targets must be integers, got dtype {t.dtype}")
    if shape is not None:
        expected = shape[:1] + shape[2:] if len(shape) > 1 else ()
        if t.shape != expected and not (len(shape) == 1 and t.shape == (1,)):
            n = math.prod(expected)
            raise InputError(
                f"{name}: input of shape {shape} needs a target of {n} class indices, got"
                f" target of shape {t.shape} (expected {expected})"
            )
    t = t.reshape(-1).astype(backend.int64, copy=False)
    if t.size and 0 <= t.min() and t.max() < n_classes:  # all valid: two cheap reductions
        return t
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        idx = int(t[bad][0])
        raise IndexError(
            f"target class index {idx} is out of range for {n_classes} classes"
            f" (valid: 0..{n_classes - 1}, or ignore_index={ignore_index})"
        )
    return t


def _class_weight(weight, c: int, dtype, name: str):
    """The per-class weight as an array of shape (C,), or None."""
    if weight is None:
        return None
    w = as_array(weight, dtype)
    if w.shape != (c,):
        raise InputError(
            f"{name}: weight should hold one entry for each of the {c} classes (shape ({c},)),"
            f" got weight of shape {w.shape}"
        )
    return w


#: why torch's classification losses have no complex kernels
REAL_SCORES = "scores and probabilities are real: take z.abs() or z.real first"


@as_one_op("cross_entropy")
def cross_entropy(
    input: Tensor,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,  # noqa: A002
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """ℓ = -Σ_c q_c·log softmax(z)_c, q the (smoothed) target distribution; from logits."""
    reduction = reduction_of(size_average, reduce, reduction)
    if input.dtype.kind == "c":  # torch: no complex log_softmax
        refuse_complex(input.array, "cross_entropy", NotImplementedError, REAL_SCORES)
    if input.dtype.kind in "biu":  # integer scores: torch's refusal, not NumPy's cast error
        raise not_implemented_for("log_softmax_lastdim_kernel_impl", input.dtype)
    check_reduction(reduction)
    check_loss_input(input.grad_fn, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise InputError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    z, rest = _classes_last(input)
    c = z.shape[1]
    w = _class_weight(weight, c, input.dtype, "cross_entropy")
    t_arr = as_array(target)
    if t_arr.dtype.kind == "f":  # class probabilities: a Tensor target keeps its gradient
        if ignore_index != -100:  # torch's RuntimeError: there is no class to ignore
            raise InputError(
                f"cross_entropy: ignore_index={ignore_index} is not supported for probability"
                " (floating point) targets"
            )
        if t_arr.shape != input.shape:
            raise InputError(
                f"probability targets must have the input's shape {input.shape}, got {t_arr.shape}"
            )
        q = target if isinstance(target, Tensor) else Tensor(t_arr)
        common = xp.result_type(input.dtype, q.dtype)  # float16 scores, float32 targets: float32
        q = q if q.dtype == common else q.to(common)
        z = z if z.dtype == common else z.to(common)
        q, _ = _classes_last(q)
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / c
        logp = z.log_softmax(dim=1)
        if w is not None:
            logp = logp * Tensor(w)
        return _reduce(-(q * logp).sum(axis=1).reshape(rest), reduction)
    t = _class_targets(t_arr, c, ignore_index, input.shape, "cross_entropy")
    loss = apply(
        LO.CrossEntropy,
        z,
        t,
        weight=w,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )
    return loss.reshape(rest) if reduction == "none" else loss


def cross_entropy_composed(input: Tensor, target) -> Tensor:
    """mean_n -log softmax(z_n)[t_n], built from primitives: the reference for the fused op."""
    t = as_array(target).reshape(-1)
    logp = input.log_softmax(dim=1)
    rows = backend.xp.arange(t.shape[0])
    return -logp[rows, t].mean()


def nll_loss(
    input: Tensor,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,  # noqa: A002
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """ℓ_n = -w_{t_n}·x_{n,t_n} for log-probabilities x."""
    reduction = reduction_of(size_average, reduce, reduction)
    if input.dtype.kind == "c":
        refuse_complex(input.array, "nll_loss", NotImplementedError, REAL_SCORES)
    check_reduction(reduction)
    check_loss_input(input.grad_fn, "nll_loss")
    x, rest = _classes_last(input, "nll_loss")
    t = _class_targets(target, x.shape[1], ignore_index, input.shape, "nll_loss")
    w = _class_weight(weight, x.shape[1], input.dtype, "nll_loss")
    loss = apply(LO.NLLLoss, x, t, weight=w, ignore_index=ignore_index, reduction=reduction)
    return loss.reshape(rest) if reduction == "none" else loss


def _same_shape(name, input, target):
    t = target if isinstance(target, Tensor) else Tensor(as_array(target, input.dtype))
    if t.dtype.kind == "b":  # a mask as the target: its 0s and 1s in the input's dtype, as torch
        t = t.to(input.dtype)
    if t.shape != input.shape:
        warnings.warn(
            f"{name}: target shape {t.shape} differs from input shape {input.shape}; they will"
            " broadcast, which is rarely what you want",
            stacklevel=warning_level(3),
        )
    return t


@as_one_op("mse_loss")
def mse_loss(  # noqa: PLR0913
    input: Tensor,  # noqa: A002
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight=None,
) -> Tensor:
    """ℓ = (x - y)²; with ``weight`` (the input's shape) ℓ = w·(x - y)², whose 'mean' is
    Σ w·(x - y)² / Σ w, as torch's."""
    d = input - _same_shape("mse_loss", input, target)
    reduction = reduction_of(size_average, reduce, reduction)
    if d.array.dtype.kind in "cbiu":  # torch: no complex (use (d.abs() ** 2).mean()) or integer
        raise not_implemented_for("mse_cpu", d.array.dtype)  # kernel, whatever the reduction
    if weight is not None:
        return weighted(d * d, weight, input, reduction, by_weight=True)
    return _reduce(d * d, reduction)


@as_one_op("l1_loss")
def l1_loss(  # noqa: PLR0913
    input: Tensor,  # noqa: A002
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight=None,
) -> Tensor:
    """ℓ = |x - y|; with ``weight`` (the input's shape) ℓ = w·|x - y|, whose 'mean' is
    Σ w·|x - y| / Σ w, as torch's."""
    z = (input - _same_shape("l1_loss", input, target)).abs()
    reduction = reduction_of(size_average, reduce, reduction)
    if weight is not None:
        return weighted(z, weight, input, reduction, by_weight=True)
    return _reduce(z, reduction)


def binary_cross_entropy(
    input: Tensor,
    target,
    weight=None,  # noqa: A002
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """ℓ = -w·[y·log x + (1-y)·log(1-x)] on probabilities x; each log is clamped at -100 and
    the gradient's denominator at 1e-12 as in torch (one fused op)."""
    reduction = reduction_of(size_average, reduce, reduction)
    x = input.array
    if x.dtype.kind == "c":
        refuse_complex(x, "binary_cross_entropy", NotImplementedError, REAL_SCORES)
    if x.size and not ((x >= 0) & (x <= 1)).all():  # NaN fails too, as torch's check
        raise InputError(
            "binary_cross_entropy expects probabilities in [0, 1]; for logits use"
            " binary_cross_entropy_with_logits"
        )
    check_reduction(reduction)
    y = target if isinstance(target, Tensor) else Tensor(as_array(target, input.dtype))
    if y.array.size and not ((y.array >= 0) & (y.array <= 1)).all():
        raise InputError("binary_cross_entropy: every target must lie in [0, 1], as torch's")
    if y.shape != input.shape:
        raise ValueError(
            f"binary_cross_entropy: target shape {y.shape} must equal the input shape {input.shape}"
        )
    w = None if weight is None else as_array(weight, input.dtype)
    return apply(LO.BCE, input, y, weight=w, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target,
    weight=None,  # noqa: A002
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight=None,
) -> Tensor:
    """ℓ = -w·[p·y·log σ(z) + (1-y)·log(1-σ(z))], fused so large |z| never overflows."""
    reduction = reduction_of(size_average, reduce, reduction)
    if input.dtype.kind == "c":
        refuse_complex(input.array, "binary_cross_entropy_with_logits", NotImplementedError,
                       REAL_SCORES)  # fmt: skip
    check_reduction(reduction)
    check_loss_input(input.grad_fn, "binary_cross_entropy_with_logits")
    y = target if isinstance(target, Tensor) else Tensor(as_array(target, input.dtype))
    if y.shape != input.shape:  # torch raises here (mse_loss and l1_loss only warn)
        raise ValueError(
            f"binary_cross_entropy_with_logits: target shape {y.shape} must equal the input"
            f" shape {input.shape}"
        )
    if y.dtype.kind == "f" and y.dtype != input.dtype:  # both in their common dtype, as torch
        common = xp.result_type(input.dtype, y.dtype)
        input, y = input.to(common), y.to(common)  # noqa: A001
    w = None if weight is None else as_array(weight, input.dtype)
    pw = None if pos_weight is None else as_array(pos_weight, input.dtype)
    for name, a in (("weight", w), ("pos_weight", pw)):  # torch's RuntimeError: they must
        if a is not None and not broadcasts_to(a.shape, input.shape):  # broadcast to input
            raise InputError(
                f"binary_cross_entropy_with_logits: {name} of shape {a.shape} does not"
                f" broadcast to the input's shape {input.shape}"
            )
    return apply(LO.BCEWithLogits, input, y, weight=w, pos_weight=pw, reduction=reduction)


def binary_cross_entropy_composed(input: Tensor, target) -> Tensor:  # noqa: A002
    """mean(-[y·log x + (1-y)·log(1-x)]) from primitives: the reference for the fused op
    (equal wherever no log needs the -100 clamp)."""
    y = target if isinstance(target, Tensor) else Tensor(as_array(target, input.dtype))
    return -(y * input.log() + (1 - y) * (1 - input).log()).mean()


def binary_cross_entropy_with_logits_composed(input: Tensor, target) -> Tensor:  # noqa: A002
    """mean(-[y·log σ(z) + (1-y)·log(1-σ(z))]) from primitives: the reference for the fused
    op (which never overflows; this one does for |z| beyond about 88 in float32)."""
    y = target if isinstance(target, Tensor) else Tensor(as_array(target, input.dtype))
    s = input.sigmoid()
    return -(y * s.log() + (1 - y) * (1 - s).log()).mean()
