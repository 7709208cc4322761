"""Index ops: gather, scatter, scatter_add, index_select, masked_select, sort, top-k.

Each forward picks or places elements by an integer index along one axis; each backward sends
the gradient back along the same index: a pick's gradient is scattered (added, where an index
repeats), a placement's gradient is gathered. Index arrays are checked where they are used, so a
bad index is an error that names the op, the value, the dim and its size.
"""

from __future__ import annotations

import numbers

from ..backend import get_array_module, scatter_add
from ..errors import IndexInputError
from ..function import Function, half_in_float32, unbroadcast
from .complex_refuse import refuse_complex


def check_dim(op: str, dim: int, ndim: int) -> int:
    """``dim`` as a non-negative axis of an ``ndim``-dimensional array (a 0-d one has axis 0);
    a NumPy integer or 0-d integer tensor is read as its int, a bool or float refused, as torch's
    parser does."""
    if type(dim) is not int:
        dim = int_argument(op, "dim", None, dim)
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexInputError(
            f"{op}(): dim {dim} is out of range for a tensor of {ndim} dimensions"
            f" (expected {-n} ≤ dim < {n})"
        )
    return dim % n


def int_argument(op: str, arg: str, position: int | None, value) -> int:
    """``value`` as torch's argument parser reads an int: an integer, or a 0-d integer tensor;
    a bool or a float is its TypeError (int() would truncate 2.5 to 2 without a word)."""
    dtype = getattr(value, "dtype", None)
    if getattr(value, "ndim", None) == 0 and getattr(dtype, "kind", "?") in "iu":
        return int(value.item())  # a 0-d integer tensor or NumPy integer
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        where = "" if position is None else f" (position {position})"
        name = f"{op}(): " if op else ""
        raise TypeError(f"{name}argument '{arg}'{where} must be int, not {type(value).__name__}")
    return int(value)


def check_unique_dim(shape, dim: int) -> None:
    """torch's rule for unique(dim=...) and unique_consecutive(dim=...) of an empty tensor:
    the one dimension of size 0 must be ``dim`` (the result is then empty)."""
    zeros = [d for d, n in enumerate(shape) if n == 0]
    if len(zeros) > 1:
        raise RuntimeError(
            "Number of zero sized dimensions is more than one, so unique cannot be applied"
        )
    if zeros and zeros[0] != dim:
        raise RuntimeError(
            "There are 0 sized dimensions, and they aren't selected, so unique cannot be applied"
        )


def check_index(op: str, index, dim: int, size: int) -> None:
    """An integer index whose values all lie in [0, size) along ``dim``."""
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}(): index must be an integer tensor (int64), got dtype {index.dtype}")
    bad = (index < 0) | (index >= size)
    if bad.any():
        xp = get_array_module(index)
        value = int(index.reshape(-1)[xp.argmax(bad.reshape(-1))])
        raise IndexInputError(
            f"{op}(): index {value} is out of bounds for dimension {dim} with size {size}"
        )


def check_shapes(op: str, index_shape, dim: int, self_shape, src_shape=None) -> None:
    """torch's rule: index.size(d) ≤ self.size(d) for d ≠ dim, and ≤ src.size(d) for every d
    (an empty index addresses nothing: torch checks only its number of dims)."""
    if len(index_shape) != len(self_shape):
        raise RuntimeError(
            f"{op}(): index has {len(index_shape)} dimensions but self has {len(self_shape)};"
            " index tensor must have the same number of dimensions as self"
        )
    if src_shape is not None and len(src_shape) != len(index_shape):
        raise RuntimeError(
            f"{op}(): index has {len(index_shape)} dimensions but src has {len(src_shape)};"
            " index tensor must have the same number of dimensions as src"
        )
    if 0 in index_shape:
        return
    for d, n in enumerate(index_shape):
        too_big_self = d != dim and n > self_shape[d]
        too_big_src = src_shape is not None and n > src_shape[d]
        if too_big_self or too_big_src:
            src = f" and to be no larger than src {list(src_shape)}" if src_shape else ""
            raise RuntimeError(
                f"{op}(): size does not match at dimension {d}: expected index {list(index_shape)}"
                f" to be no larger than self {list(self_shape)} apart from dimension {dim}{src}"
            )


def one_d(*arrays) -> tuple:
    """Each 0-d array as one element (None stays None): torch's gather and scatter take a
    0-d self, index or src as 1-d of size 1 (ensure_nonempty_dim)."""
    return tuple(a.reshape(1) if a is not None and a.ndim == 0 else a for a in arrays)


def along(index, axis: int) -> tuple:
    """The index tuple addressing ``a[i_0, …, index[i_0, …], …]``: ``index`` on ``axis``, and on
    every other axis d an arange that broadcasts against it (torch's gather/scatter addressing).
    """
    xp = get_array_module(index)
    out = []
    for d, n in enumerate(index.shape):
        if d == axis:
            out.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            out.append(xp.arange(n).reshape(shape))
    return tuple(out)


