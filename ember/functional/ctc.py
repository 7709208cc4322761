"""CTC loss with torch's signature, argument checks and reductions (op in ``ember.ops.ctc``)."""

from __future__ import annotations

from .. import backend
from ..errors import InputError
from ..ops import ctc as CO
from ..ops.elementwise import not_implemented_for
from ..tensor import Tensor, apply, as_array
from .loss import check_reduction


def _lengths(value, n: int, name: str):
    a = as_array(value).reshape(-1)
    if a.dtype.kind not in "iu":
        if a.size and (a != a.round()).any():
            raise TypeError(f"ctc_loss: {name} must be integers, got dtype {a.dtype}")
    a = a.astype(backend.int64)
    if a.shape[0] != n:
        raise InputError(f"ctc_loss: {name} must have one entry per sample ({n}), got {a.shape[0]}")
    neg = backend.xp.flatnonzero(a < 0)
    if neg.size:
        k = int(neg[0])
        raise InputError(
            f"ctc_loss: {name} must be non-negative, but sample {k} has value {int(a[k])}"
        )
    return a


def _padded_targets(targets, target_lengths, n: int):
    """(N, S_max) int64 targets from torch's padded (N, S) or concatenated (ΣS_n,) form."""
    xp = backend.xp
    t = as_array(targets)
    if t.dtype.kind not in "iu" and t.size and (t != t.round()).any():  # torch casts them
        raise TypeError(f"ctc_loss: targets must be integers, got dtype {t.dtype}")
    t = t.astype(backend.int64)
    smax = int(target_lengths.max()) if n else 0
    if t.ndim == 2:
        if t.shape[0] != n:
            raise InputError(f"ctc_loss: padded targets need {n} rows, got shape {t.shape}")
        if smax > t.shape[1]:
            k = int(xp.argmax(target_lengths))
            raise InputError(
                f"ctc_loss: target_lengths[{k}] = {smax} exceeds the padded targets' width"
                f" {t.shape[1]}"
            )
        return t[:, :smax]
    if t.ndim != 1:
        raise ValueError(f"ctc_loss: targets must be (N, S) or 1-D concatenated, got {t.shape}")
    total = int(target_lengths.sum())
    if total != t.shape[0]:
        raise InputError(
            f"ctc_loss: concatenated targets hold {t.shape[0]} labels but target_lengths"
            f" sum to {total}"
        )
    starts = xp.cumsum(target_lengths) - target_lengths
    cols = xp.arange(smax)
    inside = cols[None, :] < target_lengths[:, None]
    idx = xp.where(inside, starts[:, None] + cols[None, :], 0)
    return xp.where(inside, t[idx] if t.size else 0, 0)


def ctc_loss(
    log_probs: Tensor,
    targets,
    input_lengths,
    target_lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """−log p(l|x) summed over all alignments of l to the frames (Graves et al. 2006).

    log_probs (T, N, C) or unbatched (T, C): log-softmax outputs. targets (N, S) padded or
    1-D concatenated. input_lengths, target_lengths (N,). ``mean`` divides each sample's
    loss by its target length (at least 1), then averages over the batch, as torch does.
    """
    check_reduction(reduction, name="ctc_loss")
    if not isinstance(log_probs, Tensor):
        log_probs = Tensor(as_array(log_probs))
    if log_probs.dtype.name not in ("float32", "float64"):  # torch's kernel, checked first
        raise not_implemented_for("ctc_loss_cpu", log_probs.dtype)
    unbatched = log_probs.ndim == 2
    if unbatched:  # its targets (S,) read as the concatenated form of one sample
        log_probs = log_probs.unsqueeze(1)
    if log_probs.ndim != 3:
        raise ValueError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got {log_probs.shape}")
    tmax, n, c = log_probs.shape
    if tmax == 0 or n == 0:  # torch's RuntimeError (an IndexError from the recursion before)
        raise InputError(f"ctc_loss: log_probs tensor must not be empty, got {log_probs.shape}")
    if not 0 <= blank < c:
        raise InputError(f"ctc_loss: blank must be in label range [0, {c}), got {blank}")
    il = _lengths(input_lengths, n, "input_lengths")
    tgl = _lengths(target_lengths, n, "target_lengths")
    over = backend.xp.flatnonzero(il > tmax)
    if over.size:
        k = int(over[0])
        raise InputError(
            f"ctc_loss: input_lengths must be at most T = {tmax}, but sample {k} has value"
            f" {int(il[k])}"
        )
    tg = _padded_targets(targets, tgl, n)
    inside = backend.xp.arange(tg.shape[1])[None, :] < tgl[:, None]
    bad = inside & ((tg < 0) | (tg >= c) | (tg == blank))
    if bad.any():
        k, j = (int(v[0]) for v in backend.xp.nonzero(bad))
        what = "the blank" if tg[k, j] == blank else f"out of range [0, {c})"
        raise ValueError(f"ctc_loss: sample {k}'s target {j} is {int(tg[k, j])}: {what}")
    loss = apply(CO.CTCLoss, log_probs, tg, il, tgl, blank=blank, zero_infinity=zero_infinity)
    if reduction == "none":
        return loss[0] if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    denom = backend.xp.maximum(tgl, 1).astype(log_probs.dtype)
    return (loss / Tensor(denom)).mean()
