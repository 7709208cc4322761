"""torch's further reductions and array functions (tensor_torch_reduce.py, torch_math.py,
torch_math_arrays.py) against torch: values, indices and gradients in float64 and float32 on
inputs with ties, nan and boundary values, float64 gradchecks, and torch's integer dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.core_reference import check_gradients, compare_same_code, randn

A = randn(3, 4, seed=1)
X3 = randn(2, 3, 4, seed=2)
TIES = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 0.0, 0.0], [5.0, -1.0, 5.0, 5.0]])
NANS = np.array([[1.0, np.nan, 2.0, 4.0], [np.nan, np.nan, np.nan, 1.0], [3.0, 0.5, -1.0, 2.0]])
ALLNAN = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, np.nan]])
SPREAD = np.array([[-1000.0, 0.0, 3.0, 1000.0, -5.0], [2.0, -np.inf, 1.0, 0.5, 700.0]])
RUN = np.array([[1.0, 3.0, 3.0, 2.0, 5.0, 5.0], [4.0, 1.0, 1.0, 2.0, 0.0, 0.0]])
RUN_NAN = np.array([1.0, np.nan, 3.0, np.nan, 5.0])
MED = np.array([[1.0, 2.0, 2.0, 2.0, 5.0], [3.0, 1.0, 3.0, 1.0, 3.0], [0.5, 4.0, -1.0, 2.0, 7.0]])
EVEN = randn(4, 6, seed=3)
QV = np.array([0.0, 0.1, 0.25, 0.5, 0.9, 1.0])


def _q(m, x):
    return m.tensor(QV, dtype=x.dtype)


# (id, call with m = ember or torch, inputs); tuples of (values, indices) compare both
SAME = [
    ("amax", lambda m, x: m.amax(x), [TIES]),
    ("amax_dim", lambda m, x: m.amax(x, 1), [TIES]),
    ("amax_dims_keep", lambda m, x: x.amax((0, 2), keepdim=True), [X3]),
    ("amin_dim", lambda m, x: x.amin(dim=-1), [TIES]),
    ("amin_all_ties", lambda m, x: m.amin(x, ()), [TIES]),
    ("aminmax", lambda m, x: tuple(m.aminmax(x)), [TIES]),
    ("aminmax_dim", lambda m, x: tuple(x.aminmax(dim=1, keepdim=True)), [TIES]),
    ("nansum", lambda m, x: m.nansum(x), [NANS]),
    ("nansum_dim", lambda m, x: x.nansum(1, keepdim=True), [NANS]),
    ("nanmean", lambda m, x: m.nanmean(x), [NANS]),
    ("nanmean_dim", lambda m, x: x.nanmean(dim=0), [NANS]),
    ("nansum_all_nan_row", lambda m, x: x.nansum(1), [ALLNAN]),
    ("var_mean", lambda m, x: m.var_mean(x), [A]),
    ("var_mean_dim", lambda m, x: m.var_mean(x, 1, correction=0, keepdim=True), [A]),
    ("var_mean_unbiased", lambda m, x: m.var_mean(x, (0, 2), False), [X3]),
    ("std_mean", lambda m, x: m.std_mean(x, dim=0), [A]),
    ("std_mean_correction", lambda m, x: m.std_mean(x, 2, correction=2), [X3]),
    ("logcumsumexp", lambda m, x: m.logcumsumexp(x, 1), [A]),
    ("logcumsumexp_dim0", lambda m, x: x.logcumsumexp(0), [X3]),
    ("logcumsumexp_spread", lambda m, x: m.logcumsumexp(x, -1), [SPREAD]),
    ("cummax", lambda m, x: tuple(m.cummax(x, 1)), [RUN]),
    ("cummax_dim0", lambda m, x: tuple(x.cummax(0)), [X3]),
    ("cummin", lambda m, x: tuple(m.cummin(x, 1)), [RUN]),
    ("cummax_nan", lambda m, x: tuple(m.cummax(x, 0)), [RUN_NAN]),
    ("cummin_nan", lambda m, x: tuple(x.cummin(0)), [RUN_NAN]),
    ("median", lambda m, x: m.median(x), [EVEN]),
    ("median_ties", lambda m, x: x.median(), [MED]),
    ("median_dim", lambda m, x: tuple(m.median(x, 1)), [MED]),
    ("median_dim_even", lambda m, x: tuple(x.median(0, keepdim=True)), [EVEN]),
    ("median_dim_nan", lambda m, x: tuple(m.median(x, 1)), [NANS]),
    ("median_nan", lambda m, x: m.median(x), [NANS]),
    ("quantile", lambda m, x: m.quantile(x, 0.3), [EVEN]),
    ("quantile_dim", lambda m, x: x.quantile(0.75, dim=1), [EVEN]),
    ("quantile_vector", lambda m, x: m.quantile(x, _q(m, x), dim=1), [EVEN]),
    ("quantile_vector_keep", lambda m, x: x.quantile(_q(m, x), 0, keepdim=True), [X3[0]]),
    ("quantile_all_keep", lambda m, x: m.quantile(x, _q(m, x), keepdim=True), [A]),
    ("quantile_scalar_keep", lambda m, x: m.quantile(x, 0.5, 2, True), [X3]),
    ("quantile_lower", lambda m, x: m.quantile(x, _q(m, x), 1, interpolation="lower"), [A]),
    ("quantile_higher", lambda m, x: x.quantile(_q(m, x), 1, interpolation="higher"), [A]),
    ("quantile_nearest", lambda m, x: m.quantile(x, _q(m, x), 1, interpolation="nearest"), [EVEN]),
    ("quantile_midpoint", lambda m, x: x.quantile(_q(m, x), 1, interpolation="midpoint"), [A]),
    ("quantile_ties", lambda m, x: m.quantile(x, _q(m, x), 1), [MED]),
    ("quantile_nan", lambda m, x: m.quantile(x, 0.4, 1), [NANS]),
    # arrays
    ("diff", lambda m, x: m.diff(x), [A]),
    ("diff_n2_dim0", lambda m, x: x.diff(2, 0), [X3[0]]),
    ("diff_prepend_append", lambda m, x, p, a: m.diff(x, 1, 1, p, a), [A, A[:, :2], A[:, :1]]),
    ("diff_n3", lambda m, x: m.diff(x, 3, -1), [X3]),
    ("tensor_split_sections", lambda m, x: m.tensor_split(x, 3, 1), [A]),
    ("tensor_split_more_than_size", lambda m, x: x.tensor_split(5, dim=0), [A]),
    ("tensor_split_indices", lambda m, x: m.tensor_split(x, [1, 3, 3, 9], dim=-1), [A]),
    ("tensor_split_indices_tensor", lambda m, x: x.tensor_split(m.tensor([2]), 1), [A]),
    ("trace", lambda m, x: m.trace(x), [A]),
    ("trace_square", lambda m, x: x.trace(), [EVEN[:4, :4]]),
    ("kron", lambda m, a, b: m.kron(a, b), [A[:2, :3], randn(2, 2, seed=9)]),
    ("kron_ranks", lambda m, a, b: a.kron(b), [X3[:, :2, :2], randn(3, 2, seed=9)]),
    ("cross", lambda m, a, b: m.cross(a, b, dim=1), [A[:, :3], randn(3, 3, seed=9)]),
    (
        "cross_dim0_broadcast",
        lambda m, a, b: a.cross(b, 0),
        [randn(3, 4, 2, seed=8), A[:, None, :2]],
    ),
    ("cross_default_dim", lambda m, a, b: m.cross(a, b), [randn(2, 3, 3, seed=8), A[None, :, :3]]),
    ("diagonal", lambda m, x: m.diagonal(x), [A]),
    ("diagonal_offset", lambda m, x: x.diagonal(1), [A]),
    ("diagonal_negative", lambda m, x: m.diagonal(x, -1), [A]),
    ("diagonal_dims", lambda m, x: x.diagonal(offset=-1, dim1=2, dim2=0), [X3]),
    ("diagonal_empty", lambda m, x: m.diagonal(x, 5), [A]),
    ("diag_embed", lambda m, x: m.diag_embed(x), [A]),
    ("diag_embed_offset", lambda m, x: x.diag_embed(2), [A]),
    ("diag_embed_dims", lambda m, x: m.diag_embed(x, -1, 0, 2), [A]),
    ("diag_embed_dims_swapped", lambda m, x: x.diag_embed(1, dim1=-1, dim2=0), [X3]),
    ("meshgrid", lambda m, a, b, c: m.meshgrid(a, b, c, indexing="ij"), [A[0], A[1, :3], A[2]]),
    ("meshgrid_xy", lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy"), [A[0], A[1, :3], A[2]]),
    ("meshgrid_list", lambda m, a, b: m.meshgrid([a, b], indexing="xy"), [A[0], A[1, :3]]),
    ("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), [A[0], A[1, :3]]),
    ("cartesian_prod_three", lambda m, a, b, c: m.cartesian_prod(a, b, c), [A[0], A[1], A[2]]),
    ("cdist", lambda m, a, b: m.cdist(a, b), [randn(5, 3, seed=1), randn(4, 3, seed=2)]),
    ("cdist_p1", lambda m, a, b: m.cdist(a, b, p=1), [randn(5, 3, seed=1), randn(4, 3, seed=2)]),
    ("cdist_p3", lambda m, a, b: m.cdist(a, b, 3.0), [randn(2, 5, 3, seed=1), randn(4, 3, seed=2)]),
    (
        "cdist_p_half",
        lambda m, a, b: m.cdist(a, b, 0.5),
        [randn(5, 3, seed=1), randn(4, 3, seed=2)],
    ),
    ("cdist_inf", lambda m, a, b: m.cdist(a, b, np.inf), [randn(5, 3, seed=1), randn(4, 3)]),
    ("cdist_same_points", lambda m, a: m.cdist(a, a), [randn(2, 4, 3, seed=3)]),
    ("cdist_inf_ties", lambda m, a, b: m.cdist(a, b, np.inf), [TIES[:, :2], TIES[:2, 2:]]),
]


@pytest.mark.parametrize("name,f,arrays", SAME, ids=[c[0] for c in SAME])
@pytest.mark.filterwarnings(
    "ignore:invalid value:RuntimeWarning", "ignore:Using torch.cross without:UserWarning"
)
def test_matches_torch(torch, name, f, arrays):
    """Outputs and gradients (where torch has any) in float64, then again in float32."""
    compare_same_code(torch, f, arrays)


GRADCHECK = [
    ("amax", lambda x: x.amax(1), [A]),
    ("aminmax", lambda x: tuple(x.aminmax(dim=0)), [A]),
    ("nansum", lambda x: x.nansum(0), [A]),
    ("nanmean", lambda x: x.nanmean(1), [A]),
    ("std_mean", lambda x: ember.std_mean(x, 1), [A]),
    ("logcumsumexp", lambda x: x.logcumsumexp(1), [A]),
    ("logcumsumexp_spread", lambda x: x.logcumsumexp(0), [A * 30]),
    ("cummax", lambda x: x.cummax(1).values, [A]),
    ("cummin", lambda x: x.cummin(0).values, [X3]),
    ("median", lambda x: x.median(), [A]),
    ("median_dim", lambda x: x.median(1).values, [EVEN]),
    ("quantile", lambda x: x.quantile(0.35, dim=1), [EVEN]),
    ("quantile_vector", lambda x: x.quantile(ember.tensor([0.2, 0.5], dtype=x.dtype)), [A]),
    ("diff", lambda x, p: x.diff(2, 0, prepend=p), [A, A[:1]]),
    ("tensor_split", lambda x: x.tensor_split(3, 1)[1], [A]),
    ("trace", lambda x: x.trace(), [A]),
    ("kron", lambda a, b: a.kron(b), [A[:2], randn(3, 2, seed=5)]),
    ("cross", lambda a, b: a.cross(b, 1), [A[:, :3], randn(1, 3, seed=5)]),
    ("diagonal", lambda x: x.diagonal(1, 0, 2), [X3]),
    ("diag_embed", lambda x: x.diag_embed(-1), [A]),
    ("meshgrid", lambda a, b: ember.meshgrid(a, b, indexing="xy"), [A[0], A[1]]),
    ("cartesian_prod", lambda a, b: ember.cartesian_prod(a, b), [A[0], A[1]]),
    ("cdist", lambda a, b: ember.cdist(a, b), [randn(4, 3, seed=1), randn(2, 3, seed=2)]),
    ("cdist_p1_5", lambda a, b: ember.cdist(a, b, 1.5), [randn(4, 3, seed=1), randn(2, 3)]),
    ("cdist_inf", lambda a, b: ember.cdist(a, b, np.inf), [randn(4, 3, seed=1), randn(2, 3)]),
]


@pytest.mark.parametrize("name,f,arrays", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_gradcheck(name, f, arrays):
    check_gradients(f, arrays)


def test_gradient_of_ties_as_torch(torch):
    """amax shares among ties; median without dim shares among the elements equal to it;
    cummax sends each value's gradient to its (last tied) index."""
    x = ember.tensor(TIES, requires_grad=True)
    x.amax().backward()
    assert x.grad.numpy()[2].tolist() == [1 / 3, 0.0, 1 / 3, 1 / 3]
    m = ember.tensor(MED, requires_grad=True)
    m.median().backward()
    t = torch.tensor(MED, requires_grad=True)
    t.median().backward()
    np.testing.assert_array_equal(m.grad.numpy(), t.grad.numpy())
    assert m.grad.numpy().tolist()[0] == [0.0, 0.25, 0.25, 0.25, 0.0]  # four 2s share it


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_dtypes_as_torch(torch, dtype):
    a = np.array([[3, 1, 4, 1], [5, 9, 2, 6], [0, 0, 7, 1]]).astype(dtype)
    e, t = ember.tensor(a), torch.tensor(a)
    pairs = [
        (e.amax(1), t.amax(1)),
        (e.nansum(), t.nansum()),
        (e.count_nonzero(0), t.count_nonzero(0)),
        (e.cummax(1).values, t.cummax(1).values),
        (e.cummin(0).indices, t.cummin(0).indices),
        (e.median(), t.median()),
        (e.median(1).indices, t.median(1).indices),
        (e.diff(), t.diff()),
        (e[:, :3].trace(), t[:, :3].trace()),
        (e.diagonal(), t.diagonal()),
    ]
    for k, (got, want) in enumerate(pairs):
        assert str(got.dtype) == str(want.dtype).removeprefix("torch."), k
        assert got.tolist() == want.tolist(), k


