"""Scans and selections beyond reduce.py and scan.py: logcumsumexp; a value shared evenly among
the elements tied for it (median); and the array-only helpers behind cummax/cummin, median's
indices, histc and searchsorted (index and count arrays carry no gradient; the Tensor methods
gather their values through the differentiable ``Gather``, so the gradient goes to exactly the
elements those indices name, as torch's does).
"""

from __future__ import annotations

from ..backend import accumulate, errstate, get_array_module, xp
from ..errors import InputError, InputTypeError, KernelTypeError
from ..function import Function
from .complex_refuse import refuse_complex


class LogCumSumExp(Function):
    """y_k = log Σ_{j ≤ k} e^{x_j} along dim, as a running logaddexp (each step
    m + log(1 + e^{−|a−b|}): no overflow, and no underflow of early terms far below the
    running maximum, which one global shift by max(x) would flush to −inf).

    ∂L/∂x_i = Σ_{k ≥ i} ∂L/∂y_k · e^{x_i − y_k}. Summed in log space with the upstream gradient
    split by sign, g = g⁺ − g⁻ (torch's and TensorFlow's scheme):
        ∂L/∂x_i = e^{x_i + R⁺_i} − e^{x_i + R⁻_i},  R^±_i = log Σ_{k ≥ i} e^{log g^±_k − y_k},
    R^± a reversed running logaddexp, so no e^{−y_k} is ever formed (it overflows for y ≪ 0).

    Complex x (torch's forward, ``complex_logaddexp``): the gradient of the holomorphic y,
    ∂L/∂x_i = Σ_{k ≥ i} g_k·conj(e^{x_i − y_k}) = conj(e^{x_i + R_i}), R_i the reversed running
    complex logaddexp of log(ḡ_k) − y_k (no sign split: the phase is in the log).
    """

    def forward(self, x, dim):
        self.x, self.axis = x, dim
        scan = complex_logcumsumexp if x.dtype.kind == "c" else _real_scan
        self.y = y = scan(x, dim)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        x, y, d = self.x, self.y, self.axis
        if gy.dtype.kind == "c":  # complex x: torch's gradient, no sign split (ops/complex.py)
            with errstate(divide="ignore", invalid="ignore"):  # log 0 = −inf: no contribution
                r = xp.flip(complex_logcumsumexp(xp.flip(xp.log(gy.conj()) - y, d), d), d)
                return (xp.exp(x + r).conj(),)

        def reversed_running(a):  # R_i = log Σ_{k ≥ i} e^{a_k}
            return xp.flip(accumulate("logaddexp", xp.flip(a, d), d), d)

        log_g = xp.log(xp.where(gy == 0, 1, xp.abs(gy)))
        log_pos = xp.where(gy > 0, log_g, -xp.inf) - y
        log_neg = xp.where(gy < 0, log_g, -xp.inf) - y
        gx = xp.exp(x + reversed_running(log_pos)) - xp.exp(x + reversed_running(log_neg))
        return (gx,)


def _real_scan(x, dim):
    return accumulate("logaddexp", x, dim)


def complex_logaddexp(x, y):
    """log(e^x + e^y) for complex x, y as torch's kernel computes it: with lo, hi the operands
    of the smaller and larger real part (x is lo only where Re x < Re y), lo's and hi's own
    values as given,

        log(e^x + e^y) = hi + log1p(e^{lo − hi})

    (Im hi plus an angle in (−π, π], not reduced further); both real parts −inf gives lo,
    both +inf log(e^lo + e^hi), and a nan anywhere nan + nan·i."""
    xp = get_array_module(x)
    first = x.real < y.real
    lo, hi = xp.where(first, x, y), xp.where(first, y, x)
    with errstate(over="ignore", invalid="ignore"):
        out = xp.log1p(xp.exp(lo - hi)) + hi
        same_inf = ~xp.isfinite(lo.real) & (lo.real == hi.real)
        if same_inf.any():
            out = xp.where(
                same_inf, xp.where(lo.real < 0, lo, xp.log(xp.exp(lo) + xp.exp(hi))), out
            )
    return xp.where(xp.isnan(x) | xp.isnan(y), xp.asarray(complex(xp.nan, xp.nan), x.dtype), out)


