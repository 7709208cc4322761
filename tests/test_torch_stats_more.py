"""mode, nanmedian, nanquantile, unique_consecutive, histogram, isin, cov, corrcoef, trapezoid,
cumulative_trapezoid, combinations, vander and renorm against torch: outputs and the gradients
of a weighted sum (float32 and float64), gradcheck of each differentiable one (float64), the
Tensor method forms, and the errors for bad input."""

import warnings

import numpy as np
import pytest

import ember
from tests.torch_pairs import DTYPES, check, leaves, rand, tol


def ints(*shape, high=4, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape)


def raises_like(torch, e_call, t_call):
    """ember raises the exception type and message torch raises."""
    with pytest.raises(Exception) as t_err:
        t_call()
    with pytest.raises(type(t_err.value)) as e_err:
        e_call()
    assert str(e_err.value).split("\n")[0] == str(t_err.value).split("\n")[0]


def gradcheck(fn, *arrays):
    assert ember.gradcheck(fn, tuple(ember.tensor(a, requires_grad=True) for a in arrays))


# ---------------------------------------------------------------- mode
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1, -3])
@pytest.mark.parametrize("keepdim", [False, True])
def test_mode_matches_torch(torch, dtype, dim, keepdim):
    # small rows (≤ 16): torch's sort is then stable, so its index is the last one of the mode
    x = (ints(4, 5, 6) - 1).astype(dtype)
    (e,), (t,) = leaves(torch, x)
    check(torch, ember.mode(e, dim, keepdim), torch.mode(t, dim, keepdim), [e], [t], dtype)


def test_mode_method_default_and_gradcheck(torch):
    x = ints(3, 7).astype(np.float64)
    e, t = ember.tensor(x), torch.tensor(x)
    out = e.mode()
    assert type(out).__name__ == "mode" and out._fields == ("values", "indices")
    check(torch, e.mode(), t.mode(), [], [], np.float64, grad=False)
    check(torch, e.mode(keepdim=True), t.mode(keepdim=True), [], [], np.float64, grad=False)
    check(torch, ember.mode(ember.tensor(3.0)), torch.mode(torch.tensor(3.0)), [], [], np.float64)
    check(torch, e.long().mode(0), t.long().mode(0), [], [], np.float64, grad=False)
    # distinct values: the mode is the smallest, stable under gradcheck's small steps
    gradcheck(lambda a: a.mode(1).values, rand(3, 7))
    x = np.round(rand(4, 6), 0)  # ties along dim 0
    (e,), (t,) = leaves(torch, x)
    check(torch, e.mode(0, True), t.mode(0, True), [e], [t], np.float64)


def test_mode_long_rows_pick_an_index_holding_the_mode(torch):
    """torch's index among tied elements of a long row depends on an unstable sort; ember
    picks the last; both hold the same value."""
    x = ints(3, 60, high=5)
    v, i = ember.mode(ember.tensor(x), 1)
    np.testing.assert_array_equal(v.array, torch.mode(torch.tensor(x), 1).values.numpy())
    np.testing.assert_array_equal(np.take_along_axis(x, i.array[:, None], 1)[:, 0], v.array)


def test_mode_errors(torch):
    raises_like(
        torch, lambda: ember.mode(ember.zeros(3, 4), 2), lambda: torch.mode(torch.zeros(3, 4), 2)
    )
    raises_like(
        torch, lambda: ember.mode(ember.zeros(2, 0), 1), lambda: torch.mode(torch.zeros(2, 0), 1)
    )