@pytest.mark.parametrize("name", ["nanmean", "logcumsumexp", "quantile", "histc"])
def test_integer_inputs_refused_where_torch_refuses_them(torch, name):
    args = {"logcumsumexp": (0,), "quantile": (0.5,)}.get(name, ())
    with pytest.raises(RuntimeError):
        getattr(torch, name)(torch.tensor([1, 2]), *args)
    with pytest.raises(TypeError, match="floating"):
        getattr(ember, name)(ember.tensor([1, 2]), *args)


def test_nanmean_of_an_all_nan_row(torch):
    """nan as torch; the gradient to the nan elements is 0 (torch's is 0·inf = nan there: it
    multiplies 1/0 by a mask, ember selects, so a row of nan only sends no nan back)."""
    e, t = ember.tensor(ALLNAN, requires_grad=True), torch.tensor(ALLNAN, requires_grad=True)
    ye, yt = e.nanmean(1), t.nanmean(1)
    np.testing.assert_array_equal(ye.detach().numpy(), yt.detach().numpy())
    with np.errstate(divide="ignore"):
        ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(e.grad.numpy()[0], t.grad.numpy()[0])
    assert e.grad.numpy()[1].tolist() == [0.0, 0.0, 0.0] and np.isnan(t.grad.numpy()[1]).all()


