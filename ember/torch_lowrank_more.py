"""torch's histogramdd and segment_reduce, as torch's top-level functions (star-imported through
torch_lowrank.py).

histogramdd counts on the host arrays and carries no gradient (as torch). segment_reduce
composes scatter_reduce, so its gradient is scatter_reduce's.
"""

from __future__ import annotations

import math
from collections import namedtuple

from .backend import errstate, xp
from .functional.shape import cat
from .tensor import Tensor, as_array
from .tensor_stats_more import _dtype_name, _linspace, wrap_dim
from .torch_shape import _t

__all__ = ["histogramdd", "segment_reduce"]

HistogramddResult = namedtuple("histogramdd", ["hist", "bin_edges"])


def _cap(a) -> str:
    """torch's capitalised dtype name (Int, Half, Float, …) of an array."""
    name = _dtype_name(a)
    return name[0].upper() + name[1:]


# ------------------------------------------------------------ histogramdd
def _edges_from_counts(points, counts: list[int], range) -> list:  # noqa: A002
    """Per dimension d, counts[d] + 1 equal-width edges over range[2d:2d+2] (default: the
    points' min and max along d, [0, 1] for no points, widened by ±0.5 when min = max)."""
    D = points.shape[1]
    if range is not None and len(range) != 2 * D:
        raise RuntimeError(
            f"torch.histogramdd: for a {D}-dimensional histogram range should have {2 * D}"
            f" elements, but got {len(range)}"
        )
    if range is None and points.size and points.dtype == xp.float16:  # torch has no float16
        raise NotImplementedError("\"histogramdd\" not implemented for 'Half'")  # data range
    edges = []
    for d, count in enumerate(counts):
        if count <= 0:
            raise RuntimeError(
                f"torch.histogram(): bins must be > 0, but got {count} for dimension {d}"
            )
        if range is not None:
            lo, hi = float(range[2 * d]), float(range[2 * d + 1])
        elif points.shape[0]:
            lo, hi = float(points[:, d].min()), float(points[:, d].max())
        else:
            lo, hi = 0.0, 1.0
        if lo > hi:
            raise RuntimeError(
                f"torch.histogramdd: min should not exceed max, but got min {lo:g} max {hi:g}"
                f" for dimension {d}"
            )
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(
                f"torch.histogramdd: dimension {d}'s range [{lo:g}, {hi:g}] is not finite"
            )
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges.append(_linspace(lo, hi, int(count) + 1, points.dtype))
    return edges


def _edges_from_tensors(a, bins) -> list:
    """The given edge tensors, checked: one 1-D tensor of ≥ 2 edges per dimension, in a's dtype."""
    D = a.shape[-1]
    if len(bins) != D:
        raise RuntimeError(
            f"torch.histogramdd: expected {D} sequences of bin edges for a {D}-dimensional"
            f" histogram but got {len(bins)}"
        )
    edges = []
    for d, b in enumerate(bins):
        e = as_array(b)
        if e.ndim != 1:
            raise RuntimeError(
                "torch.histogramdd: bins tensor should have one dimension, but got"
                f" {e.ndim} dimensions in the bins tensor for dimension {d}"
            )
        if e.size - 1 <= 0:
            raise RuntimeError(
                f"torch.histogram(): bins must be > 0, but got {e.size - 1} for dimension {d}"
            )
        if e.dtype != a.dtype:
            raise RuntimeError(
                "torch.histogramdd: input tensor and bins tensors should have the same dtype,"
                f" but got input with dtype {_dtype_name(a)} and bins for dimension {d} with"
                f" dtype {_dtype_name(e)}"
            )
        edges.append(e.copy())
    return edges


