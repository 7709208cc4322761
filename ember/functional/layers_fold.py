"""torch's unfold/fold, adaptive max pooling and embedding_bag.

    unfold:   X_col[n, (c, u, v), (i, j)] = x̃[n, c, s·i + d·u, s·j + d·v]       (im2col)
    fold:     x[n, c, h, w] = Σ of the X_col entries that unfold reads from (h, w)  (col2im)
    adaptive max pool:  y[n, c, i, j] = max_{h ∈ [b_i, e_i), w ∈ [b_j, e_j)} x[n, c, h, w]
              b_i = ⌊i·H/H_o⌋,  e_i = ⌈(i+1)·H/H_o⌉   (windows may overlap)
    embedding_bag:  y[b] = Σ_{k ∈ bag b} a_k · W[idx_k]       ('sum', a_k the per-sample weights)
                    y[b] = (1/|bag b|) Σ_{k ∈ bag b} W[idx_k]  ('mean')
                    y[b, e] = max_{k ∈ bag b} W[idx_k, e]      ('max'), y[b] = 0 for an empty bag

unfold and fold are the Unfold/Fold ops (ember/ops/unfold.py, hand-written im2col/col2im).
Adaptive max pooling finds each window's first maximal element (torch's choice for ties) on
the raw arrays, then gathers it: the gather's backward scatter-adds, so a pixel that is the
maximum of several overlapping windows collects all their gradients. embedding_bag lays the
bags out as a padded (B, L_max) index table and composes index_select, masks and sums, so its
gradients are exact by construction.
"""

from __future__ import annotations

import math

from ..backend import xp
from ..errors import IndexInputError, InputError, InputTypeError
from ..ops import shape as S
from ..ops import unfold as U
from ..ops.complex_refuse import refuse_complex
from ..ops.elementwise import not_implemented_for
from ..tensor import Tensor, apply, as_array
from .conv import _pair
from .layers import _renorm_rows, is_long_or_int

# ---------------------------------------------------------------- unfold / fold


def _batched(input: Tensor, op: str, ndims=(3, 4)):  # noqa: A002
    if input.ndim not in ndims:  # torch: RuntimeError
        raise InputError(
            f"{op}: expected a {ndims[0]}-D (unbatched) or {ndims[1]}-D (batched) input,"
            f" got shape {tuple(input.shape)}"
        )
    return (input.unsqueeze(0), True) if input.ndim == ndims[0] else (input, False)


def _window_args(op: str, kernel_size, dilation, padding, stride) -> dict:
    """unfold's and fold's window as pairs, refused as torch refuses them (RuntimeError;
    NumPy's ZeroDivisionError or broadcast error, or an empty result, before)."""
    args = {n: _pair(v, 2, n) for n, v in (("kernel_size", kernel_size), ("dilation", dilation),
                                           ("padding", padding), ("stride", stride))}  # fmt: skip
    for name in ("kernel_size", "dilation", "stride"):
        if min(args[name]) < 1:
            raise InputError(f"{op}: {name} must be positive, got {args[name]}")
    if min(args["padding"]) < 0:
        raise InputError(f"{op}: padding must be non-negative, got {args['padding']}")
    return args


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """Sliding blocks as columns: x (N, C, H, W) → (N, C·kh·kw, L), L = Ho·Wo.

    Rows ordered (c, u, v), columns by output row then column, as torch's im2col.
    A (C, H, W) input gives (C·kh·kw, L).
    """
    if input.ndim < 3:  # torch reads its dim 2 first: IndexError
        raise IndexInputError(
            f"unfold: expected a 3-D (unbatched) or 4-D (batched) input, got shape"
            f" {tuple(input.shape)} (dimension 2 out of range)"
        )
    x, unbatched = _batched(input, "unfold")
    args = _window_args("unfold", kernel_size, dilation, padding, stride)
    _im2col_checks(input, 3, "im2col_out_cpu")
    y = apply(U.Unfold, x, **args)
    return y.squeeze(0) if unbatched else y