# ---------------------------------------------------------------- nanmedian
def with_nans(*shape, dtype=np.float64, seed=0):
    x = rand(*shape, dtype=dtype, seed=seed)
    x[np.random.default_rng(seed + 7).random(shape) < 0.3] = np.nan
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_nanmedian_dim_matches_torch(torch, dtype, dim, keepdim):
    x = with_nans(4, 5, 6, dtype=dtype)
    x[1, 1:4, 0] = np.nan
    x[2, 1, 1:] = np.nan
    (e,), (t,) = leaves(torch, x)
    check(
        torch, ember.nanmedian(e, dim, keepdim), torch.nanmedian(t, dim, keepdim), [e], [t], dtype
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["nans", "no nan", "ties", "all nan", "one"])
def test_nanmedian_all_matches_torch(torch, dtype, case):
    x = {
        "nans": with_nans(5, 6, dtype=dtype),
        "no nan": rand(3, 4, dtype=dtype),
        "ties": np.array([1, 2, 2, np.nan, 2, 3], dtype=dtype),
        "all nan": np.full((2, 3), np.nan, dtype=dtype),
        "one": np.array(4.0, dtype=dtype),
    }[case]
    (e,), (t,) = leaves(torch, x)
    check(torch, ember.nanmedian(e), torch.nanmedian(t), [e], [t], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nanmedian_rows_of_nan_only(torch, dtype):
    """A row of nan only: nan at index 0 (torch's index for longer rows of nan comes from an
    unstable selection, so short rows here)."""
    x = np.array([[np.nan, np.nan, np.nan], [2.0, np.nan, np.nan], [np.nan, 1.0, 3.0]], dtype)
    (e,), (t,) = leaves(torch, x)
    check(torch, ember.nanmedian(e, 1), torch.nanmedian(t, 1), [e], [t], dtype)
    (e,), (t,) = leaves(torch, x[:, :2].T.copy())
    check(torch, ember.nanmedian(e, 0, True), torch.nanmedian(t, 0, True), [e], [t], dtype)


def test_nanmedian_method_ints_and_gradcheck(torch):
    x = with_nans(4, 5)
    e, t = ember.tensor(x), torch.tensor(x)
    assert type(e.nanmedian(1)).__name__ == "nanmedian"
    check(torch, e.nanmedian(1, True), t.nanmedian(1, True), [], [], np.float64, grad=False)
    check(torch, e.nanmedian(), t.nanmedian(), [], [], np.float64, grad=False)
    xi = ints(4, 6, high=9)
    check(torch, ember.tensor(xi).nanmedian(0), torch.tensor(xi).nanmedian(0), [], [], np.float64)
    x0 = np.array(2.5)
    check(torch, ember.tensor(x0).nanmedian(0), torch.tensor(x0).nanmedian(0), [], [], np.float64)
    check(
        torch, ember.nanmedian(ember.zeros(0)), torch.nanmedian(torch.zeros(0)), [], [], np.float64
    )
    gradcheck(lambda a: a.nanmedian(0).values, with_nans(5, 4, seed=3))
    gradcheck(lambda a: a.nanmedian(), rand(3, 5))


def test_nanmedian_errors(torch):
    raises_like(
        torch,
        lambda: ember.nanmedian(ember.zeros(2, 0), 1),
        lambda: torch.nanmedian(torch.zeros(2, 0), 1),
    )
    raises_like(
        torch,
        lambda: ember.nanmedian(ember.zeros(2), 1),
        lambda: torch.nanmedian(torch.zeros(2), 1),
    )


# ---------------------------------------------------------------- nanquantile
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("q", [0.3, 1.0, [0.0, 0.25, 0.5, 0.9]])
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_nanquantile_matches_torch(torch, dtype, interpolation, q, dim, keepdim):
    x = with_nans(4, 7, dtype=dtype)
    x[1, :] = np.nan  # a row of nan only (nan quantiles)
    x[:, 2] = np.nan
    (e,), (t,) = leaves(torch, x)
    eq = ember.tensor(np.array(q, dtype=dtype)) if isinstance(q, list) else q
    tq = torch.tensor(np.array(q, dtype=dtype)) if isinstance(q, list) else q
    kw = dict(interpolation=interpolation)
    e_out = ember.nanquantile(e, eq, dim, keepdim, **kw)
    t_out = torch.nanquantile(t, tq, dim, keepdim, **kw)
    # torch sends nan rows' gradient nowhere useful either; compare on finite outputs only
    finite = np.isfinite(t_out.detach().numpy())
    np.testing.assert_array_equal(np.isfinite(e_out.array), finite)
    w = np.where(finite, rand(*t_out.shape, dtype=dtype, seed=5), 0).astype(dtype)
    check(
        torch,
        ember.where(ember.tensor(finite), e_out, 0.0) * ember.tensor(w),
        torch.where(torch.tensor(finite), t_out, 0.0) * torch.tensor(w),
        [e],
        [t],
        dtype,
    )


def test_nanquantile_without_nan_is_quantile_and_method_and_gradcheck(torch):
    x = rand(3, 6)
    e, t = ember.tensor(x), torch.tensor(x)
    np.testing.assert_allclose(e.nanquantile(0.4, 1).array, e.quantile(0.4, 1).array, rtol=1e-12)
    check(torch, e.nanquantile(0.7), t.nanquantile(0.7), [], [], np.float64)
    x0 = np.array(1.5)
    for q in (0.5, [0.2, 0.8]):
        eq = ember.tensor(np.array(q)) if isinstance(q, list) else q
        tq = torch.tensor(q, dtype=torch.float64) if isinstance(q, list) else q
        check(
            torch,
            ember.tensor(x0).nanquantile(eq, 0),
            torch.tensor(x0).nanquantile(tq, 0),
            [],
            [],
            np.float64,
        )
    xn = with_nans(4, 6, seed=2)
    xn[:, 0] = 1.0  # every row has a number
    gradcheck(lambda a: a.nanquantile(ember.tensor(np.array([0.1, 0.6])), 1), xn)
    gradcheck(lambda a: a.nanquantile(0.35), xn)


def test_nanquantile_errors(torch):
    x = rand(3, 4)
    e, t = ember.tensor(x), torch.tensor(x)
    raises_like(
        torch,
        lambda: ember.tensor([1, 2]).nanquantile(0.5),
        lambda: torch.tensor([1, 2]).nanquantile(0.5),
    )
    raises_like(torch, lambda: e.nanquantile(1.5), lambda: t.nanquantile(1.5))
    raises_like(
        torch,
        lambda: e.nanquantile(ember.tensor(np.full((2, 2), 0.5))),
        lambda: t.nanquantile(torch.full((2, 2), 0.5, dtype=torch.float64)),
    )
    raises_like(
        torch,
        lambda: e.nanquantile(0.5, interpolation="foo"),
        lambda: t.nanquantile(0.5, interpolation="foo"),
    )
    raises_like(
        torch, lambda: ember.zeros(0).nanquantile(0.5), lambda: torch.zeros(0).nanquantile(0.5)
    )
    raises_like(
        torch,
        lambda: e.nanquantile(ember.tensor(np.array([0.5], np.float32))),
        lambda: t.nanquantile(torch.tensor([0.5])),
    )
    raises_like(torch, lambda: e.nanquantile(0.5, 2), lambda: t.nanquantile(0.5, 2))


# ---------------------------------------------------------------- unique_consecutive
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("counts", [False, True])
def test_unique_consecutive_matches_torch(torch, dim, inverse, counts):
    x = np.array([[1, 1, 2], [1, 1, 2], [3, 1, 2], [3, 1, 2], [1, 1, 2]])
    x = np.repeat(x, [1, 2, 2], axis=1)  # runs along dim 1 as well
    e_out = ember.unique_consecutive(ember.tensor(x), inverse, counts, dim)
    t_out = torch.unique_consecutive(
        torch.tensor(x), return_inverse=inverse, return_counts=counts, dim=dim
    )
    assert isinstance(e_out, tuple) == isinstance(t_out, tuple)
    check(torch, e_out, t_out, [], [], np.float64, grad=False)


def test_unique_consecutive_floats_method_and_edges(torch):
    x = np.array([1.5, 1.5, np.nan, np.nan, 2.0, 1.5])
    for args in [(), (True, True)]:
        e_out = ember.tensor(x).unique_consecutive(*args)
        t_out = torch.tensor(x).unique_consecutive(*args)
        for a, b in zip(e_out if args else [e_out], t_out if args else [t_out]):
            np.testing.assert_array_equal(a.array, b.numpy())
    for x in [np.zeros(0), np.array(3)]:
        e_out = ember.unique_consecutive(ember.tensor(x), True, True)
        t_out = torch.unique_consecutive(torch.tensor(x), return_inverse=True, return_counts=True)
        check(torch, e_out, t_out, [], [], np.float64, grad=False)
    raises_like(
        torch,
        lambda: ember.tensor(x).unique_consecutive(dim=3),
        lambda: torch.tensor(x).unique_consecutive(dim=3),
    )


# ---------------------------------------------------------------- histogram
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bins", [1, 5, 13])
@pytest.mark.parametrize("range_", [None, (-1.0, 0.5), (0.3, 0.3)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("density", [False, True])
def test_histogram_matches_torch(torch, dtype, bins, range_, weighted, density):
    x = rand(6, 7, dtype=dtype)
    w = np.abs(rand(6, 7, dtype=dtype, seed=4)) if weighted else None
    e_out = ember.histogram(
        ember.tensor(x),
        bins,
        range=range_,
        density=density,
        weight=None if w is None else ember.tensor(w),
    )
    t_out = torch.histogram(
        torch.tensor(x),
        bins,
        range=range_,
        density=density,
        weight=None if w is None else torch.tensor(w),
    )
    assert type(e_out).__name__ == "histogram" and e_out._fields == ("hist", "bin_edges")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(torch, e_out, t_out, [], [], dtype, grad=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_histogram_edges_and_method(torch, dtype):
    x = rand(50, dtype=dtype)
    edges = np.array([-1.0, -0.2, 0.0, 0.7, 1.5], dtype=dtype)
    x[:3] = edges[[0, 2, 4]]  # on an edge: the bin to its right, the last edge the last bin
    e_out = ember.tensor(x).histogram(ember.tensor(edges))
    t_out = torch.tensor(x).histogram(torch.tensor(edges))
    check(torch, e_out, t_out, [], [], dtype, grad=False)
    e_out = ember.tensor(x).histogram(ember.tensor(edges), density=True)
    t_out = torch.tensor(x).histogram(torch.tensor(edges), density=True)
    check(torch, e_out, t_out, [], [], dtype, grad=False)
    for y in [np.zeros(0, dtype), np.full(4, 2.0, dtype)]:
        check(
            torch,
            ember.histogram(ember.tensor(y), 4),
            torch.histogram(torch.tensor(y), 4),
            [],
            [],
            dtype,
            grad=False,
        )


def test_histogram_errors(torch):
    x = rand(3, 4).astype(np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    cases = [
        (lambda m, a: m.histogram(a.long() if m is torch else a.astype(np.int64), 3)),
        (lambda m, a: m.histogram(a, 0)),
        (lambda m, a: m.histogram(a, 3, range=(2.0, 1.0))),
        (lambda m, a: m.histogram(a, 3, range=(0.0, float("inf")))),
        (lambda m, a: m.histogram(a, m.tensor(np.ones((2, 2), np.float32)))),
        (lambda m, a: m.histogram(a, m.tensor(np.ones(1, np.float32)))),
        (lambda m, a: m.histogram(a, m.tensor(np.arange(3.0)))),
        (lambda m, a: m.histogram(a, 3, weight=m.tensor(np.ones(3, np.float32)))),
        (lambda m, a: m.histogram(a, 3, weight=m.tensor(np.ones((3, 4))))),
    ]
    for case in cases:
        raises_like(torch, lambda c=case: c(ember, e), lambda c=case: c(torch, t))


# ---------------------------------------------------------------- isin
@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize("assume_unique", [False, True])
def test_isin_matches_torch(torch, invert, assume_unique):
    a, b = ints(3, 4, high=8), np.array([5, 1, 7])
    kw = dict(invert=invert, assume_unique=assume_unique)
    pairs = [(a, b), (a.astype(np.float32), b), (a, 3), (3, b), (a[0], b[:, None])]
    for x, y in pairs:
        ex, ey = (ember.tensor(v) if isinstance(v, np.ndarray) else v for v in (x, y))
        tx, ty = (torch.tensor(v) if isinstance(v, np.ndarray) else v for v in (x, y))
        check(
            torch,
            ember.isin(ex, ey, **kw),
            torch.isin(tx, ty, **kw),
            [],
            [],
            np.float64,
            grad=False,
        )


def test_isin_errors(torch):
    with pytest.raises(TypeError, match="isin"):
        torch.isin(1, 2)
    with pytest.raises(TypeError, match="isin"):
        ember.isin(1, 2)
    assert not hasattr(ember.Tensor, "isin") or hasattr(torch.Tensor, "isin")


# ---------------------------------------------------------------- cov and corrcoef
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 6), (6,), (1, 5), ()])
@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("weights", [None, "f", "a", "fa"])
def test_cov_matches_torch(torch, dtype, shape, correction, weights):
    x = rand(*shape, dtype=dtype)
    n = x.reshape(-1, x.shape[-1] if x.ndim else 1).shape[1]
    f = ints(n, high=4, seed=2) + (weights == "f")
    a = np.abs(rand(n, dtype=dtype, seed=3)) + 0.1
    (e, ea), (t, ta) = leaves(torch, x, a)
    kw_e = dict(correction=correction)
    kw_t = dict(correction=correction)
    if weights and "f" in weights:
        kw_e["fweights"], kw_t["fweights"] = ember.tensor(f), torch.tensor(f)
    if weights and "a" in weights:
        kw_e["aweights"], kw_t["aweights"] = ea, ta
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = torch.cov(t.clone() if t.ndim == 0 else t, **kw_t)  # torch's 0-d view of a leaf
        e_out = ember.cov(e, **kw_e)
    if not np.isfinite(t_out.detach().numpy()).all():  # no degrees of freedom: inf or nan
        np.testing.assert_array_equal(e_out.array, t_out.detach().numpy())
        return
    used = [e, ea] if weights and "a" in weights else [e]
    check(torch, e_out, t_out, used, [t, ta] if len(used) == 2 else [t], dtype)


def test_cov_method_ints_warning_and_gradcheck(torch):
    x = ints(3, 5, high=9)
    check(torch, ember.tensor(x).cov(), torch.tensor(x).cov(), [], [], np.float64, grad=False)
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        out = ember.cov(ember.tensor(3.0))
    assert np.isnan(out.array) and out.shape == ()
    a = np.abs(rand(5, seed=1)) + 0.2
    gradcheck(lambda x, w: x.cov(correction=1, aweights=w), rand(3, 5), a)
    gradcheck(lambda x: x.cov(fweights=ember.tensor([1, 2, 0, 3, 1])), rand(2, 5))


def test_cov_errors(torch):
    x = rand(3, 4)
    e, t = ember.tensor(x), torch.tensor(x)

    def both(**kw):
        raises_like(
            torch,
            lambda: e.cov(**{k: ember.tensor(v) for k, v in kw.items()}),
            lambda: t.cov(**{k: torch.tensor(v) for k, v in kw.items()}),
        )

    raises_like(
        torch, lambda: ember.cov(ember.zeros(2, 2, 2)), lambda: torch.cov(torch.zeros(2, 2, 2))
    )
    both(fweights=np.ones((2, 4), np.int64))
    both(fweights=np.ones(4, np.float32))
    both(fweights=np.ones(3, np.int64))
    both(fweights=-np.ones(4, np.int64))
    both(aweights=np.ones(4, np.int64))
    both(aweights=-np.ones(4))
    both(aweights=np.ones((2, 4)))
    both(aweights=np.ones(3))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 7), (7,), (1, 3), (2, 2)])