def test_diff_of_bool_is_xor(torch):
    a = np.array([True, True, False, True, False])
    assert ember.diff(ember.tensor(a)).tolist() == torch.diff(torch.tensor(a)).tolist()


def test_count_nonzero(torch):
    a = np.array([[0.0, 1.5, 0.0], [-2.0, 0.0, np.nan]])
    for dim in (None, 0, 1, (0, 1)):
        got, want = (
            ember.count_nonzero(ember.tensor(a), dim),
            torch.count_nonzero(torch.tensor(a), dim),
        )
        assert got.dtype == np.int64 and got.tolist() == want.tolist()


@pytest.mark.parametrize(
    "row,col,offset", [(4, 4, 0), (3, 5, 1), (5, 3, -2), (4, 2, 3), (3, 3, -5), (1, 0, 0)]
)
def test_tril_triu_indices(torch, row, col, offset):
    for name in ("tril_indices", "triu_indices"):
        got = getattr(ember, name)(row, col, offset)
        want = getattr(torch, name)(row, col, offset)
        assert got.dtype == np.int64 and got.shape == tuple(want.shape)
        assert got.tolist() == want.tolist()


def test_bincount(torch):
    x = np.array([0, 2, 2, 5, 1, 2])
    for weights in (None, randn(6).astype(np.float32), randn(6), np.arange(6)):
        for minlength in (0, 9):
            w_e = None if weights is None else ember.tensor(weights)
            w_t = None if weights is None else torch.tensor(weights)
            got = ember.bincount(ember.tensor(x), w_e, minlength)
            want = torch.bincount(torch.tensor(x), w_t, minlength)
            assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert ember.bincount(ember.tensor(np.zeros(0, np.int64)), minlength=3).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="non-negative"):
        ember.bincount(ember.tensor([1, -1]))


