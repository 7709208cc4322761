"""Reductions, scans, sorting and counting where ember used to differ from torch 2.13 (found by
fuzzing both side by side): dims named twice, dim=() (every dim), empty named dims, tuple dims
where torch takes one int, both unbiased and correction, torch's error classes for integer and
bool inputs, the gradients of prod (nan, inf, empty), of cumprod along a size-1 dim, of var
with correction ≥ N and of quantile in q, and the argument checks of diff, bincount, histc,
searchsorted and bucketize."""

import numpy as np
import pytest

import ember

X = np.array([[1.0, -2.0, 3.5, 0.5], [4.0, 2.0, -1.0, 7.0], [0.25, 5.0, 6.0, -3.0]])


def _both(torch, make, cls):
    """make(lib) raises cls under torch and under ember."""
    with pytest.raises(cls):
        make(torch)
    with pytest.raises(cls):
        make(ember)


def _grad(lib, fn, a, *extra):
    """(value, ∂(Σ w·fn(x))/∂x) for x = a as float64, w a fixed non-uniform weight."""
    x = lib.tensor(a).requires_grad_()
    y = fn(lib, x, *extra)
    w = lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
    (g,) = lib.autograd.grad((y * w).sum(), x)
    return y.detach().numpy(), g.numpy()


def _same_grad(torch, fn, a, *extra):
    tv, tg = _grad(torch, fn, a, *extra)
    ev, eg = _grad(ember, fn, a, *extra)
    np.testing.assert_allclose(ev, tv, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(eg, tg, rtol=1e-12, equal_nan=True)


# ------------------------------------------------------------ dims
DUPLICATE_DIMS = {
    "sum": lambda m, x: m.sum(x, (0, 0)),
    "mean": lambda m, x: m.mean(x, (1, -1)),
    "var": lambda m, x: m.var(x, (0, -2)),
    "std": lambda m, x: m.std(x, (0, 0)),
    "nansum": lambda m, x: m.nansum(x, (0, 0)),
    "amax": lambda m, x: m.amax(x, (1, 1)),
    "logsumexp": lambda m, x: m.logsumexp(x, (0, 0)),
    "count_nonzero": lambda m, x: m.count_nonzero(x, (0, -2)),
}


@pytest.mark.parametrize("name", DUPLICATE_DIMS)
def test_a_dim_named_twice_is_refused_alike(torch, name):
    _both(torch, lambda m: DUPLICATE_DIMS[name](m, m.tensor(X)), RuntimeError)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_dim_empty_tuple_reduces_every_dim(torch, name, keepdim):
    want = getattr(torch, name)(torch.tensor(X), (), keepdim=keepdim)
    got = getattr(ember, name)(ember.tensor(X), (), keepdim=keepdim)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_logsumexp_dim_empty_tuple_reduces_every_dim_and_dim_none_is_refused(torch):
    want = torch.logsumexp(torch.tensor(X), (), keepdim=True)
    got = ember.logsumexp(ember.tensor(X), (), keepdim=True)
    assert tuple(got.shape) == tuple(want.shape) == (1, 1)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    _both(torch, lambda m: m.logsumexp(m.tensor(X), None), TypeError)


@pytest.mark.parametrize("name", ["amax", "amin", "aminmax"])
def test_extremes_over_an_empty_named_dim_raise_index_error(torch, name):
    def make(m):
        x = m.ones(2, 0, 3)
        return m.aminmax(x, dim=1) if name == "aminmax" else getattr(m, name)(x, 1)

    _both(torch, make, IndexError)
    _both(torch, lambda m: getattr(m, name)(m.ones(2, 0, 3)), RuntimeError)


@pytest.mark.parametrize("name", ["max", "min", "aminmax"])
def test_max_min_aminmax_take_one_int_dim(torch, name):
    def make(m):
        x = m.tensor(X)
        return m.aminmax(x, dim=(0, 1)) if name == "aminmax" else getattr(m, name)(x, (0, 1))

    _both(torch, make, TypeError)


@pytest.mark.parametrize("name", ["var", "std"])
def test_unbiased_and_correction_together_are_refused(torch, name):
    _both(torch, lambda m: getattr(m, name)(m.tensor(X), 0, True, correction=0), TypeError)


# ------------------------------------------------------------ gradients
@pytest.mark.parametrize(
    "a",
    [
        np.array([3.0, np.nan, 2.0]),
        np.array([np.inf, 2.0]),
        np.array([1e200, 1e200, 1e-300]),
        np.array([0.0, 0.0, np.nan]),
        np.array([[2.0, np.inf, 2.0], [1.0, 0.0, 3.0]]),
        np.array([[2.0, np.nan, 2.0], [1.0, 4.0, 3.0]]),
        np.zeros((0,)),
        np.zeros((2, 0)),
    ],
)
@pytest.mark.parametrize("dim", [None, -1])
def test_prod_gradient_as_torch(torch, a, dim):
    _same_grad(torch, lambda m, x: m.prod(x) if dim is None else m.prod(x, dim), a)


def test_cumprod_gradient_along_a_size_one_dim_passes_through(torch):
    a = np.array([[1.0], [np.nan], [3.0]])
    _same_grad(torch, lambda m, x: m.cumprod(x, 1), a)
    _same_grad(torch, lambda m, x: m.cumprod(x, 0), np.array(np.nan))


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("correction", [3, 5])
def test_spread_gradient_with_correction_at_or_past_n(torch, name, correction):
    a = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]])
    with np.errstate(all="ignore"):
        _same_grad(torch, lambda m, x: getattr(m, name)(x, 1, correction=correction), a)