def _im2col_checks(input: Tensor, unbatched: int, kernel: str) -> None:  # noqa: A002
    """torch's shape check of im2col/col2im: every dim but the batch non-empty (RuntimeError),
    then its kernel's dtypes (floating, complex and bool: NotImplementedError for integers)."""
    if 0 in input.shape[input.ndim - unbatched :]:
        raise InputError(
            f"Expected {unbatched}D or {unbatched + 1}D (batch mode) tensor with possibly 0 batch"
            f" size and other non-zero dimensions for input, but got: {list(input.shape)}"
        )
    if input.dtype.kind in "iu":
        raise not_implemented_for(kernel, input.dtype)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """Columns summed back into an image: (N, C·kh·kw, L) → (N, C, H, W), (H, W) = output_size.

    Overlapping blocks add up, so fold(unfold(x)) = x ∗ (the number of blocks covering each
    pixel). A (C·kh·kw, L) input gives (C, H, W).
    """
    x, unbatched = _batched(input, "fold", (2, 3))
    args = _window_args("fold", kernel_size, dilation, padding, stride)
    _im2col_checks(input, 2, "col2im_out_cpu")
    output_size = _pair(output_size, 2, "output_size")
    if min(output_size) < 1:  # torch: RuntimeError
        raise InputError(
            f"fold: Expected output spatial size to be positive, but got: output_size={output_size}"
        )
    y = apply(U.Fold, x, output_size=output_size, **args)
    return y.squeeze(0) if unbatched else y


# ---------------------------------------------------------------- adaptive max pooling


def _window_table(size: int, out: int):
    """(out, K) input positions of each adaptive window, K the longest window; shorter windows
    repeat their last position, which never changes the maximum nor which element is first."""
    i = xp.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)  # ⌈(i+1)·size/out⌉
    k = int((end - start).max())
    return xp.minimum(start[:, None] + xp.arange(k)[None, :], (end - 1)[:, None])


def first_max_or_last_nan(vals):
    """Which element of each row (the last axis) a max-pooling window picks, as torch's kernels
    (``val > max || isnan(val)``): the first maximum, or the last NaN where the row holds one."""
    nan = xp.isnan(vals)
    last_nan = vals.shape[-1] - 1 - xp.argmax(nan[..., ::-1], axis=-1)
    return xp.where(nan.any(-1), last_nan, xp.argmax(vals, axis=-1))


def _adaptive_max(x: Tensor, out_hw, return_indices: bool):
    """x (N, C, H, W) → y (N, C, Ho, Wo) and the flat index h·W + w of each maximum."""
    n, c, h, w = x.shape
    ho, wo = out_hw
    if ho == 0 or wo == 0:  # no windows: an empty view of x (its gradient is zero)
        y = x.reshape(n, c, h * w)[:, :, :0].reshape(n, c, ho, wo)
        return (y, Tensor(xp.zeros((n, c, ho, wo), xp.int64))) if return_indices else y
    rows, cols = _window_table(h, ho), _window_table(w, wo)  # (Ho, Kh), (Wo, Kw)
    kh, kw = rows.shape[1], cols.shape[1]
    flat = rows[:, None, :, None] * w + cols[None, :, None, :]  # (Ho, Wo, Kh, Kw)
    flat = flat.reshape(ho * wo, kh * kw)
    a = x.array.reshape(n, c, h * w)
    vals = a[:, :, flat]  # (N, C, Ho·Wo, Kh·Kw), in scan order (h, then w)
    first = first_max_or_last_nan(vals)
    index = xp.take_along_axis(flat[None, None], first[..., None], -1)[..., 0]
    y = x.reshape(n, c, h * w).gather(2, index).reshape(n, c, ho, wo)
    if return_indices:
        return y, Tensor(index.reshape(n, c, ho, wo).astype(xp.int64))
    return y