def _leading(shape) -> tuple:
    """Slices of the leading block of that shape (the part of src that index addresses)."""
    return tuple(slice(0, n) for n in shape)


class Gather(Function):
    """y[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (likewise for other dims).

    ∂L/∂x[m][j][k] = Σ_{i: index[i][j][k] = m} ∂L/∂y[i][j][k]: repeated indices accumulate.
    """

    def forward(self, x, index, dim):
        self.dim = dim = check_dim("gather", dim, x.ndim)
        self.shape, out_shape = x.shape, index.shape
        x, index = one_d(x, index)  # torch's 0-d gather: x or index as one element
        check_shapes("gather", index.shape, dim, x.shape)
        check_index("gather", index, dim, x.shape[dim])
        self.where, self.index_shape = along(index, dim), index.shape
        return x[self.where].reshape(out_shape)

    def backward(self, gy):
        gx = get_array_module(gy).zeros(self.shape or (1,), dtype=gy.dtype)
        scatter_add(gx, self.where, gy.reshape(self.index_shape))
        return gx.reshape(self.shape), None


class Scatter(Function):
    """y = x, then y[index[i][j]][j] = src[i][j] (or the scalar ``value``) for dim 0.

    ∂L/∂x = ∂L/∂y with the written places zeroed (their old values are gone);
    ∂L/∂src[i][j] = ∂L/∂y[index[i][j]][j] (a gather), as torch defines it also for repeats.
    """

    add = False

    def forward(self, x, src, index, dim, value=None):
        op = "scatter_add" if self.add else "scatter"
        self.dim = dim = check_dim(op, dim, x.ndim)
        self.shape, self.src_shape = x.shape, None if src is None else src.shape
        x, index, src = one_d(x, index, src)  # torch's 0-d scatter: each as one element
        check_shapes(op, index.shape, dim, x.shape, None if src is None else src.shape)
        check_index(op, index, dim, x.shape[dim])
        self.where = along(index, dim)
        self.index_shape = index.shape
        y = x.copy()
        part = value if src is None else src[_leading(index.shape)]
        if self.add:
            scatter_add(y, self.where, part)
        else:
            y[self.where] = part
        return y.reshape(self.shape)

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = gsrc = None
        gy = gy.reshape(self.shape or (1,))
        if self.needs_input_grad[0]:
            gx = gy
            if not self.add:
                gx = gy.copy()
                gx[self.where] = 0
            gx = gx.reshape(self.shape)
        if self.src_shape is not None and self.needs_input_grad[1]:
            gsrc = xp.zeros(self.src_shape or (1,), dtype=gy.dtype)
            gsrc[_leading(self.index_shape)] = gy[self.where]
            gsrc = gsrc.reshape(self.src_shape)
        return gx, gsrc, None


@half_in_float32  # sums of many half values: in float32, rounded once, as torch
class ScatterAdd(Scatter):
    """y = x, then y[index[i][j]][j] += src[i][j] for dim 0; repeated indices accumulate.

    ∂L/∂x = ∂L/∂y;  ∂L/∂src[i][j] = ∂L/∂y[index[i][j]][j] (a gather).
    """

    add = True


class IndexSelect(Function):
    """y = x taken at ``index`` (1-D) along dim: y[…, i, …] = x[…, index[i], …].

    ∂L/∂x[…, m, …] = Σ_{i: index[i] = m} ∂L/∂y[…, i, …]: repeated indices accumulate.
    """

    def forward(self, x, index, dim):
        self.dim = dim = check_dim("index_select", dim, x.ndim)
        if index.ndim > 1:
            raise IndexError(f"index_select(): index must be 1-D (or 0-D), got shape {index.shape}")
        size = x.shape[dim] if x.ndim else 1
        if not x.ndim and index.size != 1:  # torch's rule: a 0-d input takes one index
            raise RuntimeError(
                f"index_select(): Index to scalar can have only 1 value, got {index.size} value(s)"
            )
        check_index("index_select", index, dim, size)
        self.index, self.shape = index.reshape(-1), x.shape
        xp = get_array_module(x)
        return xp.take(x, self.index, axis=dim) if x.ndim else x[()]

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if not self.shape:
            gx[()] = gy.sum()
            return gx, None
        # Rows along dim of a view of gx: backend.scatter_add sums repeated rows in one pass.
        scatter_add(xp.moveaxis(gx, self.dim, 0), self.index, xp.moveaxis(gy, self.dim, 0))
        return gx, None