SEQ = np.array([1.0, 2.0, 2.0, 4.0, 7.0])
PROBES = np.array([[0.0, 1.0, 2.0, 3.0], [4.0, 7.0, 8.0, 2.0]])  # on and between boundaries


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_searchsorted_and_bucketize(torch, dtype):
    s, v = SEQ.astype(dtype), PROBES.astype(dtype)
    es, ev, ts, tv = ember.tensor(s), ember.tensor(v), torch.tensor(s), torch.tensor(v)
    for kw in ({}, {"right": True}, {"side": "right"}, {"side": "left"}, {"out_int32": True}):
        got, want = ember.searchsorted(es, ev, **kw), torch.searchsorted(ts, tv, **kw)
        assert str(got.dtype) == str(want.dtype).removeprefix("torch.") and got.tolist() == (
            want.tolist()
        )
    for right in (False, True):
        got, want = ember.bucketize(ev, es, right=right), torch.bucketize(tv, ts, right=right)
        assert got.dtype == np.int64 and got.tolist() == want.tolist()
    assert ember.bucketize(2, es).tolist() == torch.bucketize(2, ts).tolist()  # a number: 0-d
    assert ember.searchsorted(es, 2).shape == ()
    rows = np.sort(randn(2, 3, 5, seed=4), axis=-1).astype(dtype)
    vals = randn(2, 3, 4, seed=5).astype(dtype)
    got = ember.searchsorted(ember.tensor(rows), ember.tensor(vals), right=True)
    assert (
        got.tolist()
        == torch.searchsorted(torch.tensor(rows), torch.tensor(vals), right=True).tolist()
    )
    order = np.argsort(v[0])
    got = ember.searchsorted(ember.tensor(v[0]), ev, sorter=ember.tensor(order))
    want = torch.searchsorted(torch.tensor(v[0]), tv, sorter=torch.tensor(order))
    assert got.tolist() == want.tolist()
    with pytest.raises(ValueError, match="side"):
        ember.searchsorted(es, ev, right=True, side="left")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_histc(torch, dtype):
    x = np.concatenate([randn(200, seed=6) * 2, [-3.0, -1.5, 0.0, 1.5, 3.0, 2.999, 5.0, -7.0]])
    x = x.astype(dtype)
    e, t = ember.tensor(x), torch.tensor(x)
    for args in ((10, -3, 3), (7, -1.5, 2.0), (100, 0, 0), (4,), (6, 1.5, 1.5)):
        got, want = ember.histc(e, *args), torch.histc(t, *args)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=str(args))
    one = np.full(5, 2.0, dtype)
    np.testing.assert_array_equal(
        ember.tensor(one).histc(4).numpy(), torch.tensor(one).histc(4).numpy()
    )