def complex_logcumsumexp(x, dim: int):
    """y_k = complex_logaddexp(x_k, y_{k−1}) along dim from y_{−1} = −inf + 0i, torch's order
    (a Python loop over dim: NumPy has no complex logaddexp to accumulate)."""
    xp = get_array_module(x)
    xs = xp.moveaxis(x, dim, 0)
    out = xp.empty_like(xs)
    acc = xp.full(xs.shape[1:], complex(-xp.inf, 0), dtype=x.dtype)
    for k in range(xs.shape[0]):
        out[k] = acc = complex_logaddexp(xs[k], acc)
    return xp.moveaxis(out, 0, dim)


class EvenlyShared(Function):
    """y = v, a value that x holds (the median of all elements, say).

    ∂L/∂x_i = ∂L/∂y / |T| for i ∈ T = {i : x_i = v}, else 0 (T = the nan elements when v is
    nan): the gradient shared evenly among the elements tied for v, torch's rule for a value
    selected from the whole input.
    """

    def forward(self, x, value):
        self.x, self.v = x, value
        return value.copy()

    def backward(self, gy):
        xp = get_array_module(gy)
        x = self.x
        tied = xp.isnan(x) if xp.isnan(self.v) else x == self.v
        return (tied * (gy / tied.sum(dtype=gy.dtype)),)


class MaxAbs(Function):
    """y = ‖d‖_∞ = max_i |d_i| over the last axis (cdist's p = ∞).

    ∂y/∂d_i = sign(d_i) where |d_i| = y, else 0: every tied element gets the whole gradient,
    as torch's cdist sends it (amax, and torch's norm, split it among ties instead).
    """

    def forward(self, d):
        xp = get_array_module(d)
        self.d = d
        self.y = y = xp.abs(d).max(axis=-1, keepdims=True)
        return y[..., 0]

    def backward(self, gy):
        xp = get_array_module(gy)
        d = self.d
        return (gy[..., None] * xp.sign(d) * (xp.abs(d) == self.y),)


def _along(a, axis: int, n: int):
    """arange(n) shaped to broadcast along ``axis`` of ``a``."""
    xp = get_array_module(a)
    shape = [1] * a.ndim
    shape[axis] = n
    return xp.arange(n).reshape(shape)


def cum_extreme_indices(x, axis: int, largest: bool):
    """Where each running maximum (``largest``) or minimum of x along ``axis`` was found: the
    last index at or before i holding that value, and the last nan once a nan has been seen (it
    propagates), as torch's cummax/cummin (which test x ≥ running max, so a tie moves it).

    Position j is a candidate when x_j equals the running extreme at j (or is nan); the latest
    candidate so far is a running maximum of candidate positions. That candidate holds the
    extreme at i: a later change of the extreme would itself be a later candidate.
    """
    xp = get_array_module(x)
    run = accumulate("maximum" if largest else "minimum", x, axis)
    hit = x == run
    if x.dtype.kind in "fc":
        hit |= xp.isnan(x)
    pos = _along(x, axis, x.shape[axis])
    return accumulate("maximum", xp.where(hit, pos, 0), axis).astype(xp.int64)


def median_index(x, axis: int):
    """The index of the lower median along ``axis`` (keeping that axis, size 1): position
    ⌊(n − 1)/2⌋ of a stable sort (among equal values the same element torch's CPU kernel picks),
    or the first nan of a row that has one (its median is nan)."""
    xp = get_array_module(x)
    k = (x.shape[axis] - 1) // 2
    index = xp.take(xp.argsort(x, axis=axis, kind="stable"), [k], axis=axis)
    if x.dtype.kind in "fc":
        nan = xp.isnan(x)
        has_nan = nan.any(axis=axis, keepdims=True)
        if has_nan.any():
            index = xp.where(has_nan, xp.argmax(nan, axis=axis, keepdims=True), index)
    return index.astype(xp.int64)


