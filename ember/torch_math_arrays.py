"""torch's top-level array functions on ``ember.*``: diff, tensor_split, cross, diagonal,
diag_embed, bincount, histc (wrappers over the Tensor methods of tensor_torch_reduce.py), and
the functions torch has only at the top level: meshgrid, cartesian_prod, tril_indices,
triu_indices, searchsorted, bucketize and cdist, built from Tensor operations and the array
helpers of ops/reduce_more.py. torch_math.py re-exports them all.

``min`` and ``max`` (histc's argument names) shadow Python's builtins inside this module only.
"""

from __future__ import annotations

import warnings

from .amp.composite import as_one_op
from .backend import xp
from .errors import InputError
from .function import observers
from .functional.spatial import count_distance
from .ops import reduce_more as RM
from .ops import rounding as RO
from .ops import shape as S
from .ops.complex_refuse import refuse_complex
from .ops.elementwise import not_implemented_for
from .promotion import common_arrays
from .tensor import Tensor, apply, as_array, number_or_array
from .torch_shape import _t


def diff(input, n=1, dim=-1, prepend=None, append=None) -> Tensor:  # noqa: A002
    """torch.diff: the n-th forward difference along dim."""
    return _t(input).diff(n, dim, prepend, append)


def tensor_split(input, indices_or_sections, dim=0) -> tuple:  # noqa: A002
    """torch.tensor_split: k nearly equal parts, or the parts between the listed indices."""
    return _t(input).tensor_split(indices_or_sections, dim)


def cross(input, other, dim=None) -> Tensor:  # noqa: A002
    """torch.cross: the cross product of 3-vectors along dim."""
    return _t(input).cross(other, dim)


def diagonal(input, offset=0, dim1=0, dim2=1) -> Tensor:  # noqa: A002
    """torch.diagonal: the offset diagonal of the (dim1, dim2) planes, as the last dim."""
    return _t(input).diagonal(offset, dim1, dim2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1) -> Tensor:  # noqa: A002
    """torch.diag_embed: the last dim placed on the diagonal of new (dim1, dim2) planes."""
    return _t(input).diag_embed(offset, dim1, dim2)


def bincount(input, weights=None, minlength=0) -> Tensor:  # noqa: A002
    """torch.bincount: occurrences (or summed weights) of each non-negative integer."""
    return _t(input).bincount(weights, minlength)


