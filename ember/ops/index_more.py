"""More index ops as torch's: index_add, index_copy, index_fill, scatter_reduce.

The index_* ops address whole slices along ``dim`` with a 1-D index (as index_select); their
gradients gather the slices back. scatter_reduce combines src into self elementwise as
scatter does, with a reduction ('sum', 'prod', 'mean', 'amax', 'amin') where indices repeat.
"""

from __future__ import annotations

from ..backend import get_array_module, scatter_add, ufunc_at
from ..errors import IndexInputError, InputTypeError
from ..function import Function, half_in_float32
from .complex_refuse import refuse_complex
from .index import _leading, along, check_dim, check_index, check_shapes


def _index_1d(op: str, index, dim: int, size: int):
    if index.ndim > 1:  # torch: IndexError (index_add) or RuntimeError (index_fill)
        raise IndexInputError(f"{op}(): index must be 1-D (or 0-D), got shape {tuple(index.shape)}")
    check_index(op, index, dim, size)
    return index.reshape(-1)


def require_int64(op: str, index) -> None:
    """torch's index_copy, index_fill and take_along_dim take int64 indices only (index_add
    and index_select take int32 too): InputTypeError (torch's RuntimeError; IndexError for
    index_fill, so both)."""
    if index.dtype.kind in "iu" and index.dtype.itemsize != 8:
        raise _Int64Refused(f"{op}(): expected dtype int64 for index, got {index.dtype}")


class _Int64Refused(InputTypeError, IndexError):
    """An int32 index where torch wants int64: RuntimeError, IndexError and TypeError alike."""


def _check_source(op: str, x_shape, src_shape, dim: int, n: int) -> None:
    """torch's rule: source has self's shape except ``len(index)`` along dim."""
    if not x_shape:
        check_scalar_source(op, src_shape, n)
        return
    want = list(x_shape)
    want[dim] = n
    if list(src_shape) != want:
        # a source of other dims: torch's index_copy raises IndexError, index_add RuntimeError
        cls = IndexInputError if len(src_shape) != len(want) else RuntimeError
        raise cls(
            f"{op}(): source of shape {list(src_shape)} does not fit: expected {want}"
            f" (self {list(x_shape)} with dimension {dim} of size len(index) = {n})"
        )


def check_scalar_source(op: str, src_shape, n: int) -> None:
    """torch's rules for a 0-d self: index_add (and index_reduce) take a 0-d source and one
    index; index_copy also takes a 1-d source of one value per index."""
    src = list(src_shape)
    if src and not (op == "index_copy" and src == [n]):
        raise RuntimeError(
            f"{op}(): source tensor shape must match self tensor shape, excluding the specified"
            f" dimension. Got self.shape = [] source.shape = {src}"
        )
    if not src and n != 1:  # torch's IndexError: n slots of a 0-d self that has one
        raise IndexInputError(
            f"{op}(): When source is scalar, index should have one element (got {n})"
        )


def _rows(a, dim: int):
    """A view of ``a`` with ``dim`` first (a 0-d array as one row)."""
    xp = get_array_module(a)
    return a.reshape(1) if a.ndim == 0 else xp.moveaxis(a, dim, 0)


def _take_rows(gy, dim: int, index, shape):
    """gy's slices at ``index`` along dim, shaped as the source (the index_* ops' ∂L/∂src)."""
    xp = get_array_module(gy)
    g = xp.take(_rows(gy, dim), index, axis=0)
    return (xp.moveaxis(g, 0, dim) if gy.ndim else g).reshape(shape)


class IndexAdd(Function):
    """y = x, then y[…, index[i], …] += α·src[…, i, …] along dim; repeats accumulate.

    ∂L/∂x = ∂L/∂y;  ∂L/∂src[…, i, …] = α·∂L/∂y[…, index[i], …] (an index_select).
    """

    def forward(self, x, src, index, dim, alpha=1):
        self.dim = dim = check_dim("index_add", dim, x.ndim)
        self.index = index = _index_1d("index_add", index, dim, x.shape[dim] if x.ndim else 1)
        _check_source("index_add", x.shape, src.shape, dim, index.size)
        if x.dtype.kind in "iu":  # torch casts alpha to self's integer type: -0.5 adds 0·src
            alpha = int(alpha)
        self.alpha, self.src_shape = alpha, src.shape
        y = x.copy()
        s = src if alpha == 1 else src * alpha
        scatter_add(_rows(y, dim), index, _rows(s.astype(x.dtype, copy=False), dim))
        return y

    def backward(self, gy):
        gsrc = None
        if self.needs_input_grad[1]:
            gsrc = _take_rows(gy, self.dim, self.index, self.src_shape)
            gsrc = gsrc * self.alpha if self.alpha != 1 else gsrc
        return gy, gsrc, None