def check_nonempty_reduction(name: str, dim: int, shape: tuple) -> None:
    """torch's median/nanmedian along a dim of size 0: an IndexError (other empty dims give an
    empty result)."""
    if len(shape) and -len(shape) <= dim < len(shape) and shape[dim] == 0:
        raise IndexError(
            f"{name}(): Expected reduction dim {dim % len(shape)} to have non-zero size."
        )


def empty_median(dtype):
    """The median of no elements: nan for floats; for integers and bool what torch shows, its
    nan converted as the CPU converts an invalid value: to the lowest int32 or int64, so those
    two get their lowest value, and 8- and 16-bit types (converted through int32, then cut) 0;
    True for bool (nan ≠ 0)."""
    if dtype.kind in "fc":
        return xp.asarray(xp.nan, dtype)
    if dtype.kind == "b":
        return xp.asarray(True)
    return xp.asarray(xp.iinfo(dtype).min if dtype.itemsize >= 4 else 0, dtype)


def quantile_positions(sorted_x, q, axis: int, interpolation: str, ignore_nan: bool = False):
    """(below, above, weight) for quantiles q (1-D) of rows sorted along ``axis`` (nan last):
    rank r = q·(n − 1) (n − 1 for a row holding a nan, so the quantile is nan, as torch); with
    ``ignore_nan``, r = q·(k − 1), k the row's non-nan count (r = 0 for a row of nan only), as
    torch.nanquantile. below = ⌊r⌋, above = ⌈r⌉, weight = r − ⌊r⌋ ('linear') or ½ ('midpoint');
    'lower', 'higher' and 'nearest' (round half to even) move r to an integer first, then
    below = above = r. Index arrays have sorted_x's shape with ``axis`` of size len(q); weight is
    None when no interpolation is needed."""
    xp = get_array_module(sorted_x)
    shape = [1] * sorted_x.ndim
    shape[axis] = q.size
    if ignore_nan:
        k = (~xp.isnan(sorted_x)).sum(axis=axis, keepdims=True)
        ranks = q.reshape(shape) * (k - 1).astype(sorted_x.dtype)  # in the input's dtype
        ranks = xp.where(ranks < 0, 0, ranks).astype(sorted_x.dtype, copy=False)
    else:
        n = sorted_x.shape[axis]
        ranks = (q * (n - 1)).reshape(shape)  # in the input's dtype, as torch computes it
        if sorted_x.dtype.kind in "fc":
            has_nan = xp.isnan(sorted_x).any(axis=axis, keepdims=True)
            ranks = xp.where(has_nan, n - 1, ranks).astype(sorted_x.dtype, copy=False)
        target = list(sorted_x.shape)
        target[axis] = q.size
        ranks = xp.broadcast_to(ranks, target)
    move = {"lower": xp.floor, "higher": xp.ceil, "nearest": xp.round}.get(interpolation)
    if move is not None:
        ranks = move(ranks)
    below = xp.floor(ranks).astype(xp.int64)
    if interpolation not in ("linear", "midpoint"):
        return below, below, None
    above = xp.ceil(ranks).astype(xp.int64)
    weight = xp.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
    return below, above, weight.astype(sorted_x.dtype, copy=False)


def histc_counts(x, bins: int, lo: float, hi: float):
    """Counts of x's elements in ``bins`` equal bins over [lo, hi], as torch.histc computes them:
    bin = ⌊(x − lo)·bins/(hi − lo)⌋ in x's dtype, x = hi in the last bin; elements outside
    [lo, hi] (and nan) are not counted. Returned in x's dtype."""
    xp = get_array_module(x)
    t = x.dtype.type
    lo, hi = t(lo), t(hi)
    flat = x.reshape(-1)
    v = flat[(flat >= lo) & (flat <= hi)]
    pos = ((v - lo) * t(bins) / (hi - lo)).astype(xp.int64)
    pos = xp.minimum(pos, bins - 1)
    return xp.bincount(pos, minlength=bins).astype(x.dtype)