def histc(input, bins=100, min=0, max=0) -> Tensor:  # noqa: A002
    """torch.histc: counts in equal bins over [min, max]."""
    return _t(input).histc(bins, min, max)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """torch.meshgrid: out_k[i₀, i₁, …] = tensors[k][i_k] ('ij'); 'xy' swaps the first two
    dims of every output (Cartesian order, as NumPy's default). Gradients sum back. As torch:
    indexing left out (or None) is 'ij' with torch's warning that it will be required; the
    tensors must be 0-D or 1-D, of one dtype, at least one."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing"
            " argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    ts = [_t(t) for t in tensors]
    if not ts:
        raise InputError("meshgrid expects a non-empty TensorList")
    if any(t.ndim > 1 for t in ts):
        shapes = [tuple(t.shape) for t in ts]
        raise InputError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list, got"
                         f" shapes {shapes}")  # fmt: skip
    if len({t.array.dtype for t in ts}) > 1:
        raise InputError(
            f"meshgrid expects all tensors to have the same dtype, got {[str(t.dtype) for t in ts]}"
        )
    if indexing not in ("ij", "xy"):
        raise InputError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    sizes = [t.numel() for t in ts]
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) > 1:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[k] for k in order)
    out = []
    for k, t in enumerate(ts):
        view = [1] * len(ts)
        view[order.index(k)] = sizes[k]
        out.append(t.reshape(tuple(view)).expand(*shape))
    return tuple(out)


def cartesian_prod(*tensors) -> Tensor:
    """torch.cartesian_prod: every combination of the 1-D tensors' elements, one per row, the
    last tensor varying fastest (one tensor: itself). As torch: 1-D tensors only, of one
    dtype."""
    if not tensors:
        raise InputError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"cartesian_prod(): expected Tensor as element 0 in argument 0, but"
                            f" got {type(t).__name__}")  # fmt: skip
        if t.ndim != 1:
            raise InputError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return apply(S.Stack, *(g.reshape(-1) for g in grids), axis=1)


def _indices(name: str, make, row, col, offset, dtype) -> Tensor:
    """torch's tril_indices/triu_indices checks: int arguments (not bools, not floats), a
    non-negative row and col, an int32 or int64 dtype."""
    for value, what, pos in ((row, "row", 1), (col, "col", 2), (offset, "offset", 3)):
        if hasattr(value, "ndim") and value.ndim == 0 and value.dtype.kind in "iu":
            continue  # a 0-d integer tensor reads as its int
        if isinstance(value, bool) or not isinstance(value, (int, xp.integer)):
            raise TypeError(f"{name}(): argument '{what}' (position {pos}) must be int, not"
                            f" {type(value).__name__}")  # fmt: skip
    row, col, offset = int(row), int(col), int(offset)
    for value, what in ((row, "row"), (col, "col")):
        if value < 0:
            raise InputError(f"{what} must be non-negative, got {value}")
    dt = xp.dtype(xp.int64 if dtype is None else dtype)
    if dt not in (xp.int32, xp.int64):
        raise not_implemented_for(name, dt)
    r, c = make(row, offset, col)
    return Tensor(xp.stack([r, c]).astype(dt))


def tril_indices(row, col, offset=0, *, dtype=None, layout=None, device=None,
                 requires_grad=False, pin_memory=False) -> Tensor:  # fmt: skip
    """torch.tril_indices: the (2, N) coordinates of a row × col lower triangle (j − i ≤ offset),
    row by row."""
    out = _indices("tril_indices", xp.tril_indices, row, col, offset, dtype)
    return out.requires_grad_() if requires_grad else out


def triu_indices(row, col, offset=0, *, dtype=None, layout=None, device=None,
                 requires_grad=False, pin_memory=False) -> Tensor:  # fmt: skip
    """torch.triu_indices: the (2, N) coordinates of the upper triangle (j − i ≥ offset)."""
    out = _indices("triu_indices", xp.triu_indices, row, col, offset, dtype)
    return out.requires_grad_() if requires_grad else out


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,  # noqa: A002
                 sorter=None) -> Tensor:  # fmt: skip
    """torch.searchsorted: where each value of ``input`` (a tensor or a number) would be
    inserted to keep the innermost dim sorted: the first i with seq[i] ≥ v ('left'), or
    seq[i] > v (right=True or side='right'). No gradient."""
    if side is not None:
        if side not in ("left", "right") or (side == "left" and right):
            raise InputError(f"searchsorted(): side must be 'left' or 'right' and agree with"
                             f" right={right}, got side={side!r}")  # fmt: skip
        right = side == "right"
    seq, v = as_array(sorted_sequence), number_or_array(input)
    for a in (seq, v):  # named in the dtype given, before the promotion below
        refuse_complex(xp.asarray(a), "searchsorted", NotImplementedError)
    seq, v = common_arrays(seq, v)  # compared in torch's result dtype
    if v.ndim == 0 and seq.ndim != 1:  # torch's RuntimeError (NumPy's would be an IndexError)
        raise InputError(
            "torch.searchsorted(): input value can be a scalar only when boundaries tensor"
            f" dimension is 1, but we got boundaries tensor dim({seq.ndim}) and input value's"
            " dim(0) numel(1)"
        )
    if seq.ndim == 0:
        raise InputError("searchsorted(): sorted_sequence must have at least one dim, got 0-d")
    if seq.dtype.kind == "b" and v.size:  # both bool: torch has no kernel (no values: no call)
        raise not_implemented_for("searchsorted_out_cpu", seq.dtype)
    if v.ndim and seq.ndim > 1 and seq.shape[:-1] != v.shape[:-1]:
        raise InputError(f"searchsorted(): the leading dims of sorted_sequence {seq.shape} and"
                         f" values {v.shape} must match")  # fmt: skip
    if observers and sorter is None:  # an op (ops/rounding.py) that the ONNX tracer sees
        return apply(RO.SearchSorted, seq, v, right=right, out_int32=out_int32)
    order = None if sorter is None else RM.check_sorter(as_array(sorter), seq.shape)
    out = RM.searchsorted_rows(seq, v, "right" if right else "left", order)
    return Tensor(xp.asarray(out, dtype=xp.int32 if out_int32 else xp.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False) -> Tensor:  # noqa: A002
    """torch.bucketize: i with boundaries[i−1] < x ≤ boundaries[i] (right=True:
    boundaries[i−1] ≤ x < boundaries[i]) for 1-D boundaries. No gradient."""
    if as_array(boundaries).ndim != 1:
        raise InputError("bucketize(): boundaries must be a 1-D tensor")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


_CDIST_MODES = (
    None,
    "use_mm_for_euclid_dist_if_necessary",
    "use_mm_for_euclid_dist",
    "donot_use_mm_for_euclid_dist",
)


@as_one_op("cdist")
def cdist(x1, x2, p=2.0, compute_mode=None) -> Tensor:
    """torch.cdist: out[..., i, j] = ‖x1[..., i, :] − x2[..., j, :]‖_p for (…, P, M) and
    (…, R, M) (batch dims broadcast). Always from the differences themselves: torch's default
    ``compute_mode`` switches to ‖a‖² − 2a·b + ‖b‖² above 25 rows, which cancels for near
    points, so ``compute_mode`` is accepted and ignored. Gradients are torch's: 0 where two
    points coincide, and for p = ∞ the whole gradient to each tied coordinate."""
    a, b = _t(x1), _t(x2)
    for name, t in (("X1", a), ("X2", b)):
        if t.dtype.kind == "c":
            raise RuntimeError(
                f"cdist(): only supports floating-point dtypes, {name} got {t.dtype} (complex),"
                " as torch; take it of torch.view_as_real(z) flattened instead"
            )
    if compute_mode not in _CDIST_MODES:  # torch: ValueError
        raise ValueError(
            f"cdist(): compute_mode must be one of {_CDIST_MODES}, got {compute_mode!r}"
        )
    # the rest torch refuses with RuntimeError
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise InputError(f"cdist(): expects (…, P, M) and (…, R, M), got {a.shape} and {b.shape}")
    if a.dtype != b.dtype:
        raise InputError(f"cdist(): expects X1 and X2 of one dtype, got {a.dtype} and {b.dtype}")
    if p < 0:
        raise InputError(f"cdist(): p must be non-negative, got {p}")
    diff = a.unsqueeze(-2) - b.unsqueeze(-3)
    if p == float("inf"):
        return apply(RM.MaxAbs, diff)
    return count_distance(diff, -1) if p == 0 else diff.norm(p, dim=-1)


# fmt: off
__all__ = [
    "diff",
    "tensor_split",
    "cross",
    "diagonal",
    "diag_embed",
    "bincount",
    "histc",
    "meshgrid",
    "cartesian_prod",
    "tril_indices",
    "triu_indices",
    "searchsorted",
    "bucketize",
    "cdist",
]
# fmt: on
