"""Sorting, searching and set ops at their edges, against torch (found by a fuzzer): empty
tensors and empty rows, 0-d tensors, and a NaN that must stay inside its own slice."""

import numpy as np
import pytest

import ember

UNIQUE_SHAPES = [((0, 1), 0), ((0, 1), 1), ((2, 0), 0), ((2, 0), 1), ((0, 0), 0), ((0,), 0),
                 ((3, 0, 2), 1), ((3, 2), 1)]  # fmt: skip


def _unique_both(lib, shape, dim, consecutive):
    a = lib.tensor(np.arange(int(np.prod(shape))).reshape(shape) % 2)
    f = lib.unique_consecutive if consecutive else lib.unique
    try:
        out = f(a, dim=dim, return_inverse=True, return_counts=True)
    except RuntimeError as e:
        return str(e).split(",")[0]
    return [(tuple(t.shape), t.tolist()) for t in out]


@pytest.mark.parametrize("shape,dim", UNIQUE_SHAPES)
@pytest.mark.parametrize("consecutive", [False, True])
def test_unique_along_a_dim_of_empty_tensors_as_torch(torch, shape, dim, consecutive):
    """One dim of size 0 is allowed only as the dim taken (the result is then empty); ember's
    unique_consecutive failed in NumPy's reshape and its unique answered where torch refuses."""
    assert _unique_both(ember, shape, dim, consecutive) == _unique_both(
        torch, shape, dim, consecutive
    )


@pytest.mark.parametrize(
    "seq,values", [((5, 0, 0), (5, 0, 2)), ((0,), (3,)), ((3,), (0,)), ((2, 0), (2, 3)),
                   ((2, 3), (2, 0)), ((0, 3), (0, 2))],
)  # fmt: skip
def test_searchsorted_with_empty_rows_or_values_as_torch(torch, seq, values):
    got = ember.searchsorted(ember.zeros(seq), ember.ones(values))
    want = torch.searchsorted(torch.zeros(seq), torch.ones(values))
    assert got.tolist() == want.tolist() and tuple(got.shape) == tuple(want.shape)


@pytest.mark.parametrize("k", [0, 1])
def test_topk_of_a_0d_tensor_gives_the_element_as_torch(torch, k):
    for lib in (ember, torch):
        x = lib.tensor(1.5, requires_grad=True)
        values, indices = x.topk(k, dim=0)
        values.backward()
        assert (tuple(values.shape), values.item(), indices.item(), x.grad.item()) == (
            (),
            1.5,
            0,
            1.0,
        )


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("shape,dim", [((0, 1, 2), None), ((0, 1, 2), 1), ((2, 0), 0)])
def test_quantile_of_an_empty_tensor_is_refused_as_torch(torch, name, shape, dim):
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="input tensor must be non-empty"):
            getattr(lib, name)(lib.zeros(shape, dtype=lib.float64), 0.5, dim=dim)


@pytest.mark.parametrize("dim", [0, 1])
def test_renorm_keeps_a_nan_in_its_own_slice(torch, dim):
    """A slice whose norm is NaN is left as it is (NaN > maxnorm is false), and its NaN no
    longer reaches the other slices' gradients (ember gave NaN everywhere)."""
    a = np.array([[0.03, 0.5], [2.4, -1.0], [np.nan, 0.2]])
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        y = lib.renorm(x, 2, dim, 0.7)
        (y * lib.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
        grads.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-9)


def test_renorm_gradient_without_nans():
    x = ember.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
    for p, dim in [(2, 1), (3, 0), (1, 1)]:
        assert ember.gradcheck(lambda t, p=p, dim=dim: ember.renorm(t, p, dim, 0.9), (x,))
