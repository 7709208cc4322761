"""index_add, index_copy, index_fill, scatter_reduce and take_along_dim against torch, and
gradcheck of each differentiable op (float64)."""

import numpy as np
import pytest

import ember

DTYPES = [np.float32, np.float64]


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def pair(torch, a, grad=True):
    """The same values as an ember and a torch leaf."""
    return ember.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def check(torch, e_out, t_out, e_leaves, t_leaves, dtype, weights=None):
    """Outputs equal; then the gradients of Σ w·out equal for every leaf."""
    np.testing.assert_allclose(e_out.array, t_out.detach().numpy(), **tol(dtype))
    w = np.random.default_rng(1).standard_normal(e_out.shape).astype(dtype)
    (e_out * ember.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    for e, t in zip(e_leaves, t_leaves):
        np.testing.assert_allclose(e.grad.array, t.grad.numpy(), **tol(dtype))


def rand(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- index_add / copy / fill
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_index_add_matches_torch(torch, dtype, dim):
    x = rand(4, 5, 3, dtype=dtype)
    index = np.array([1, 0, 1, 3], dtype=np.int64) % x.shape[dim]  # repeats accumulate
    shape = list(x.shape)
    shape[dim] = len(index)
    s = rand(*shape, dtype=dtype, seed=1)
    (ex, tx), (es, ts) = pair(torch, x), pair(torch, s)
    e = ember.index_add(ex, dim, ember.tensor(index), es, alpha=2.5)
    t = torch.index_add(tx, dim, torch.tensor(index), ts, alpha=2.5)
    check(torch, e, t, [ex, es], [tx, ts], dtype)
    e2 = ex.index_add(dim, ember.tensor(index), es)
    np.testing.assert_allclose(e2.array, tx.index_add(dim, torch.tensor(index), ts).detach())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_copy_and_fill_match_torch(torch, dtype, dim):
    x = rand(4, 5, dtype=dtype)
    index = np.array([3, 0, 2], dtype=np.int64)  # distinct: torch leaves repeats unspecified
    shape = list(x.shape)
    shape[dim] = len(index)
    s = rand(*shape, dtype=dtype, seed=1)
    (ex, tx), (es, ts) = pair(torch, x), pair(torch, s)
    e = ember.index_copy(ex, dim, ember.tensor(index), es)
    t = torch.index_copy(tx, dim, torch.tensor(index), ts)
    check(torch, e, t, [ex, es], [tx, ts], dtype)
    (ex, tx) = pair(torch, x)
    idx = np.array([2, 0, 2], dtype=np.int64)
    e = ex.index_fill(dim, ember.tensor(idx), -1.5)
    t = tx.index_fill(dim, torch.tensor(idx), -1.5)
    check(torch, e, t, [ex], [tx], dtype)


def test_in_place_forms_match_torch(torch):
    x, s = rand(3, 4), rand(3, 2, seed=1)
    idx = np.array([3, 1], dtype=np.int64)
    for name, args in [
        ("index_add_", (1, idx, s)),
        ("index_copy_", (1, idx, s)),
        ("index_fill_", (1, idx, 7.0)),
        ("scatter_reduce_", (1, np.array([[0, 0], [1, 3], [2, 2]]), s, "amax")),
    ]:
        e, t = ember.tensor(x.copy()), torch.tensor(x.copy())
        e_args = [ember.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        t_args = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        assert getattr(e, name)(*e_args) is e
        getattr(t, name)(*t_args)
        np.testing.assert_allclose(e.array, t.numpy(), err_msg=name)
    leaf = ember.tensor(x, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        leaf.index_fill_(0, ember.tensor([0]), 1.0)


# ---------------------------------------------------------------- scatter_reduce
REDUCES = ["sum", "prod", "mean", "amax", "amin"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_reduce_matches_torch(torch, dtype, reduce, include_self, dim):
    rng = np.random.default_rng(3)
    x = rand(4, 5, dtype=dtype)
    s = rand(3, 4, dtype=dtype, seed=2)  # index's shape: torch's backward requires it
    index = rng.integers(0, x.shape[dim], size=(3, 4)).astype(np.int64)  # repeats
    if reduce in ("amax", "amin"):  # ties: x and src share values, shared gradient
        x, s = np.round(x), np.round(s)
    (ex, tx), (es, ts) = pair(torch, x), pair(torch, s)
    e = ex.scatter_reduce(dim, ember.tensor(index), es, reduce, include_self=include_self)
    t = tx.scatter_reduce(dim, torch.tensor(index), ts, reduce, include_self=include_self)
    check(torch, e, t, [ex, es], [tx, ts], dtype)


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin", "prod"])
def test_scatter_reduce_integer_forward(torch, reduce):
    x = np.arange(12, dtype=np.int64).reshape(3, 4) - 5
    s = np.array([[3, -2, 7], [1, 1, 9]], dtype=np.int64)
    idx = np.array([[0, 2, 0], [3, 3, 1]], dtype=np.int64)
    for include_self in (True, False):
        e = ember.scatter_reduce(
            ember.tensor(x),
            1,
            ember.tensor(idx),
            ember.tensor(s),
            reduce,
            include_self=include_self,
        )
        t = torch.scatter_reduce(
            torch.tensor(x),
            1,
            torch.tensor(idx),
            torch.tensor(s),
            reduce,
            include_self=include_self,
        )
        np.testing.assert_array_equal(e.array, t.numpy())


# ---------------------------------------------------------------- take_along_dim
@pytest.mark.parametrize("dtype", DTYPES)
def test_take_along_dim_matches_torch(torch, dtype):
    x = rand(3, 4, 5, dtype=dtype)
    cases = [
        (np.array([[[0, 4, 4]]], dtype=np.int64), 2),  # broadcasts over dims 0 and 1
        (np.array([[[1]], [[3]], [[0]]], dtype=np.int64), -2),
        (np.argsort(x, axis=0)[:2], 0),
        (np.array([5, 0, 59, 5], dtype=np.int64), None),
    ]
    for index, dim in cases:
        ex, tx = pair(torch, x)
        e = ember.take_along_dim(ex, ember.tensor(index), dim)
        t = torch.take_along_dim(tx, torch.tensor(index), dim)
        check(torch, e, t, [ex], [tx], dtype)


# ---------------------------------------------------------------- gradcheck
def test_gradchecks():
    f64 = dict(dtype=ember.float64, requires_grad=True)
    x, s = ember.randn(4, 3, **f64), ember.randn(4, 2, **f64)
    idx = ember.tensor([2, 2])
    assert ember.gradcheck(lambda a, b: a.index_add(1, idx, b, alpha=-3), (x, s))
    assert ember.gradcheck(lambda a, b: a.index_copy(1, ember.tensor([2, 0]), b), (x, s))
    assert ember.gradcheck(lambda a: a.index_fill(0, ember.tensor([1, 3]), 2.0), (x,))
    index = ember.tensor([[0, 2], [1, 1], [2, 0], [0, 0]])
    for reduce in REDUCES:
        for include_self in (True, False):

            def fn(a, b, reduce=reduce, include_self=include_self):
                return a.scatter_reduce(1, index, b, reduce, include_self=include_self)

            assert ember.gradcheck(fn, (x, s)), (reduce, include_self)
    assert ember.gradcheck(
        lambda a: a.take_along_dim(ember.tensor([[1], [0], [1], [1]]), dim=1), (s,)
    )


# ---------------------------------------------------------------- errors
def test_bad_inputs_raise_clear_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(TypeError, match="integer"):
        x.index_add(0, ember.tensor([0.0]), ember.zeros(1, 4))
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x.index_copy(0, ember.tensor([3]), ember.zeros(1, 4))
    with pytest.raises(RuntimeError, match=r"expected \[2, 4\]"):
        x.index_add(0, ember.tensor([0, 1]), ember.zeros(2, 3))
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        x.index_fill(2, ember.tensor([0]), 1.0)
    with pytest.raises(RuntimeError, match="reduce argument must be one of"):
        x.scatter_reduce(0, ember.tensor([[0]]), ember.zeros(1, 1), "max")
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.take_along_dim(ember.tensor([0]), dim=0)
    with pytest.raises(TypeError, match="integer"):
        x.take_along_dim(ember.tensor([[0.5]]), dim=0)
    with pytest.raises(IndexError, match="out of bounds"):
        x.scatter_reduce(1, ember.tensor([[4]]), ember.zeros(1, 1), "sum")


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("zeros", ["self", "one src", "two srcs", "self and src"])
def test_scatter_reduce_prod_backward_with_zeros_matches_torch(torch, include_self, zeros):
    # each factor's gradient is the product of the others (ember refused zeros)
    x = np.array([[1.5, 2.0, -3.0, 0.5]])
    s = np.array([[3.0, 4.0, -2.0, 5.0, 0.25]])
    index = np.array([[0, 0, 1, 2, 2]])
    if "self" in zeros:
        x[0, 0] = x[0, 2] = 0.0
    if "src" in zeros:
        s[0, 0] = 0.0
    if zeros == "two srcs":
        s[0, 1] = s[0, 3] = 0.0
    (ex, tx), (es, ts) = pair(torch, x), pair(torch, s)
    e = ex.scatter_reduce(1, ember.tensor(index), es, "prod", include_self=include_self)
    t = tx.scatter_reduce(1, torch.tensor(index), ts, "prod", include_self=include_self)
    check(torch, e, t, [ex, es], [tx, ts], np.float64)
    (ex, tx), (es, ts) = pair(torch, x), pair(torch, s[:, :3])
    e = ex.index_reduce(1, ember.tensor(index[0, :3]), es, "prod", include_self=include_self)
    t = tx.index_reduce(1, torch.tensor(index[0, :3]), ts, "prod", include_self=include_self)
    check(torch, e, t, [ex, es], [tx, ts], np.float64)
