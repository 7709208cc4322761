"""ember.* functions for torch's further statistics and set functions (mode, nanmedian,
nanquantile, unique_consecutive, histogram, isin, cov, corrcoef, trapezoid,
cumulative_trapezoid, combinations, vander, renorm), as torch's top-level functions; ``__all__``
lists them.

Where torch.Tensor has the method (tensor_stats_more.py) the function is a thin wrapper over
it; isin, trapezoid, cumulative_trapezoid, combinations and vander, which torch has only here,
compose differentiable Tensor operations (isin carries no gradient).
"""

from __future__ import annotations

from .backend import xp
from .errors import InputTypeError
from .ops import shape as S
from .ops.complex_refuse import refuse_complex
from .ops.index_put import broadcast_shape
from .promotion import common_arrays
from .tensor import Tensor, apply, number_or_array
from .tensor_stats_more import wrap_dim
from .torch_shape import _t


# ------------------------------------------------------------ thin wrappers of Tensor methods
def mode(input, dim=-1, keepdim=False):  # noqa: A002
    """torch.mode: (values, indices) of the most frequent value along dim."""
    return _t(input).mode(dim, keepdim)


def nanmedian(input, dim=None, keepdim=False):  # noqa: A002
    """torch.nanmedian: the lower median ignoring nan; with dim, (values, indices)."""
    return _t(input).nanmedian(dim, keepdim)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear") -> Tensor:  # noqa: A002
    """torch.nanquantile: the q-th quantiles over dim of the non-nan elements."""
    return _t(input).nanquantile(q, dim, keepdim, interpolation=interpolation)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """torch.unique_consecutive: the first element of every run of equal consecutive elements."""
    return _t(input).unique_consecutive(return_inverse, return_counts, dim)


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    """torch.histogram: (hist, bin_edges) of input's values (100 equal bins unless told)."""
    return _t(input).histogram(bins, range=range, weight=weight, density=density)


def cov(input, *, correction=1, fweights=None, aweights=None) -> Tensor:  # noqa: A002
    """torch.cov: the covariance matrix of the rows (variables) over the columns (observations)."""
    return _t(input).cov(correction=correction, fweights=fweights, aweights=aweights)


def corrcoef(input) -> Tensor:  # noqa: A002
    """torch.corrcoef: R_ij = C_ij / √(C_ii·C_jj), C = cov(input)."""
    return _t(input).corrcoef()


def renorm(input, p, dim, maxnorm) -> Tensor:  # noqa: A002
    """torch.renorm: slices along dim with ‖x‖_p > maxnorm scaled to norm maxnorm."""
    return _t(input).renorm(p, dim, maxnorm)


# ------------------------------------------------------------ functions only
def isin(elements, test_elements, *, assume_unique=False, invert=False) -> Tensor:
    """torch.isin: True where an element of ``elements`` is in ``test_elements`` (no gradient)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(
            f"isin() received an invalid combination of arguments - got"
            f" ({type(elements).__name__}, {type(test_elements).__name__}), but expected one"
            " of the two to be a Tensor"
        )
    e, t = number_or_array(elements), number_or_array(test_elements)
    for a in (e, t):  # torch's RuntimeError: it sorts to search, and complex has no order
        refuse_complex(xp.asarray(a), "isin")
    for a in (e, t):  # torch has no bool kernel (a bool number too); also ember's TypeError
        if xp.asarray(a).dtype.kind == "b":
            raise InputTypeError("Unsupported input type encountered for isin(): Bool")
    e, t = common_arrays(e, t)  # matched in torch's result dtype
    return Tensor(xp.asarray(xp.isin(e, t, assume_unique=assume_unique, invert=invert)))


def _trapezoid_args(name: str, y, x, dx, dim):
    """y as a Tensor, dim wrapped, and the spacing: a number dx, or x's differences shaped to
    broadcast against y's (a 1-D x lies along dim; a shorter x gets leading 1s)."""
    if x is not None and dx is not None:
        raise TypeError(f"{name}() received both x and dx; give one of them")
    y = _t(y)
    d = wrap_dim(dim, y.ndim)
    x = None if x is None else _t(x)
    if y.array.dtype.kind == "b" or (x is not None and x.array.dtype.kind == "b"):
        which = "`y`" if x is None else "`x` or `y`"
        raise RuntimeError(f"{name}: received a bool input for {which}, but bool is not supported")
    if x is None:
        return y, d, 1 if dx is None else dx
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        shape = [1] * y.ndim
        shape[d] = x.shape[0]
        x = x.reshape(tuple(shape))
    elif x.ndim < y.ndim:
        x = x.reshape((1,) * (y.ndim - x.ndim) + x.shape)
    n = x.shape[d]
    step = x.narrow(d, 1, max(n - 1, 0)) - x.narrow(d, 0, max(n - 1, 0))
    pair = y.shape[:d] + (max(y.shape[d] - 1, 0),) + y.shape[d + 1 :]
    broadcast_shape(pair, step.shape)  # torch's error where they do not broadcast
    return y, d, step


