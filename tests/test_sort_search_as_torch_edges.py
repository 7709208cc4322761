"""Sorting, searching, set and cumulative operations where ember used to differ from torch 2.13
(found by fuzzing both side by side): the order in which quantile and nanquantile check their
arguments, and their refusal of float16; searchsorted's and isin's refusal of bools;
histogram's of float16; cumsum/cumprod into an out of another dtype, and to bool where there
is nothing to scan; cummax/cummin of an empty tensor; the gradients of cumprod past a zero and
of a 0-d logcumsumexp; the median of no element."""

import functools

import numpy as np
import pytest

import ember

X = np.array([[1.0, -2.0, 3.5, 0.5], [4.0, 2.0, -1.0, 7.0], [0.25, 5.0, 6.0, -3.0]])


def _quantile_mistakes(lib):
    """Each call makes two mistakes; torch names the first of its checks."""
    x, e = lib.tensor(X), lib.zeros(0, 3, dtype=lib.float64)
    h, q64 = lib.tensor(X, dtype=lib.float16), lib.tensor([0.5], dtype=lib.float64)
    return [
        ("float16 input", lambda: lib.quantile(h, 0.5), RuntimeError),
        ("float16 input, dim out of range", lambda: lib.quantile(h, 0.5, dim=5), RuntimeError),
        ("float16 nanquantile", lambda: lib.nanquantile(h, 0.5), RuntimeError),
        ("empty input, dim out of range", lambda: lib.quantile(e, 0.5, dim=5), RuntimeError),
        (
            "empty input, bad interpolation",
            lambda: lib.quantile(e, 0.5, 0, False, interpolation="cubic"),
            RuntimeError,
        ),
        (
            "q out of range, bad interpolation",
            lambda: lib.nanquantile(x, 2.0, interpolation="cubic"),
            RuntimeError,
        ),
        (
            "q tensor out of range, dim out of range",
            lambda: lib.quantile(x, lib.tensor([1.5], dtype=lib.float64), dim=5),
            IndexError,
        ),
        (
            "q tensor of nan",
            lambda: lib.nanquantile(x, lib.tensor([float("nan")], dtype=lib.float64)),
            RuntimeError,
        ),
        (
            "2-d q, float16 input",
            lambda: lib.quantile(h, lib.tensor([[0.5]], dtype=lib.float16)),
            RuntimeError,
        ),
        ("float16 input, q of another dtype", lambda: lib.quantile(h, q64), RuntimeError),
        (
            "int input, dim out of range",
            lambda: lib.quantile(lib.tensor([1, 2]), 0.5, 3),
            RuntimeError,
        ),
    ]


@pytest.mark.parametrize("k", range(11))
def test_quantile_checks_its_arguments_in_torchs_order(torch, k):
    (name, call, cls), (tname, tcall, _) = (
        _quantile_mistakes(ember)[k],
        _quantile_mistakes(torch)[k],
    )
    assert name == tname
    with pytest.raises(cls) as t_err:
        tcall()
    with pytest.raises(cls) as e_err:
        call()
    assert str(e_err.value).split("\n")[0] == str(t_err.value).split("\n")[0]


# ------------------------------------------------------------ searchsorted and bucketize
def _search_mistakes(lib):
    flags, rows = lib.tensor([False, True]), lib.zeros(2, 3)
    return [
        ("bool in bool", lambda: lib.searchsorted(flags, lib.tensor([True]))),
        ("bool bucketize", lambda: lib.bucketize(lib.tensor(True), flags)),
        ("0-d value in rows", lambda: lib.searchsorted(rows, lib.tensor(1.0))),
        ("number in rows", lambda: lib.searchsorted(rows, 1.0, right=True)),
    ]


@pytest.mark.parametrize(
    "k, cls",
    [(0, NotImplementedError), (1, NotImplementedError), (2, RuntimeError), (3, RuntimeError)],
)
def test_searchsorted_refuses_bools_and_a_scalar_in_rows(refused_alike, k, cls):
    refused_alike(_search_mistakes, k, cls)


# ------------------------------------------------------------ histograms
def _half_histograms(lib):
    x = lib.tensor([0.5, 1.0, 2.0], dtype=lib.float16)
    return [
        ("bins from the data", lambda: lib.histogram(x, 3)),
        ("as a method", lambda: x.histogram(3, density=True)),
        ("and a weight of another shape", lambda: lib.histogram(x, 2, weight=x[:2])),
    ]


@pytest.mark.parametrize("k", range(3))
def test_histogram_of_float16_over_the_datas_range_is_refused(refused_alike, k):
    """torch has no float16 kernel for the data's range; with range= or edges it counts."""
    refused_alike(_half_histograms, k, NotImplementedError)