def _output_pair(output_size, h: int, w: int) -> tuple:
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    oh, ow = h if oh is None else oh, w if ow is None else ow
    if oh < 0 or ow < 0:  # (0 is a size: an empty output, as torch's forward gives)
        raise InputError(f"adaptive_max_pool: output_size must be non-negative, got {output_size}")
    return oh, ow


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """Max over torch's adaptive windows of x (N, C, H, W) or (C, H, W) → (…, Ho, Wo).

    None in output_size keeps that size. With ``return_indices`` also the flat index h·W + w
    of each maximum in its plane (int64), as torch.
    """
    refuse_complex(input.array, "adaptive_max_pool2d", NotImplementedError)
    x, unbatched = _batched(input, "adaptive_max_pool2d")
    if min(x.shape[2:]) < 1:
        raise InputError(f"adaptive_max_pool2d: empty spatial size in {tuple(input.shape)}")
    out = _adaptive_max(x, _output_pair(output_size, *x.shape[2:]), return_indices)
    if not unbatched:
        return out
    return tuple(t.squeeze(0) for t in out) if return_indices else out.squeeze(0)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """Max over torch's adaptive windows of x (N, C, L) or (C, L) → (…, L_o); indices along L."""
    refuse_complex(input.array, "adaptive_max_pool1d", NotImplementedError)
    x, unbatched = _batched(input, "adaptive_max_pool1d", (2, 3))
    out_l = output_size if isinstance(output_size, int) else tuple(output_size)[0]
    if x.shape[2] < 1 or out_l < 0:
        raise InputError(
            f"adaptive_max_pool1d: need a non-empty input and a non-negative output_size, got"
            f" input {tuple(input.shape)} and output_size {output_size}"
        )
    out = _adaptive_max(x.unsqueeze(2), (1, out_l), return_indices)
    out = tuple(t.squeeze(2) for t in out) if return_indices else out.squeeze(2)
    if not unbatched:
        return out
    return tuple(t.squeeze(0) for t in out) if return_indices else out.squeeze(0)


# ---------------------------------------------------------------- embedding_bag


def _bags(idx, offsets, include_last_offset: bool, to_end: bool):
    """Flat indices (M,) and offsets → the (B, L_max) table of positions into idx (M where a
    bag is shorter)."""
    m = idx.shape[0]
    offsets = offsets.astype(xp.int64)  # (their dtype was checked with the indices')
    if offsets.shape[0] and int(offsets[0]) != 0:
        raise RuntimeError(
            "embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch"
            f" has to start from position 0. However, got {int(offsets[0])}"
        )
    if offsets.shape[0] and int(offsets[-1]) > m:
        raise RuntimeError(
            f"embedding_bag: offsets[-1] can not be greater than input's length {m} but got"
            f" offsets[-1] of {int(offsets[-1])}"
        )
    if (xp.diff(offsets) < 0).any():  # torch: RuntimeError
        raise InputError(f"embedding_bag: offsets must be non-decreasing, got {offsets.tolist()}")
    # with include_last_offset the last bag ends at the last offset, or (``to_end``, torch's
    # other CPU kernels) runs to the input's end; the documented use has offsets[-1] = M
    starts = offsets[:-1] if include_last_offset else offsets
    last = int(offsets[-1]) if include_last_offset and not to_end else m
    ends = xp.append(starts[1:], last)
    lengths = (ends - starts).astype(xp.int64)
    l_max = max(int(lengths.max()) if lengths.size else 0, 1)
    pos = starts[:, None] + xp.arange(l_max)[None, :]
    return xp.where(xp.arange(l_max)[None, :] < lengths[:, None], pos, m)