def bincount_counts(x, w, minlength: int):
    """torch.bincount of the array x (weights w or None), with torch's checks: no bool or
    floating kernel (NotImplementedError), a 1-D non-negative x, minlength ≥ 0 and w of x's
    shape (RuntimeError). int64 counts; weighted sums float32 for float32 weights, else float64;
    an empty x gives int64 zeros whatever the weights, as torch's."""
    xp = get_array_module(x)
    if x.dtype.kind not in "iu":
        raise KernelTypeError(
            f'"bincount_cpu" not implemented for this dtype: bincount() expects integers, got'
            f" {x.dtype}"
        )
    if minlength < 0:
        raise InputError(f"bincount(): minlength should be >= 0, got {minlength}")
    if x.ndim != 1 or (x.size and x.min() < 0):
        raise InputError(
            "bincount only supports 1-d non-negative integral inputs: bincount() expects a 1-D"
            f" tensor of non-negative integers, got shape {tuple(x.shape)}"
        )
    if w is None or x.size == 0:
        return xp.bincount(x, minlength=minlength).astype(xp.int64)
    if w.shape != x.shape:
        raise InputError(
            "weights should be 1-d and have the same length as input: input"
            f" {tuple(x.shape)}, weights {tuple(w.shape)}"
        )
    out = xp.bincount(x, weights=w, minlength=minlength)
    return out.astype(w.dtype if w.dtype == xp.float32 else xp.float64)


def check_sorter(sorter, shape: tuple):
    """torch.searchsorted's sorter checks (each its RuntimeError): int64, the sequence's
    shape, every index within the innermost dim. Returns the sorter."""
    if sorter.dtype != "int64":
        raise InputTypeError(f"searchsorted(): sorter must be an int64 tensor, got {sorter.dtype}")
    if sorter.shape != tuple(shape):
        raise InputError(
            f"searchsorted(): sorter must have the shape of sorted_sequence {tuple(shape)}, got"
            f" {sorter.shape}"
        )
    if sorter.size and (sorter.min() < 0 or sorter.max() >= shape[-1]):
        raise InputError(f"searchsorted(): sorter index out of range [0, {shape[-1]})")
    return sorter


def searchsorted_rows(seq, values, side: str, sorter=None):
    """Insertion indices of ``values`` into ``seq`` (sorted along its last dim, or sorted by
    ``sorter``): one sequence for every value when seq is 1-D, else row by row (seq's leading
    dims equal values' leading dims). int64. Complex input is refused, as torch does (the
    sort needs an order); torch.bucketize comes here too.

    Rows at once, without a loop: each row's values and sequence are sorted together (one
    stable sort along the last axis, values placed before equal sequence entries for 'left'
    and after them for 'right'); a value's index is then the number of sequence entries that
    precede it in its row's merged order.
    """
    for a in (seq, values):
        refuse_complex(a, "searchsorted", NotImplementedError)
    xp = get_array_module(seq)
    if seq.ndim == 1:
        return xp.asarray(xp.searchsorted(seq, values, side=side, sorter=sorter), dtype=xp.int64)
    n, m = seq.shape[-1], values.shape[-1]
    if not (seq.size and values.size):  # empty rows: every value goes first (or none is asked)
        return xp.zeros(values.shape, dtype=xp.int64)
    rows, vals = seq.reshape(-1, n), values.reshape(-1, m)
    if sorter is not None:
        rows = xp.take_along_axis(rows, sorter.reshape(-1, n), axis=-1)
    dtype = xp.result_type(rows, vals)
    if side == "left":  # values first: among equal keys a value sorts before the sequence
        merged, is_value = xp.concatenate([vals, rows], axis=-1, dtype=dtype), lambda o: o < m
    else:
        merged, is_value = xp.concatenate([rows, vals], axis=-1, dtype=dtype), lambda o: o >= n
    order = xp.argsort(merged, axis=-1, kind="stable")
    value_here = is_value(order)
    seq_before = xp.cumsum(~value_here, axis=-1)  # sequence entries up to each position
    out = xp.empty(vals.shape, dtype=xp.int64)
    r, pos = xp.nonzero(value_here)
    slot = order[r, pos] - (0 if side == "left" else n)  # which value sits at that position
    out[r, slot] = seq_before[r, pos]
    return out.reshape(values.shape)