HALF_HISTOGRAMS = {
    "histogram of no element": lambda m, x: m.histogram(x[:0, 0], 2),
    "histogramdd of no point": lambda m, x: m.histogramdd(x[:0], [3, 2]),
    "histogramdd with range=": lambda m, x: m.histogramdd(x, 2, range=[0.0, 4.0, -1.0, 6.0]),
    "histogramdd with edges": lambda m, x: m.histogramdd(
        x, [m.tensor([0.0, 1.0, 5.0], dtype=m.float16)] * 2, density=True
    ),
}


@pytest.mark.parametrize("name", HALF_HISTOGRAMS)
def test_float16_histograms_count_where_no_data_range_is_needed(torch, name):
    """torch refuses float16 only to find the data's range: with none to find (no element,
    range= or edges given) it counts (ember's histogramdd refused float16 always, histogram
    refused an empty input)."""
    x = np.array([[0.5, 1.0], [2.0, 3.0], [4.5, -0.5]], np.float16)
    got = HALF_HISTOGRAMS[name](ember, ember.tensor(x))
    want = HALF_HISTOGRAMS[name](torch, torch.tensor(x))
    _same_values(got.hist, want.hist)
    one = name.startswith("histogram ")  # histogram's bin_edges is a tensor, not a tuple
    for e, t in zip(*((r.bin_edges,) if one else r.bin_edges for r in (got, want))):
        _same_values(e, t)


# ------------------------------------------------------------ scans
def _same_values(got, want):
    assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("out_dtype", ["float64", "int64", "int8"])
def test_scans_with_out_run_in_outs_dtype(torch, name, out_dtype):
    """torch casts the input to out's dtype first: a float32 cumsum into float64 sums in
    float64 (not float32 rounded, then widened), into int64 sums the truncated values."""
    a = np.array([0.6, 0.6, 0.6, 1e8, -1e8, 0.1, -1.7], np.float32)
    results = []
    for lib in (ember, torch):
        out = lib.empty(0, dtype=getattr(lib, out_dtype))
        getattr(lib, name)(lib.tensor(a), 0, out=out)
        results.append(out)
    _same_values(*results)


def _scan_out_mistakes(lib):
    x, f64 = lib.tensor([1.5, 2.0]), lib.empty(0, dtype=lib.float64)
    return [
        ("bool out", lambda: lib.cumsum(x, 0, out=lib.empty(0, dtype=lib.bool))),
        ("bool out of cumprod", lambda: lib.cumprod(x, 0, out=lib.empty(0, dtype=lib.bool))),
        ("dtype= not out's", lambda: lib.cumsum(x, 0, dtype=lib.float32, out=f64)),
    ]


@pytest.mark.parametrize(
    "k, cls", [(0, NotImplementedError), (1, NotImplementedError), (2, RuntimeError)]
)
def test_scans_with_out_refuse_a_bool_out_and_a_dtype_not_outs(refused_alike, k, cls):
    refused_alike(_scan_out_mistakes, k, cls)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("shape", [(), (0,), (2, 0)])
def test_scans_to_bool_of_a_0d_or_empty_tensor_call_no_kernel(torch, name, shape):
    """torch has no bool scan kernel, and calls none where there is nothing to scan."""
    a = np.full(shape, 2.5)
    _same_values(
        getattr(ember, name)(ember.tensor(a), -1, dtype=ember.bool),
        getattr(torch, name)(torch.tensor(a), -1, dtype=torch.bool),
    )


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("shape, dim", [((0,), -2), ((0, 3), 5), ((2, 0), -3)])
def test_running_extremes_of_an_empty_tensor_ignore_the_dim(torch, name, shape, dim):
    """torch returns empty values and indices before it looks at the dim."""
    e = getattr(ember, name)(ember.zeros(*shape), dim)
    t = getattr(torch, name)(torch.zeros(*shape), dim)
    _same_values(e.values, t.values)
    _same_values(e.indices, t.indices)


def _grad(lib, fn, a):
    x = lib.tensor(a, requires_grad=True)
    y = fn(lib, x)
    w = lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
    (g,) = lib.autograd.grad((y * w).sum(), x)
    return g


INF, NAN = float("inf"), float("nan")
PAST_A_ZERO = [
    [0.5, 0.0, 0.0, -INF],
    [1.5, INF, 0.0, -2.0],
    [0.5, 0.0, INF, NAN],
    [1.5, 0.0, -2.0, -INF],
    [[-2.0, -INF, 0.0], [2.0, 3.0, 0.5]],
    [[0.0, 0.0, INF], [1.0, NAN, 0.0]],
]


def _cumprod(lib, x, dim):
    return lib.cumprod(x, dim)


@pytest.mark.parametrize("a", PAST_A_ZERO)
def test_cumprod_gradient_stops_at_the_zeros(torch, a):
    """An inf or nan past a zero makes nan products there; torch's sums stop where their terms
    are 0, so the elements before (and at) the first zero keep a number."""
    for dim in (-1, 0) if np.ndim(a) == 2 else (0,):
        scan = functools.partial(_cumprod, dim=dim)
        np.testing.assert_array_equal(
            _grad(ember, scan, np.array(a)).numpy(), _grad(torch, scan, np.array(a)).numpy()
        )