def embedding_bag(input, weight: Tensor, offsets=None, max_norm=None, norm_type=2,  # noqa: A002
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None) -> Tensor:  # fmt: skip
    """Sums, means or maxima of bags of embeddings, without materialising each embedding.

    input (B, n) with offsets None: B bags of n indices each. input (M,) with offsets (B,):
    bag b holds input[offsets[b] : offsets[b+1]] (the last runs to M; with
    ``include_last_offset`` offsets has B + 1 entries and the last is the end). Entries equal
    to ``padding_idx`` are left out of their bag. An empty bag gives zeros. weight (V, D) →
    (B, D). ``per_sample_weights`` (shape of input) scales each row, mode 'sum' only.
    ``scale_grad_by_freq`` ('sum', 'mean'): each row's gradient is divided by how often its
    index occurs in input (torch's documented rule; torch 2.13's CPU kernel divides some rows
    by another index's count, pytorch#190063).
    """
    idx = as_array(input)
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != idx.shape:
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not"
            f" None, then it must have the same shape as the input ({idx.shape})"
        )
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "embedding_bag: if input is 2D, then offsets has to be None, as input is treated"
                " as a mini-batch of fixed length sequences"
            )
        if not idx.shape[1]:  # torch's arange(0, numel, step=0)
            raise InputError(
                f"embedding_bag: bags of length 0 (input {idx.shape}): step must be nonzero"
            )
        # B fixed bags; torch ignores include_last_offset for a 2-D input
        offsets = (xp.arange(idx.shape[0]) * idx.shape[1]).astype(idx.dtype)
        include_last_offset = False
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
        offsets = as_array(offsets)
        if offsets.ndim != 1:
            raise ValueError(f"embedding_bag: offsets has to be a 1D Tensor, got {offsets.shape}")
    else:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D, got {idx.ndim}-D")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if scale_grad_by_freq and mode == "max":
        raise ValueError("embedding_bag: max mode does not support scaling the gradient by the"
                         " frequency (scale_grad_by_freq=True)")  # fmt: skip
    if sparse and mode == "max":
        raise ValueError("embedding_bag: max mode does not support sparse weights")
    if max_norm is not None:  # the rows looked up, renormalised in weight itself, as torch's
        _long_or_int("embedding_renorm_", idx.dtype)
        _check_indices(idx, weight.shape[0])
        _renorm_rows(weight.array, idx, float(max_norm), float(norm_type))
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights is only supported for mode='sum'"
            f" (got mode={mode!r})"
        )
    if sparse:
        raise NotImplementedError(
            "embedding_bag: sparse=True (sparse gradients) is not supported; ember's gradient"
            " of an embedding is a dense array with the lookups scattered into it"
        )
    # torch's kernel takes indices and offsets in their common type (int8 indices with int64
    # offsets pass; a 2-D input's offsets are in its own dtype)
    _long_or_int("embedding_bag", xp.result_type(idx.dtype, offsets.dtype))
    if weight.dtype.kind == "c":  # torch: weight must be half, bfloat16, float or double
        refuse_complex(weight.array, "embedding_bag", RuntimeError, "look up z.real, z.imag")
    if include_last_offset and not offsets.shape[0]:
        raise InputError(
            "embedding_bag: include_last_offset: number of offset should be at least 1"
        )
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise InputError(
            f"embedding_bag: per_sample_weights must have the weight's dtype {weight.dtype}, got"
            f" {per_sample_weights.dtype}"
        )
    idx = idx.reshape(-1).astype(xp.int64)
    v = weight.shape[0]
    _check_indices(idx, v)
    if padding_idx is not None:
        if not -v <= padding_idx < v:  # torch: RuntimeError (it wrapped silently)
            raise InputError(
                f"embedding_bag: padding_idx must lie in [-{v}, {v}) for {v} embeddings, got"
                f" {padding_idx}"
            )
        padding_idx = padding_idx + v if padding_idx < 0 else padding_idx
    # torch's float/half sum and mean kernel (no padding_idx) ends the last bag at the last
    # offset; its other kernels run the last bag to the input's end
    to_end = not (weight.dtype.name in ("float32", "float16") and mode != "max"
                  and padding_idx is None)  # fmt: skip
    pos = _bags(idx, offsets, include_last_offset, to_end)  # (B, L_max)
    if not v:  # an empty table (so no indices): zero bags, in the weight's graph as torch's
        y = weight.sum() * 0 + Tensor(xp.zeros((pos.shape[0], weight.shape[1]), weight.dtype))
        return y if per_sample_weights is None else y + per_sample_weights.sum() * 0
    keep = pos < idx.size
    safe = xp.where(keep, pos, 0)  # all zeros when idx is empty (nothing is kept)
    rows = idx[safe] if idx.size else safe  # (B, L_max) embedding row of every slot
    if padding_idx is not None:
        keep &= rows != padding_idx
    b, l_max = pos.shape
    if mode == "max":
        return _bag_max(weight, rows, keep)
    mask = keep.astype(weight.dtype)
    if per_sample_weights is not None and idx.size:
        scale = per_sample_weights.reshape(-1).index_select(0, safe.reshape(-1))
        scale = scale * Tensor(mask.reshape(-1))
    elif per_sample_weights is not None:  # no samples: an empty gradient for the weights
        scale = per_sample_weights.sum() * Tensor(mask.reshape(-1))
    else:
        scale = Tensor(mask.reshape(-1))
    if mode == "mean":
        count = xp.maximum(mask.sum(1, keepdims=True), 1.0)  # an empty bag stays zero
        scale = scale * Tensor(xp.repeat(1.0 / count, l_max, axis=1).reshape(-1))
    if scale_grad_by_freq:  # each slot's gradient ÷ how often its index occurs in input
        picked = apply(S.Embedding, weight, index=rows.reshape(-1), scale_grad_by_freq=True,
                       freq=_index_counts(idx)[safe].reshape(-1))  # fmt: skip
    else:
        picked = weight.index_select(0, rows.reshape(-1))  # (B·L_max, D)
    half = weight.dtype == xp.float16  # summed in float32, rounded once, as torch's kernel
    if half:
        picked, scale = picked.float(), scale.float()
    # + 0.0 turns the −0.0 of an empty bag (negative rows times zero) into torch's 0.0
    y = (picked * scale.reshape(-1, 1)).reshape(b, l_max, weight.shape[1]).sum(1) + 0.0
    return y.half() if half else y