def trapezoid(y, x=None, *, dx=None, dim=-1) -> Tensor:
    """torch.trapezoid: Σ_i (x_i − x_{i−1})/2 · (y_i + y_{i−1}) along dim (Δx = dx, default 1,
    when x is not given)."""
    y, d, step = _trapezoid_args("trapezoid", y, x, dx, dim)
    n = y.shape[d]
    if n == 0:
        shape = y.shape[:d] + y.shape[d + 1 :]
        return Tensor(xp.zeros(shape, y.array.dtype))
    if isinstance(step, Tensor):
        return ((y.narrow(d, 0, n - 1) + y.narrow(d, 1, n - 1)) * step).sum(d) / 2.0
    ends = y.narrow(d, 0, 1).squeeze(d) + y.narrow(d, n - 1, 1).squeeze(d)
    return (y.sum(d) - ends * 0.5) * step


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1) -> Tensor:
    """torch.cumulative_trapezoid: the running sums Σ_{i ≤ k} (x_i − x_{i−1})/2 · (y_i + y_{i−1})
    along dim (Δx = dx, default 1, when x is not given); one element fewer along dim."""
    y, d, step = _trapezoid_args("cumulative_trapezoid", y, x, dx, dim)
    n = y.shape[d]
    m = max(n - 1, 0)
    pair = y.narrow(d, 0, m) + y.narrow(d, min(1, n), m)
    if isinstance(step, Tensor):
        return (step * pair / 2.0).cumsum(d)
    return (step / 2.0 * pair).cumsum(d)


def combinations(input, r=2, with_replacement=False) -> Tensor:  # noqa: A002
    """torch.combinations: the length-r combinations of a 1-D tensor's elements, in
    itertools.combinations order (with_replacement: combinations_with_replacement), as rows."""
    x = _t(input)
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor(xp.zeros((0,), x.array.dtype))
    n = x.shape[0]
    grid = xp.indices((n,) * r).reshape(r, -1)  # every r-tuple of indices, lexicographic
    step = grid[1:] >= grid[:-1] if with_replacement else grid[1:] > grid[:-1]
    index = grid[:, step.all(axis=0)].T  # (m, r)
    return x.index_select(0, index.reshape(-1)).reshape(index.shape)


def vander(x, N=None, increasing=False) -> Tensor:  # noqa: N803 - torch's argument name
    """torch.vander: the Vandermonde matrix, column j = x^(N−1−j) (increasing: x^j), each power
    a running product so the gradient is exact at x = 0; integers become int64."""
    x = _t(x)
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x.array.dtype.kind in "biu":
        x = x.astype(xp.int64)
    ones = Tensor(xp.ones((x.shape[0], min(n, 1)), x.array.dtype))
    if n > 1:
        powers = x.unsqueeze(1).expand(x.shape[0], n - 1).cumprod(1)
        out = apply(S.Cat, ones, powers, axis=1)
    else:
        out = ones
    return out if increasing else out.flip(1)


__all__ = [
    "combinations",
    "corrcoef",
    "cov",
    "cumulative_trapezoid",
    "histogram",
    "isin",
    "mode",
    "nanmedian",
    "nanquantile",
    "renorm",
    "trapezoid",
    "unique_consecutive",
    "vander",
]