class IndexCopy(Function):
    """y = x, then y[…, index[i], …] = src[…, i, …] along dim.

    ∂L/∂x = ∂L/∂y with the overwritten slices zeroed;  ∂L/∂src = ∂L/∂y taken at index.
    """

    def forward(self, x, src, index, dim):
        self.dim = dim = check_dim("index_copy", dim, x.ndim)
        require_int64("index_copy", index)
        self.index = index = _index_1d("index_copy", index, dim, x.shape[dim] if x.ndim else 1)
        _check_source("index_copy", x.shape, src.shape, dim, index.size)
        self.src_shape = src.shape
        y = x.copy()
        _rows(y, dim)[index] = _rows(src, dim)
        return y

    def backward(self, gy):
        gx = gsrc = None
        if self.needs_input_grad[0]:
            gx = gy.copy()
            _rows(gx, self.dim)[self.index] = 0
        if self.needs_input_grad[1]:
            gsrc = _take_rows(gy, self.dim, self.index, self.src_shape)
        return gx, gsrc, None


class IndexFill(Function):
    """y = x, then y[…, index[i], …] = value along dim.  ∂L/∂x = ∂L/∂y, zero where filled."""

    def forward(self, x, index, dim, value):
        self.dim = dim = check_dim("index_fill", dim, x.ndim)
        require_int64("index_fill", index)
        size = x.shape[dim] if x.ndim else 1
        if index.dtype.kind == "i" and index.ndim <= 1:  # torch's index_fill counts from the end
            wrapped = index + size * ((index < 0) & (index >= -size))
            index = wrapped if (wrapped >= 0).all() else index  # else check_index names it
        self.index = _index_1d("index_fill", index, dim, size)
        y = x.copy()
        _rows(y, dim)[self.index] = value
        return y

    def backward(self, gy):
        gx = gy.copy()
        _rows(gx, self.dim)[self.index] = 0
        return gx, None


REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