def _check_indices(idx, v: int) -> None:
    """torch's refusal of an index outside [0, v), naming the one past the top, else below 0."""
    if idx.size and (idx.min() < 0 or idx.max() >= v):
        bad = int(idx.max() if idx.max() >= v else idx.min())
        raise IndexInputError(f"embedding_bag: index {bad} is out of range for {v} embeddings")


def _long_or_int(op: str, dtype) -> None:
    """torch's check of index tensors: int64 or int32 (RuntimeError)."""
    if not is_long_or_int(xp.dtype(dtype)):
        raise InputTypeError(
            f"{op}: expected indices of the scalar type Long (int64) or Int (int32), got {dtype}"
        )


def _index_counts(idx):
    """For each entry of the flat indices idx, how often its value occurs in idx (≥ 1 for an
    empty idx, whose padded slots all read position 0)."""
    if not idx.size:
        return xp.ones(1, dtype=xp.int64)
    _, inverse, counts = xp.unique(idx, return_inverse=True, return_counts=True)
    return counts[inverse]


def _bag_max(weight: Tensor, rows, keep) -> Tensor:
    """y[b, e] = W[rows[b, k*], e] with k* the first maximal slot of bag b along e."""
    vals = weight.array[rows]  # (B, L_max, D)
    vals = xp.where(keep[..., None], vals, -math.inf)
    first = vals.argmax(1)  # (B, D)
    sel = xp.take_along_axis(rows, first, 1)
    nonempty = keep.any(1, keepdims=True).astype(weight.dtype)
    return weight.gather(0, sel) * Tensor(nonempty) + 0.0