@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_linear_quantile_gradient_reaches_q(torch, fn, dim):
    a = X.copy()
    a[1, 2] = np.nan  # a nan row: quantile's rank does not follow q there (slope 0)
    qv = np.array([0.2, 0.55, 0.9])
    grads = []
    for lib in (torch, ember):
        x, q = lib.tensor(a).requires_grad_(), lib.tensor(qv).requires_grad_()
        y = getattr(lib, fn)(x, q, dim=dim)
        w = lib.tensor(np.sin(np.arange(y.numel()) + 1.0).reshape(tuple(y.shape)))
        grads.append([g.numpy() for g in lib.autograd.grad((y * w).sum(), [x, q])])
    for want, got in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


# ------------------------------------------------------------ dtypes refused
@pytest.mark.parametrize(
    "name, cls",
    [
        ("nanmean", RuntimeError),
        ("logcumsumexp", NotImplementedError),
        ("histc", NotImplementedError),
    ],
)
def test_integer_inputs_raise_torchs_class(torch, name, cls):
    args = {"logcumsumexp": (0,)}.get(name, ())
    _both(torch, lambda m: getattr(m, name)(m.tensor([1, 2]), *args), cls)


def test_logcumsumexp_checks_the_dim_before_the_dtype(torch):
    _both(torch, lambda m: m.logcumsumexp(m.tensor([1, 2]), 3), IndexError)


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_bool_checks_the_dim_first(torch, name):
    _both(torch, lambda m: getattr(m, name)(m.tensor(True), 1), IndexError)
    _both(torch, lambda m: getattr(m, name)(m.zeros(0, dtype=m.bool), 0), IndexError)
    _both(torch, lambda m: getattr(m, name)(m.tensor([True, False]), 0), NotImplementedError)


def test_topk_and_kthvalue_of_bool_are_refused(torch):
    _both(torch, lambda m: m.topk(m.tensor([True, False, True]), 2), RuntimeError)
    _both(torch, lambda m: m.topk(m.tensor(True), 1), RuntimeError)
    _both(torch, lambda m: m.kthvalue(m.tensor([True, False]), 1), NotImplementedError)
    want = torch.kthvalue(torch.tensor(True), 1)  # a 0-d tensor is its own k-th value
    got = ember.kthvalue(ember.tensor(True), 1)
    assert bool(got.values) == bool(want.values) and int(got.indices) == int(want.indices) == 0


# ------------------------------------------------------------ argument checks
def test_quantile_argument_errors_are_runtime_errors(torch):
    _both(torch, lambda m: m.quantile(m.tensor(X), 1.5), RuntimeError)
    _both(torch, lambda m: m.quantile(m.tensor(X), 0.5, interpolation="cubic"), RuntimeError)
    _both(torch, lambda m: m.quantile(m.tensor(X), m.tensor([[0.5]])), RuntimeError)
    q32 = np.array([0.5], np.float32)  # q in another dtype than the input
    _both(torch, lambda m: m.quantile(m.tensor(X), m.tensor(q32)), RuntimeError)