def test_corrcoef_matches_torch(torch, dtype, shape):
    (e,), (t,) = leaves(torch, rand(*shape, dtype=dtype))
    e_out, t_out = ember.corrcoef(e), torch.corrcoef(t)
    # the diagonal is 1 up to rounding, where torch's clamp may cut the (≈ 0) gradient
    off = ~np.eye(*t_out.shape, dtype=bool) if t_out.ndim == 2 else np.zeros((), bool)
    check(
        torch,
        e_out * ember.tensor(off.astype(dtype)),
        t_out * torch.tensor(off.astype(dtype)),
        [e],
        [t],
        dtype,
    )
    np.testing.assert_allclose(e_out.array, t_out.detach().numpy(), **tol(dtype))


def test_corrcoef_method_ints_and_gradcheck(torch):
    x = np.array([[0, 1, 2], [2, 1, 0], [1, 5, 2]])
    check(torch, ember.tensor(x).corrcoef(), torch.tensor(x).corrcoef(), [], [], np.float64)
    gradcheck(lambda a: a.corrcoef() * ember.tensor(1 - np.eye(3)), rand(3, 6))
    raises_like(
        torch,
        lambda: ember.corrcoef(ember.zeros(2, 2, 2)),
        lambda: torch.corrcoef(torch.zeros(2, 2, 2)),
    )