def histogramdd(input, bins, *, range=None, weight=None, density=False):  # noqa: A002
    """torch.histogramdd: (hist, bin_edges) of the points in input, whose innermost dimension
    of size D holds the coordinates. A point x falls in the cell (i_0, …, i_{D−1}) with
    e_d[i_d] ≤ x_d < e_d[i_d + 1] for every d (the last bin of each dimension closed); points
    outside every dimension's [e_d[0], e_d[−1]] are not counted.

        bins   an int (that many equal bins per dimension), D ints, or D 1-D edge tensors
        range  2D floats (min_0, max_0, min_1, …) for int bins; default each dimension's data
               min and max; ignored for edge tensors, as torch
        weight input.shape[:-1]: each point adds its weight instead of 1
        density  hist / (Σ hist · Π_d (e_d[i_d + 1] − e_d[i_d])), a density over the cells

    hist has shape (bins_0, …, bins_{D−1}); bin_edges is a tuple of D edge tensors. No
    gradient."""
    a = as_array(_t(input))
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_cap(a)}'")
    if a.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    D = a.shape[-1]
    points = a.reshape(math.prod(a.shape[:-1]), D)
    if isinstance(bins, bool) or isinstance(bins, Tensor):
        raise TypeError(
            f"histogramdd(): argument 'bins' must be an int, a tuple of ints or a tuple of"
            f" Tensors, not {type(bins).__name__}"
        )
    if isinstance(bins, int):
        edges = _edges_from_counts(points, [bins] * D, range)
    elif all(isinstance(b, Tensor) for b in bins) and len(bins):
        edges = _edges_from_tensors(a, bins)
    elif all(isinstance(b, int) and not isinstance(b, bool) for b in bins):
        if len(bins) != D:
            raise RuntimeError(
                "histogramdd: The size of bins must be equal to the innermost dimension of the"
                " input."
            )
        edges = _edges_from_counts(points, list(bins), range)
    else:
        raise TypeError(
            "histogramdd(): argument 'bins' must be an int, a tuple of ints or a tuple of"
            f" Tensors, got {[type(b).__name__ for b in bins]}"
        )
    w = None
    if weight is not None:
        w = as_array(_t(weight))
        if w.shape != a.shape[:-1]:
            raise RuntimeError(
                "torch.histogramdd: if weight tensor is provided it should have the same shape"
                " as the input tensor excluding its innermost dimension, but got input with"
                f" shape {list(a.shape)} and weight with shape {list(w.shape)}"
            )
        if w.dtype != a.dtype:
            raise RuntimeError(
                "torch.histogramdd: if weight tensor is provided, input tensor and weight tensor"
                f" should have the same dtype, but got input({_dtype_name(a)}), and"
                f" weight({_dtype_name(w)})"
            )
        w = w.reshape(-1)
    counts = tuple(e.size - 1 for e in edges)
    # each point's cell: per dimension a sorted search (the last edge joins the last bin)
    inside = xp.ones(points.shape[0], dtype=bool)
    cell = []
    for d, e in enumerate(edges):
        x = points[:, d]
        inside &= (x >= e[0]) & (x <= e[-1])
        cell.append(xp.clip(xp.searchsorted(e, x, side="right") - 1, 0, counts[d] - 1))
    flat = xp.ravel_multi_index(tuple(c[inside] for c in cell), counts) if D else None
    n_cells = int(math.prod(counts))
    if D:
        hist = xp.bincount(flat, weights=None if w is None else w[inside], minlength=n_cells)
    else:
        hist = xp.zeros(1)
    hist = hist[:n_cells].astype(a.dtype).reshape(counts)
    if density:  # torch's order: divide by the total, then by each dimension's bin widths
        with errstate(invalid="ignore", divide="ignore"):
            hist = hist / hist.sum()
            for d, e in enumerate(edges):
                shape = [1] * D
                shape[d] = counts[d]
                hist = hist / xp.diff(e).reshape(shape)
    return HistogramddResult(Tensor(xp.asarray(hist, a.dtype)), tuple(Tensor(e) for e in edges))


# ------------------------------------------------------------ segment_reduce
_SEGMENT_REDUCTIONS = {"sum": "sum", "prod": "prod", "mean": "sum", "max": "amax", "min": "amin"}