def test_diff_prepend_and_append_are_checked(torch):
    _both(torch, lambda m: m.diff(m.tensor(X), prepend=1.5), TypeError)
    _both(torch, lambda m: m.diff(m.tensor(X), prepend=m.tensor(0.0)), RuntimeError)
    _both(torch, lambda m: m.diff(m.tensor(X), append=m.ones(4)), RuntimeError)
    _both(torch, lambda m: m.diff(m.tensor(X), prepend=m.ones(2, 4)), RuntimeError)
    _both(torch, lambda m: m.diff(m.tensor(X), -1), RuntimeError)
    want = torch.diff(torch.tensor(X), prepend=torch.ones(3, 2, dtype=torch.int64))
    got = ember.diff(ember.tensor(X), prepend=ember.ones(3, 2, dtype=ember.int64))
    np.testing.assert_allclose(got.numpy(), want.numpy())


def test_bincount_argument_errors_and_empty_weighted_dtype(torch):
    _both(torch, lambda m: m.bincount(m.tensor([True, False])), NotImplementedError)
    _both(torch, lambda m: m.bincount(m.tensor([1.0, 2.0])), NotImplementedError)
    _both(torch, lambda m: m.bincount(m.tensor([[1, 2]])), RuntimeError)
    _both(torch, lambda m: m.bincount(m.tensor([1, -2])), RuntimeError)
    _both(torch, lambda m: m.bincount(m.tensor([1, 2]), minlength=-1), RuntimeError)
    _both(torch, lambda m: m.bincount(m.tensor([1, 2]), m.tensor([1.0, 2.0, 3.0])), RuntimeError)
    for wdt in ("float32", "float64"):
        args = [
            (m, m.zeros(0, dtype=m.int64), m.zeros(0, dtype=getattr(m, wdt)))
            for m in (torch, ember)
        ]
        want, got = (m.bincount(i, w, minlength=3) for m, i, w in args)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1] == "int64"
        assert got.tolist() == want.tolist()


def test_histc_argument_errors_are_runtime_errors(torch):
    _both(torch, lambda m: m.histc(m.tensor(X), 0), RuntimeError)
    _both(torch, lambda m: m.histc(m.tensor(X), 3, 2, -2), RuntimeError)
    _both(torch, lambda m: m.histc(m.tensor(X), 3, 0, float("inf")), RuntimeError)


SEARCH_ERRORS = {
    "side": lambda m, s, v: m.searchsorted(s, v, side="middle"),
    "side_vs_right": lambda m, s, v: m.searchsorted(s, v, right=True, side="left"),
    "leading_dims": lambda m, s, v: m.searchsorted(s.expand(2, 4), v),
    "sorter_shape": lambda m, s, v: m.searchsorted(s, v, sorter=m.tensor([0, 1, 2])),
    "sorter_range": lambda m, s, v: m.searchsorted(s, v, sorter=m.tensor([0, 1, 2, 7])),
    "sorter_dtype": lambda m, s, v: m.searchsorted(s, v, sorter=m.tensor([0.0, 1, 2, 3])),
    "zero_dim_sequence": lambda m, s, v: m.searchsorted(m.tensor(1.0), v),
    "bucketize_2d": lambda m, s, v: m.bucketize(v, v.sort(-1).values),
}


@pytest.mark.parametrize("name", SEARCH_ERRORS)
def test_searchsorted_argument_errors_are_runtime_errors(torch, name):
    def make(m):
        return SEARCH_ERRORS[name](m, m.tensor([1.0, 3.0, 5.0, 7.0]), m.tensor(X))

    _both(torch, make, RuntimeError)


def test_tensor_sum_over_a_tuple_of_dims_still_reduces_them(torch):
    for lib in (ember, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)
        assert x.sum(dim=(1,)).tolist() == [3.0, 7.0] and x.mean((0, 1)).item() == 2.5