# ---------------------------------------------------------------- trapezoid
CUMS = ["trapezoid", "cumulative_trapezoid"]


@pytest.mark.parametrize("name", CUMS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("spacing", ["none", "dx", "x1d", "xfull", "xshort"])
def test_trapezoid_matches_torch(torch, name, dtype, dim, spacing):
    y = rand(3, 4, 5, dtype=dtype)
    xs = {
        "x1d": np.sort(rand(y.shape[dim], dtype=dtype, seed=1)),
        "xfull": rand(3, 4, 5, dtype=dtype, seed=1),
        "xshort": rand(4, 5, dtype=dtype, seed=1),
    }
    if spacing == "xshort" and dim == 0:  # x padded to (1, 4, 5): no differences along dim 0
        x = xs[spacing]
        raises_like(
            torch,
            lambda: getattr(ember, name)(ember.tensor(y), ember.tensor(x), dim=0),
            lambda: getattr(torch, name)(torch.tensor(y), torch.tensor(x), dim=0),
        )
        return
    if spacing in xs:
        (e, ex), (t, tx) = leaves(torch, y, xs[spacing])
        e_out = getattr(ember, name)(e, ex, dim=dim)
        t_out = getattr(torch, name)(t, tx, dim=dim)
        used = ([e, ex], [t, tx])
    else:
        (e,), (t,) = leaves(torch, y)
        kw = dict(dx=0.7) if spacing == "dx" else {}
        e_out = getattr(ember, name)(e, dim=dim, **kw)
        t_out = getattr(torch, name)(t, dim=dim, **kw)
        used = ([e], [t])
    check(torch, e_out, t_out, *used, dtype)


def test_trapezoid_shape_error_names_the_last_clashing_dim_as_torch(torch):
    y, x = np.zeros((2, 3, 4)), np.zeros((3, 4, 4))
    for name in ("trapezoid", "cumulative_trapezoid"):
        with pytest.raises(RuntimeError) as want:
            getattr(torch, name)(torch.tensor(y), torch.tensor(x))
        with pytest.raises(RuntimeError) as got:
            getattr(ember, name)(ember.tensor(y), ember.tensor(x))
        assert str(got.value) == str(want.value)


@pytest.mark.parametrize("name", CUMS)
def test_trapezoid_edges_ints_and_gradcheck(torch, name):
    ef, tf = getattr(ember, name), getattr(torch, name)
    for y in [np.zeros((3, 0)), np.ones((2, 1)), np.array([1, 5, 10]), np.array([[1, 2], [4, 9]])]:
        check(torch, ef(ember.tensor(y)), tf(torch.tensor(y)), [], [], np.float64, grad=False)
    y, x = np.array([1, 5, 10]), np.array([0, 2, 3])
    check(
        torch,
        ef(ember.tensor(y), ember.tensor(x)),
        tf(torch.tensor(y), torch.tensor(x)),
        [],
        [],
        np.float64,
    )
    check(torch, ef(ember.tensor(y), dx=2), tf(torch.tensor(y), dx=2), [], [], np.float64)
    gradcheck(lambda a, b: ef(a, b, dim=0), rand(4, 3), rand(4, seed=2))
    gradcheck(lambda a: ef(a, dx=0.3), rand(2, 5))
    raises_like(
        torch,
        lambda: ef(ember.zeros(3, 4), ember.zeros(3)),
        lambda: tf(torch.zeros(3, 4), torch.zeros(3)),
    )
    raises_like(
        torch, lambda: ef(ember.tensor([True, False])), lambda: tf(torch.tensor([True, False]))
    )
    raises_like(torch, lambda: ef(ember.zeros(3, 4), dim=2), lambda: tf(torch.zeros(3, 4), dim=2))
    assert not hasattr(torch.Tensor, name) and not hasattr(ember.Tensor, name)


# ---------------------------------------------------------------- combinations
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r", [0, 1, 2, 3, 5, 6])
@pytest.mark.parametrize("with_replacement", [False, True])
def test_combinations_matches_torch(torch, dtype, r, with_replacement):
    (e,), (t,) = leaves(torch, rand(5, dtype=dtype))
    e_out = ember.combinations(e, r, with_replacement)
    t_out = torch.combinations(t, r, with_replacement)
    check(torch, e_out, t_out, [e], [t], dtype, grad=e_out.array.size > 0)


def test_combinations_ints_gradcheck_and_errors(torch):
    check(
        torch,
        ember.combinations(ember.tensor([1, 2, 3, 4])),
        torch.combinations(torch.tensor([1, 2, 3, 4])),
        [],
        [],
        np.float64,
    )
    gradcheck(lambda a: ember.combinations(a, 3, with_replacement=True), rand(4))
    raises_like(
        torch,
        lambda: ember.combinations(ember.zeros(3, 4)),
        lambda: torch.combinations(torch.zeros(3, 4)),
    )
    raises_like(
        torch,
        lambda: ember.combinations(ember.zeros(3), -1),
        lambda: torch.combinations(torch.zeros(3), -1),
    )


# ---------------------------------------------------------------- vander
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N", [None, 0, 1, 2, 6])
@pytest.mark.parametrize("increasing", [False, True])
def test_vander_matches_torch(torch, dtype, N, increasing):  # noqa: N803
    x = rand(5, dtype=dtype)
    x[2] = 0.0  # the gradient at 0 is exact
    (e,), (t,) = leaves(torch, x)
    e_out, t_out = ember.vander(e, N, increasing), torch.vander(t, N, increasing)
    check(torch, e_out, t_out, [], [], dtype, grad=False)
    # torch's own vander cannot backpropagate (its cumprod writes into a slice in place):
    # the gradients are held to torch's x^j, whose pow gives x^0 the gradient 0
    n = len(x) if N is None else N
    powers = torch.arange(n) if increasing else torch.arange(n - 1, -1, -1)
    t_ref = t.unsqueeze(1) ** powers.to(t.dtype)
    check(torch, e_out, t_ref, [e], [t], dtype, grad=n > 1)


def test_vander_ints_gradcheck_and_errors(torch):
    for x in [np.array([1, 2, 3], np.int32), np.array([True, False])]:
        check(
            torch, ember.vander(ember.tensor(x)), torch.vander(torch.tensor(x)), [], [], np.float64
        )
    gradcheck(lambda a: ember.vander(a, 4), np.array([0.5, 0.0, -1.3]))
    raises_like(
        torch, lambda: ember.vander(ember.zeros(2, 2)), lambda: torch.vander(torch.zeros(2, 2))
    )
    raises_like(
        torch, lambda: ember.vander(ember.zeros(2), -1), lambda: torch.vander(torch.zeros(2), -1)
    )


# ---------------------------------------------------------------- renorm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [1, 2, 3.5, float("inf")])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("maxnorm", [0.0, 1.5, 100.0])
def test_renorm_matches_torch(torch, dtype, p, dim, maxnorm):
    (e,), (t,) = leaves(torch, rand(3, 4, 2, dtype=dtype))
    check(
        torch, ember.renorm(e, p, dim, maxnorm), torch.renorm(t, p, dim, maxnorm), [e], [t], dtype
    )


def test_renorm_method_inplace_gradcheck_and_errors(torch):
    x = rand(4, 3) * 2
    check(
        torch,
        ember.tensor(x).renorm(2, 0, 1.0),
        torch.tensor(x).renorm(2, 0, 1.0),
        [],
        [],
        np.float64,
    )
    e, t = ember.tensor(x), torch.tensor(x)
    assert e.renorm_(1, 1, 2.0) is e
    t.renorm_(1, 1, 2.0)
    np.testing.assert_allclose(e.array, t.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="renorm_"):
        ember.tensor(x, requires_grad=True).renorm_(2, 0, 1.0)
    gradcheck(lambda a: a.renorm(2, 1, 1.2), x)
    gradcheck(lambda a: a.renorm(3, 0, 0.5), x)
    e, t = ember.tensor(x), torch.tensor(x)
    raises_like(torch, lambda: e.renorm(0, 0, 1.0), lambda: t.renorm(0, 0, 1.0))
    raises_like(torch, lambda: e.renorm(-1, 0, 1.0), lambda: t.renorm(-1, 0, 1.0))
    raises_like(torch, lambda: e.renorm(2, 0, -1.0), lambda: t.renorm(2, 0, -1.0))
    raises_like(torch, lambda: e.renorm(2, 2, 1.0), lambda: t.renorm(2, 2, 1.0))
    raises_like(
        torch, lambda: ember.zeros(3).renorm(2, 0, 1.0), lambda: torch.zeros(3).renorm(2, 0, 1.0)
    )
    raises_like(
        torch,
        lambda: ember.tensor(ints(3, 2)).renorm(2, 0, 1.0),
        lambda: torch.tensor(ints(3, 2)).renorm(2, 0, 1.0),
    )


# ---------------------------------------------------------------- which names, where
def test_methods_where_torch_has_them(torch):
    names = [
        "mode",
        "nanmedian",
        "nanquantile",
        "unique_consecutive",
        "histogram",
        "isin",
        "cov",
        "corrcoef",
        "trapezoid",
        "cumulative_trapezoid",
        "combinations",
        "vander",
        "renorm",
    ]
    for name in names:
        assert name in ember.torch_stats_more.__all__ and callable(getattr(ember, name))
        assert hasattr(ember.Tensor, name) == hasattr(torch.Tensor, name), name
        assert hasattr(ember.Tensor, name + "_") == hasattr(torch.Tensor, name + "_"), name