def _segment_offsets(name: str, given, data, axis: int, unsafe: bool):
    """The (B…, S + 1) offsets array from lengths or offsets of shape (B…, S[+1]), where B… is
    data.shape[:axis], checked as torch checks them (lengths: ≥ 0 and summing to the axis'
    size unless unsafe)."""
    g = as_array(_t(given))
    if g.dtype.kind not in "iu":
        kernel = (
            "_segment_reduce_lengths_cpu_kernel1"
            if name == "lengths"
            else ("_segment_reduce_offsets_cpu_kernel1")
        )
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_cap(g)}'")
    if data.ndim < g.ndim:
        raise RuntimeError(
            f"segment_reduce(): Expected data.dim() >= {name}.dim(), but got data of shape"
            f" {list(data.shape)} and {name} of shape {list(g.shape)}"
        )
    if axis != g.ndim - 1:
        raise RuntimeError(
            f"segment_reduce(): Expected axis to be the last dimension of {name} but got {axis}."
        )
    if tuple(g.shape[:-1]) != tuple(data.shape[:axis]):
        raise RuntimeError(
            f"segment_reduce(): Expected {name}'s leading dims {list(g.shape[:-1])} to be"
            f" data's dims before axis {axis}, {list(data.shape[:axis])}"
        )
    n = data.shape[axis]
    g = g.astype(xp.int64)
    if name == "offsets":
        if g.shape[-1] == 0:
            raise RuntimeError("segment_reduce(): offsets must hold at least one offset, got none")
        if (xp.diff(g, axis=-1) < 0).any():
            raise RuntimeError(
                f"segment_reduce(): Expected offsets to be non-decreasing along axis, got {g}"
            )
        return xp.clip(g, 0, n)
    if not unsafe:
        if g.size == 0:
            raise RuntimeError(
                "min(): Expected reduction dim to be specified for input.numel() == 0. Specify"
                " the reduction dim with the 'dim' argument."
            )
        if g.min() < 0:
            raise RuntimeError("lengths contains negative value!")
        if not (g.sum(-1) == n).all():
            raise RuntimeError(
                "segment_reduce(): Expected all rows of lengths along axis to sum to"
                " data.size(lengths.dim()-1) when !unsafe."
            )
    zero = xp.zeros(g.shape[:-1] + (1,), dtype=xp.int64)
    return xp.clip(xp.concatenate([zero, xp.cumsum(g, axis=-1)], axis=-1), 0, n)


def _segment_ids(off, n: int):
    """For every position i < n of every leading row b, the segment s with
    off[b, s] ≤ i < off[b, s + 1], or S (a spare slot) where no segment holds i. One sorted
    search over all rows: row b's starts are shifted by b·(n + 1), so the rows never mix."""
    rows, S = off.shape[0], off.shape[1] - 1
    shift = xp.arange(rows, dtype=xp.int64)[:, None] * (n + 1)
    starts = (off[:, :-1] + shift).reshape(-1)
    pos = xp.arange(n, dtype=xp.int64)[None, :] + shift  # (rows, n)
    seg = xp.searchsorted(starts, pos.reshape(-1), side="right").reshape(rows, n) - 1
    local = seg - xp.arange(rows, dtype=xp.int64)[:, None] * S
    ok = (local >= 0) & (local < S)
    end = xp.take_along_axis(off[:, 1:], xp.clip(local, 0, max(S - 1, 0)), axis=1) if S else pos
    ok &= xp.arange(n)[None, :] < end
    return xp.where(ok, local, S)