class MaskedSelect(Function):
    """y = the elements of x where mask is True (x and mask broadcast), as a 1-D array.

    ∂L/∂x = ∂L/∂y placed back where mask is True, zero elsewhere (summed over broadcasting).
    """

    def forward(self, x, mask):
        xp = get_array_module(x)
        if mask.dtype != xp.bool_:
            raise TypeError(f"masked_select(): mask must be a bool tensor, got dtype {mask.dtype}")
        try:
            shape = xp.broadcast_shapes(x.shape, mask.shape)
        except ValueError:
            raise RuntimeError(
                f"masked_select(): mask of shape {mask.shape} does not broadcast with"
                f" self of shape {x.shape}"
            ) from None
        self.shape, self.mask = x.shape, xp.broadcast_to(mask, shape)
        return xp.broadcast_to(x, shape)[self.mask]

    def backward(self, gy):
        xp = get_array_module(gy)
        g = xp.zeros(self.mask.shape, dtype=gy.dtype)
        g[self.mask] = gy
        return unbroadcast(g, self.shape), None


def sort_indices(x, axis: int, descending: bool = False):
    """Indices that sort x along ``axis``; equal values keep their order (stable) both ways.

    Descending: a stable ascending sort of x reversed, read backwards, keeps ties in their
    original order (negating x would not, and fails for unsigned and bool arrays). NaN sorts as
    the largest value, as in torch.
    """
    if x.dtype.kind == "c":
        refuse_complex(x, "sort")
    xp = get_array_module(x)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    rev = xp.argsort(xp.flip(x, axis=axis), axis=axis, kind="stable")
    return xp.flip(n - 1 - rev, axis=axis)


class _Pick(Function):
    """Values of x at indices along an axis, and the indices: (values, indices).

    ∂L/∂x[…, indices[j], …] = ∂L/∂values[…, j, …]; zero where nothing was picked. The indices
    are distinct along the axis, so placing (not adding) the gradient is exact.
    """

    multi_output = True

    def _pick(self, x, indices, axis):
        self.shape, self.axis, self.indices = x.shape, axis, indices
        return get_array_module(x).take_along_axis(x, indices, axis=axis), indices

    def backward(self, gv, gi=None):
        if not self.shape:  # a 0-d x: its one value was picked
            return (gv,)
        xp = get_array_module(gv)
        gx = xp.zeros(self.shape, dtype=gv.dtype)
        xp.put_along_axis(gx, self.indices, gv, axis=self.axis)
        return (gx,)


def _scalar_pick(self, x):
    self.shape = ()
    return x.copy(), get_array_module(x).zeros((), dtype="int64")


class Sort(_Pick):
    """(values, indices) = x sorted along dim; ties keep their order (a stable sort)."""

    def forward(self, x, dim=-1, descending=False):
        if x.dtype.kind == "c":
            refuse_complex(x, "sort")
        axis = check_dim("sort", dim, x.ndim)
        if x.ndim == 0:
            return _scalar_pick(self, x)
        return self._pick(x, sort_indices(x, axis, descending), axis)


class TopK(_Pick):
    """(values, indices) of the k largest (or smallest) elements along dim, in sorted order."""

    def forward(self, x, k, dim=-1, largest=True):
        if x.dtype.kind == "c":
            refuse_complex(x, "topk")
        xp = get_array_module(x)
        axis = check_dim("topk", dim, x.ndim)
        n = x.shape[axis] if x.ndim else 1
        if not 0 <= k <= n:
            raise RuntimeError(
                f"topk(): k={k} is out of range for dimension {dim} of size {n} (need 0 ≤ k ≤ {n})"
            )
        if x.ndim == 0:  # torch gives the element back for k = 1 and for k = 0 alike
            return _scalar_pick(self, x)
        indices = xp.take(sort_indices(x, axis, largest), xp.arange(k), axis=axis)
        return self._pick(x, indices, axis)


class ExtremeAlong(_Pick):
    """(values, indices) of the max (min) along dim, torch's ``x.max(dim)``: the index of the
    first extreme (the first nan, where there is one), and the whole gradient to that element.

    Unlike amax, which shares the gradient among ties, ``max(dim)`` names one element: torch
    routes ∂L/∂values to x[…, indices, …] alone.
    """

    def forward(self, x, dim, keepdim=False, largest=True):
        if x.dtype.kind == "c":
            refuse_complex(x, "max" if largest else "min")
        xp = get_array_module(x)
        axis = check_dim("max" if largest else "min", dim, x.ndim)
        if x.ndim == 0:
            return _scalar_pick(self, x)
        self.keepdim = keepdim
        arg = x.argmax if largest else x.argmin
        values, indices = self._pick(x, arg(axis=axis, keepdims=True).astype(xp.int64), axis)
        if keepdim:
            return values, indices
        return values.squeeze(axis), indices.squeeze(axis)

    def backward(self, gv, gi=None):
        if self.shape and not self.keepdim:
            gv = get_array_module(gv).expand_dims(gv, self.axis)
        return super().backward(gv, gi)