@pytest.mark.parametrize("v", [INF, -INF, NAN])
def test_logcumsumexp_of_a_0d_tensor_passes_the_gradient_on(torch, v):
    """y = x, and torch's backward returns the gradient as it came (the scan formula's
    e^{x − y} is nan at ±inf and nan)."""
    e = _grad(ember, lambda m, x: m.logcumsumexp(x, 0), np.array(v))
    t = _grad(torch, lambda m, x: m.logcumsumexp(x, 0), np.array(v))
    _same_values(e, t)


def _in_place_scans(lib):
    i32, f32, flags = lib.ones(3, dtype=lib.int32), lib.ones(3), lib.ones(3, dtype=lib.bool)
    return [
        ("int32 to int64", lambda: i32.cumsum_(0, dtype=lib.int64)),
        ("float32 to float64", lambda: f32.cumprod_(0, dtype=lib.float64)),
        ("0-d float32 to float64", lambda: lib.ones(()).cumsum_(0, dtype=lib.float64)),
        ("bool", lambda: flags.cumsum_(0)),
        ("bool cumprod", lambda: flags.cumprod_(-1)),
    ]


@pytest.mark.parametrize(
    "k, cls",
    [(0, RuntimeError), (1, RuntimeError), (2, RuntimeError)]
    + [(3, NotImplementedError), (4, NotImplementedError)],
)
def test_in_place_scans_keep_selfs_dtype(refused_alike, k, cls):
    """torch's in-place scan writes self: a dtype= other than self's is its 'Bad in-place
    call' (ember scanned in dtype and cast back), a bool self has no kernel (ember: its
    in-place cast error)."""
    refused_alike(_in_place_scans, k, cls)


@pytest.mark.parametrize("name", ["cumsum_", "cumprod_"])
def test_in_place_scan_of_a_0d_bool_is_itself(torch, name):
    e, t = ember.tensor(True), torch.tensor(True)
    assert getattr(e, name)(0) is e and getattr(t, name)(0) is t
    _same_values(e, t)


# ------------------------------------------------------------ order statistics and sets
@pytest.mark.parametrize("name", ["median", "nanmedian"])
@pytest.mark.parametrize("dtype", ["bool", "int8", "int16"])
def test_median_of_no_element_is_torchs_value(torch, name, dtype):
    """torch's nan converted to the dtype as its CPU converts it: 0 for 8 and 16 bits (ember
    gave the lowest value, right for 32 and 64 bits only), True for bool (no kernel is called,
    so bool is not refused)."""
    _same_values(
        getattr(ember, name)(ember.empty(0, dtype=getattr(ember, dtype))),
        getattr(torch, name)(torch.empty(0, dtype=getattr(torch, dtype))),
    )


def _isin_bools(lib):
    flags, ints = lib.tensor([True, False]), lib.tensor([1, 0])
    return [
        ("bool elements", lambda: lib.isin(flags, ints)),
        ("bool test elements", lambda: lib.isin(ints, flags)),
        ("a bool number", lambda: lib.isin(ints, True)),
        ("bool elements, a number", lambda: lib.isin(flags, 1, invert=True)),
        ("empty bools", lambda: lib.isin(flags[:0], flags[:0])),
    ]


@pytest.mark.parametrize("k", range(5))
def test_isin_refuses_bools(refused_alike, k):
    refused_alike(_isin_bools, k)


# ------------------------------------------------------------ out= of (values, indices)
def _exact_outs(lib):
    x, b = lib.tensor([1.0, 3.0, 2.0]), lib.tensor([0.0, 2.5])
    f64, i64, i32 = (lib.empty(0, dtype=getattr(lib, d)) for d in ("float64", "int64", "int32"))
    return [
        ("max values of another dtype", lambda: lib.max(x, 0, out=(f64, i64))),
        ("min indices int32", lambda: lib.min(x, 0, out=(lib.empty(0), i32))),
        ("median values of another dtype", lambda: lib.median(x, 0, out=(f64, i64))),
        ("nanmedian indices int32", lambda: lib.nanmedian(x, 0, out=(lib.empty(0), i32))),
        ("bucketize into float64", lambda: lib.bucketize(x, b, out=f64)),
        ("bucketize into int32", lambda: lib.bucketize(x, b, out=i32)),
    ]


@pytest.mark.parametrize("k", range(6))
def test_out_of_max_min_median_with_a_dim_and_of_bucketize_casts_nothing(refused_alike, k):
    """torch writes these outs as they are: another dtype is its RuntimeError (ember cast)."""
    refused_alike(_exact_outs, k)