def _segment_prod(x: Tensor, off, axis: int) -> Tensor:
    """Π over each segment, through Tensor.prod, whose gradient handles zeros (the exclusive
    product): the segments gathered into a (B…, S, K, R…) block, K the longest segment, the
    short ones padded with 1 (an appended slice of ones at position n of the axis)."""
    lead, n, rest = x.shape[:axis], x.shape[axis], x.shape[axis + 1 :]
    S = off.shape[-1] - 1
    length = off[..., 1:] - off[..., :-1]
    K = max(int(length.max()) if length.size else 0, 1)
    k = xp.arange(K, dtype=xp.int64)
    pos = xp.where(k < length[..., None], off[..., :-1, None] + k, n)  # (B…, S, K)
    ones = Tensor(xp.ones(lead + (1,) + rest, dtype=x.array.dtype))
    padded = cat([x, ones], axis)
    idx = pos.reshape(lead + (S * K,) + (1,) * len(rest))
    block = padded.take_along_dim(idx, axis).reshape(lead + (S, K) + rest)
    return block.prod(axis + 1)


def segment_reduce(
    data,
    reduce: str,
    *,
    lengths=None,
    indices=None,
    offsets=None,
    axis: int = 0,
    unsafe: bool = False,
    initial=None,
) -> Tensor:
    """torch.segment_reduce: reduce consecutive segments of data along axis,

        out[b…, s, r…] = reduce_{i ∈ [o_s, o_{s+1})} data[b…, i, r…]

    with the segments given by lengths (B…, S) or offsets (B…, S + 1), B… = data.shape[:axis]
    (offsets win when both are given, as torch). reduce: 'sum', 'mean', 'max', 'min', 'prod'.
    An empty segment gives the reduction's identity (0, 1, −inf, +inf; nan for mean), or
    initial; initial joins every segment: initial + Σ, initial·Π, max(initial, max), and for
    mean (initial + Σ)/len (initial alone for an empty segment).

    Differentiable: scatter_reduce of data into the segments (prod: Tensor.prod over the
    segments gathered and padded with 1, whose gradient handles zeros), so ties of max/min share the
    gradient equally (torch's own segment_reduce backward divides only the positive shares)."""
    x = _t(data)
    a = x.array
    axis = wrap_dim(axis, x.ndim)
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    if reduce not in _SEGMENT_REDUCTIONS:
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"_segment_reduce_cpu\" not implemented for '{_cap(a)}'")
    if offsets is not None:
        off = _segment_offsets("offsets", offsets, x, axis, unsafe)
    else:
        off = _segment_offsets("lengths", lengths, x, axis, unsafe)
    lead, n, rest = x.shape[:axis], x.shape[axis], x.shape[axis + 1 :]
    S = off.shape[-1] - 1
    init = None if initial is None else float(as_array(initial))
    if reduce == "prod":
        out = _segment_prod(x, off, axis)
        return out if init is None else out * init
    ids = _segment_ids(off.reshape(-1, S + 1), n).reshape(lead + (n,) + (1,) * len(rest))
    ids = xp.ascontiguousarray(xp.broadcast_to(ids, a.shape))
    identity = {"sum": 0.0, "mean": 0.0, "max": -math.inf, "min": math.inf}
    fill = init if reduce == "sum" and init is not None else identity[reduce]
    base = Tensor(xp.full(lead + (S + 1,) + rest, fill, dtype=a.dtype))
    op = _SEGMENT_REDUCTIONS[reduce]
    out = base.scatter_reduce(axis, ids, x, op, include_self=op == "sum")
    out = out.narrow(axis, 0, S)  # drop the spare slot of unsegmented positions
    if reduce == "mean":
        count = (off[..., 1:] - off[..., :-1]).reshape(lead + (S,) + (1,) * len(rest))
        if init is not None:
            out, count = out + init, xp.maximum(count, 1)
        with errstate(invalid="ignore", divide="ignore"):
            out = out / Tensor(count.astype(a.dtype))
    elif reduce in ("max", "min") and init is not None:
        m = out.array
        keep = (m >= init if reduce == "max" else m <= init) | xp.isnan(m)
        out = out.where(keep, Tensor(xp.asarray(init, dtype=a.dtype)))
    return out