def test_results_are_named_tuples_as_torch():
    x = ember.tensor([[1.0, 5.0, 2.0]])
    assert x.aminmax().min.item() == 1.0 and x.aminmax().max.item() == 5.0
    assert x.cummax(1).indices.tolist() == [[0, 1, 1]]
    assert x.cummin(1).values.tolist() == [[1.0, 1.0, 1.0]]
    med = x.median(1)
    assert med.values.tolist() == [2.0] and med.indices.tolist() == [2]


def test_zero_dim_inputs(torch):
    for name in ("cummax", "cummin", "median"):
        got, want = getattr(ember.tensor(3.5), name)(0), getattr(torch.tensor(3.5), name)(0)
        assert got.values.shape == () and got.values.item() == want.values.item()
        assert got.indices.item() == want.indices.item() == 0
    assert ember.tensor(3.5).logcumsumexp(0).item() == 3.5


def test_argument_errors():
    x = ember.tensor(A)
    with pytest.raises(ValueError, match="range"):
        x.quantile(1.5)
    with pytest.raises(ValueError, match="interpolation"):
        x.quantile(0.5, interpolation="cubic")
    with pytest.raises(ValueError, match="same dim"):
        x.diagonal(0, 1, 1)
    with pytest.raises(ValueError, match="size 3"):
        x[:2].cross(x[:2])
    with pytest.raises(ValueError, match="number of dims"):
        x[:, :3].cross(x[0, :3])
    with pytest.raises(ValueError, match="2-D"):
        ember.tensor(X3).trace()
    with pytest.raises(ValueError, match="indexing"):
        ember.meshgrid(x[0], indexing="yx")