@half_in_float32  # sums of many half values: in float32, rounded once, as torch
class ScatterReduce(Function):
    """y = x, then each src[i][j] is combined into y[index[i][j]][j] (dim 0) by ``reduce``;
    with include_self False the written places start from the reduction's identity instead
    of x ('mean' divides by the count of values combined, x included when include_self).

    Gradients as torch's: 'sum' sends ∂L/∂y back to both (a gather for src); 'mean' divides it
    by the count; 'amax'/'amin' share it evenly among the tied extremes (x's and src's);
    'prod' sends each factor ∂L/∂y times the product of the other factors (zeros exact).
    Places of x that were written without include_self get no gradient.
    """

    def forward(self, x, src, index, dim, reduce, include_self=True):
        op = "scatter_reduce"
        if reduce not in REDUCTIONS:
            raise RuntimeError(
                f"{op}(): reduce argument must be one of {', '.join(REDUCTIONS)}, got {reduce!r}"
            )
        if reduce in ("amax", "amin"):  # as torch: sum, prod and mean only for complex
            why = f"reduce={reduce!r} needs an order; 'sum', 'prod' and 'mean' take complex"
            refuse_complex(x, op, NotImplementedError, why)
        xp = get_array_module(x)
        if x.ndim == 0:  # Tensor.scatter_reduce takes a 0-d self as one element before this
            raise RuntimeError(f"{op}(): self must have at least one dimension, got a 0-d tensor")
        self.dim = dim = check_dim(op, dim, x.ndim)
        check_shapes(op, index.shape, dim, x.shape, src.shape)
        check_index(op, index, dim, x.shape[dim])
        if src.dtype != x.dtype:
            raise RuntimeError(
                f"{op}(): expected self.dtype to be equal to src.dtype, got {x.dtype} and"
                f" {src.dtype}"
            )
        where = along(index, dim)
        s = src[_leading(index.shape)]
        y = x.copy()
        hit = xp.zeros(y.shape, dtype=bool)
        hit[where] = True
        if not include_self:
            y[hit] = _identity(reduce, x.dtype, xp)
        if reduce in ("sum", "mean"):
            scatter_add(y, where, s)
        else:  # CuPy's ufunc.at has no multiply: the backend's helper
            ufunc = {"prod": "multiply", "amax": "maximum", "amin": "minimum"}[reduce]
            ufunc_at(ufunc, y, where, s)
        count = None  # how many values each place averages: only 'mean' needs it
        if reduce == "mean":
            count = xp.zeros(y.shape, dtype=x.dtype if x.dtype.kind in "fc" else xp.int64)
            scatter_add(count, where, xp.ones(s.shape, dtype=count.dtype))
            if include_self:
                count += 1
            else:
                count[~hit] = 1
            if x.dtype.kind in "fc":
                y = y / count
            else:
                y = xp.floor_divide(y, count).astype(x.dtype)
        self.x, self.s, self.y, self.count, self.hit = x, s, y, count, hit
        self.where, self.src_shape, self.index_shape = where, src.shape, index.shape
        self.reduce, self.include_self = reduce, include_self
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        x, s, y, where = self.x, self.s, self.y, self.where
        if self.reduce == "sum":
            gx, gs = gy, gy[where]
        elif self.reduce == "mean":
            g = gy / self.count
            gx, gs = g, g[where]
        elif self.reduce in ("amax", "amin"):
            value = y[where]
            x_is = (x == y).astype(gy.dtype)
            s_is = (s == value).astype(gy.dtype)
            n = x_is.copy()
            scatter_add(n, where, s_is)
            g = gy / n
            gx, gs = x_is * g, s_is * g[where]
        else:
            gx, gs = self._prod_grads(gy)
        if not self.include_self:
            gx = gx.copy() if gx is gy else gx
            gx[self.hit] = 0
        gsrc = None
        if self.needs_input_grad[1]:
            gsrc = xp.zeros(self.src_shape, dtype=gy.dtype)
            gsrc[_leading(self.index_shape)] = gs
        return gx, gsrc, None

    def _prod_grads(self, gy):
        """'prod': each factor's gradient is ∂L/∂y times the product of the other factors at
        its place, torch's way (FunctionsManual's scatter_reduce_backward), so that zeros
        are exact: x's zeros count as 1 in a second product; a src value that is its place's
        only zero src takes the product with it counted as 1; otherwise ∂L/∂y·y / src."""
        xp = get_array_module(gy)
        x, s, y, where, hit, inc = self.x, self.s, self.y, self.where, self.hit, self.include_self
        x1 = xp.where(x == 0, xp.ones((), x.dtype), x)
        gx = gy * _product(x1, where, s, hit, inc, xp) / x1
        s_zero = s == 0
        zeros = xp.zeros(y.shape, dtype=gy.dtype)
        scatter_add(zeros, where, s_zero.astype(gy.dtype))
        lone = s_zero & (zeros[where] == 1)
        s1 = xp.where(lone, xp.ones((), s.dtype), s)
        with_one = (gy * _product(x, where, s1, hit, inc, xp))[where]
        gs = xp.where(lone, with_one, (gy * y)[where] / xp.where(s_zero, xp.ones((), s.dtype), s))
        return gx, gs


def _product(x, where, s, hit, include_self, xp):
    """The forward's 'prod': x's places multiplied by the src values scattered there (x's own
    value left out at hit places without include_self)."""
    y = x.copy()
    if not include_self:
        y[hit] = 1
    ufunc_at("multiply", y, where, s)
    return y


def _identity(reduce: str, dtype, xp):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -float("inf") if reduce == "amax" else float("inf")
    if dtype.kind == "b":
        return reduce == "amin"
    info = xp.iinfo(dtype)
    return info.min if reduce == "amax" else info.max