def test_searchsorted_rows_with_ties_and_sorter_match_torch(torch):
    """Many rows at once (no loop), ties on both sides, integer keys, and a sorter."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        seq = np.sort(rng.integers(0, 6, (3, 4, 7)), axis=-1).astype(np.float64)
        vals = rng.integers(-1, 7, (3, 4, 5)).astype(np.float64)
        for right in (False, True):
            e = ember.searchsorted(ember.tensor(seq), ember.tensor(vals), right=right)
            t = torch.searchsorted(torch.tensor(seq), torch.tensor(vals), right=right)
            np.testing.assert_array_equal(e.numpy(), t.numpy())
        shuffled = rng.permuted(seq, axis=-1)
        sorter = np.argsort(shuffled, axis=-1, kind="stable")
        e = ember.searchsorted(ember.tensor(shuffled), ember.tensor(vals), sorter=sorter)
        t = torch.searchsorted(
            torch.tensor(shuffled), torch.tensor(vals), sorter=torch.tensor(sorter)
        )
        np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("indices", [[3, 1], [4, 2, 2, 5], [-2, 1], [1, 3]])
def test_tensor_split_gradient_with_indices_out_of_order_matches_torch(indices):
    # torch allows indices out of order: the pieces x[:3], x[3:1], x[1:] overlap
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    data = rng.standard_normal((5, 3))
    x = ember.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    pieces, tpieces = ember.tensor_split(x, indices), torch.tensor_split(tx, indices)
    weights = [rng.standard_normal(tuple(p.shape)) for p in tpieces]
    assert [tuple(p.shape) for p in pieces] == [tuple(p.shape) for p in tpieces]
    sum((p * ember.tensor(w)).sum() for p, w in zip(pieces, weights)).backward()
    sum((p * torch.tensor(w)).sum() for p, w in zip(tpieces, weights)).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
