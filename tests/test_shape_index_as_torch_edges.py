"""Shape, view and index ops where ember used to differ from torch 2.13 (found by fuzzing both
side by side): permute's gradient for negative dims, squeeze of a dim named twice, splits of
a 0-d tensor or by negative sizes, gather/scatter/scatter_reduce of 0-d tensors and of empty
indices, int32 indices where torch wants int64, index_add's alpha on integer tensors, the
0-d rules of index_add/index_copy/index_reduce, index_fill's negative indices, and
view(dtype) at offsets or strides the larger element cannot start at."""

import numpy as np
import pytest

import ember


@pytest.fixture(params=["ember", "torch"])
def lib(request, torch):
    return ember if request.param == "ember" else torch


def _leaf(lib, values):
    return lib.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def _same(e, t):
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-12)


def test_permute_with_negative_dims_sends_the_gradient_back_in_place(torch):
    a = np.random.RandomState(0).randn(4, 3, 2)
    g = np.random.RandomState(1).randn(2, 4, 3)
    grads = []
    for lib in (ember, torch):
        x = _leaf(lib, a)
        y = x.permute(-1, -3, 1)
        y.backward(lib.tensor(g))
        grads.append(x.grad)
    _same(*grads)


def _squeezes(lib):
    x = lib.zeros(2, 1, 1)
    return [
        ("the same dim twice", lambda: x.squeeze((1, 1))),
        ("a dim and its negative", lambda: x.squeeze((2, -1))),
        ("in place", lambda: x.clone().squeeze_((-2, 1))),
    ]


@pytest.mark.parametrize("k", range(3))
def test_squeeze_refuses_a_dim_named_twice(refused_alike, k):
    refused_alike(_squeezes, k)


def _splits(lib):
    x, s = lib.arange(4.0), lib.tensor(1.0)
    return [
        ("split of a 0-d tensor", lambda: s.split(1)),
        ("split by sizes of a 0-d tensor", lambda: lib.split(s, [1])),
        ("chunk of a 0-d tensor", lambda: s.chunk(1)),
        ("split_with_sizes of a 0-d tensor", lambda: s.split_with_sizes([1])),
        ("a negative size that sums right", lambda: x.split([5, -1])),
        ("a negative size before a bad dim", lambda: x.split(-1, 3)),
    ]


@pytest.mark.parametrize("k", range(6))
def test_splits_refuse_0d_tensors_and_negative_sizes(refused_alike, k):
    refused_alike(_splits, k)


def test_gather_and_scatters_take_0d_tensors_as_one_element(torch):
    """torch treats a 0-d self, index or src as 1-d of one element (values and gradients)."""
    for lib_results in zip(*(_zero_d_cases(lib) for lib in (ember, torch))):
        (e, ex, es), (t, tx, ts) = lib_results
        _same(e, t)
        e.backward(ember.ones_like(e))
        t.backward(torch.ones_like(t))
        _same(ex.grad, tx.grad)
        if ts is not None:
            _same(es.grad, ts.grad)


def _zero_d_cases(lib):
    out = []
    for make in (
        lambda x, s: (x.gather(0, lib.tensor([0, 0])), None),
        lambda x, s: (lib.tensor([2.0, 3.0]).mul(x).gather(0, lib.tensor(1)), None),
        lambda x, s: (x.scatter(0, lib.tensor(0), s), s),
        lambda x, s: (x.scatter_add(0, lib.tensor([0]), s.reshape(1)), s),
        lambda x, s: (x.scatter_reduce(0, lib.tensor(0), s, "prod"), s),
        lambda x, s: (x.scatter_reduce(0, lib.tensor([0, 0]), s.expand(2), "sum"), s),
    ):
        x, s = _leaf(lib, 2.0), _leaf(lib, 5.0)
        y, src = make(x, s)
        out.append((y, x, src))
    return out


def test_an_empty_index_is_not_checked_against_the_sizes(torch):
    """torch skips the size checks of an index with no elements (only its dims must match)."""
    for lib in (ember, torch):
        x = lib.arange(18.0).reshape(2, 3, 3)
        index = lib.zeros(0, 0, 4, dtype=lib.int64)
        assert tuple(x.gather(0, index).shape) == (0, 0, 4)
        assert x.scatter(0, index, 1.0).equal(x)
        src = lib.ones(1, 1, 4)
        assert x.scatter_add(0, index, src).equal(x)
        assert x.scatter_reduce(0, index, src, "amax").equal(x)


def _int32_indices(lib):
    x, i32 = lib.arange(4.0), lib.tensor([0, 1], dtype=lib.int32)
    return [
        ("index_fill", lambda: x.index_fill(0, i32, 1.0)),
        ("index_copy", lambda: x.index_copy(0, i32, lib.ones(2))),
        ("take_along_dim", lambda: lib.take_along_dim(x, i32, 0)),
    ]


@pytest.mark.parametrize("k", range(3))
def test_int32_indices_are_refused_where_torch_wants_int64(refused_alike, k):
    refused_alike(_int32_indices, k, IndexError if k == 0 else RuntimeError)


def test_int32_indices_are_taken_where_torch_takes_them(torch):
    for lib in (ember, torch):
        x, i32 = lib.arange(4.0), lib.tensor([3, 1], dtype=lib.int32)
        assert lib.take_along_dim(x, i32).tolist() == [3.0, 1.0]
        assert x.index_add(0, i32, lib.ones(2)).tolist() == [0.0, 2.0, 2.0, 4.0]


def _vector_indices(lib):
    x, i = lib.arange(4.0), lib.tensor([[0]])
    return [
        ("index_fill", lambda: x.index_fill(0, i, 1.0)),
        ("index_add", lambda: x.index_add(0, i, lib.ones(1))),
    ]


@pytest.mark.parametrize("k", range(2))
def test_a_2d_index_is_refused_as_torch_refuses_it(refused_alike, k):
    """torch's index_fill raises RuntimeError and index_add IndexError: ember's is both."""
    refused_alike(_vector_indices, k, RuntimeError if k == 0 else IndexError)
    with pytest.raises(RuntimeError) as info:
        _vector_indices(ember)[k][1]()
    assert isinstance(info.value, IndexError)


def test_index_add_casts_alpha_to_an_integer_tensors_type(torch):
    for lib in (ember, torch):
        x = lib.tensor([1, 2, 3, 4])
        i, s = lib.tensor([0, 1, 1]), lib.tensor([5, 7, 9])
        assert x.index_add(0, i, s, alpha=-0.5).tolist() == [1, 2, 3, 4]
        assert x.index_add(0, i, s, alpha=2.7).tolist() == [11, 34, 3, 4]


def _zero_d_index_ops(lib):
    x = lib.tensor(2.0)
    i1, i2 = lib.tensor([0]), lib.tensor([0, 0])
    return [
        ("index_add with a 1-d source", lambda: x.index_add(0, i1, lib.tensor([3.0]))),
        ("index_add with two indices", lambda: x.index_add(0, i2, lib.tensor(3.0))),
        ("index_copy with two indices", lambda: x.index_copy(0, i2, lib.tensor(3.0))),
        ("index_reduce with a 1-d source", lambda: x.index_reduce(0, i1, x.reshape(1), "prod")),
        ("index_reduce with two indices", lambda: x.index_reduce(0, i2, x, "prod")),
    ]


@pytest.mark.parametrize("k", range(5))
def test_index_ops_of_a_0d_tensor_refuse_what_torch_refuses(refused_alike, k):
    cls = IndexError if k in (1, 2, 4) else RuntimeError
    refused_alike(_zero_d_index_ops, k, cls)


def test_index_ops_of_a_0d_tensor_take_what_torch_takes(torch):
    for lib in (ember, torch):
        x = lib.tensor(2.0)
        assert x.index_add(0, lib.tensor([0]), lib.tensor(3.0)).item() == 5.0
        assert x.index_copy(0, lib.tensor([0]), lib.tensor([3.0])).item() == 3.0
        assert x.index_copy(0, lib.tensor([0, 0]), lib.tensor([3.0, 4.0])).item() == 4.0
        assert x.index_reduce(0, lib.tensor([0]), lib.tensor(3.0), "prod").item() == 6.0


def test_index_fill_counts_negative_indices_from_the_end(torch):
    results = []
    for lib in (ember, torch):
        x = _leaf(lib, [0.0, 1.0, 2.0, 3.0])
        y = x.index_fill(0, lib.tensor([-1, -4]), 9.0)
        y.backward(lib.ones(4, dtype=lib.float64))
        results.append((y, x.grad, lib.tensor(1.0).index_fill(0, lib.tensor(-1), 9.0)))
        with pytest.raises(IndexError):
            x.index_fill(0, lib.tensor([-5]), 9.0)
    for e, t in zip(*results):
        _same(e, t)


def test_a_bad_dim_is_named_before_mismatched_dtypes(lib):
    x, i = lib.zeros(2, dtype=lib.float64), lib.tensor([0])
    s = lib.ones(1, dtype=lib.float32)
    with pytest.raises(IndexError):
        x.index_add(1, i, s)
    with pytest.raises(IndexError):
        x.index_copy(1, i, s)
    with pytest.raises(IndexError):
        x.scatter_reduce(1, i, s, "sum")


def _dtype_views(lib):
    x = lib.arange(12, dtype=lib.float32).reshape(3, 4)
    y = lib.arange(9, dtype=lib.float32).reshape(3, 3)
    return [
        ("an offset of half an int64", lambda: x[:, 1:3].view(lib.int64)),
        ("rows 3 float32 apart", lambda: y[:, :2].view(lib.int64)),
        ("rows 3 float32 apart, as float64", lambda: y[1:, :2].view(dtype=lib.float64)),
    ]


@pytest.mark.parametrize("k", range(3))
def test_view_as_a_larger_dtype_refuses_misaligned_elements(refused_alike, k):
    refused_alike(_dtype_views, k)


def test_view_as_a_larger_dtype_takes_aligned_slices(torch):
    for make in (
        lambda lib, x: x[1:].view(lib.int64),
        lambda lib, x: x[:, 2:].view(lib.int64),
        lambda lib, x: x.flip(0).view(lib.float64),
    ):
        e = make(ember, ember.arange(12, dtype=ember.float32).reshape(3, 4))
        t = make(torch, torch.arange(12, dtype=torch.float32).reshape(3, 4))
        assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_hstack_skips_legacy_empty_tensors_as_cat_does(torch):
    """A (0,) tensor among tensors of more dims is left out of the size check (its dtype
    still joins the promotion), as torch.cat leaves it."""
    for lib in (ember, torch):
        parts = [lib.ones(1, 2), lib.ones(1, 1, dtype=lib.int64), lib.ones(0, dtype=lib.float64)]
        y = lib.hstack(parts)
        assert tuple(y.shape) == (1, 3) and y.dtype == lib.float64
        assert tuple(lib.hstack([lib.ones(0), lib.ones(2, 2)]).shape) == (2, 2)


def test_0d_scatters_have_second_derivatives_as_torch(torch):
    results = []
    for lib in (ember, torch):
        row = []
        for y, x, s in _zero_d_cases(lib):
            loss = (y * y).sum()
            wrt = (x,) if s is None else (x, s)
            grads = lib.autograd.grad(loss, wrt, create_graph=True)
            row.append([float(g) for g in lib.autograd.grad(sum(grads), wrt)])
        results.append(row)
    assert results[0] == results[1]


def test_an_index_copy_source_of_other_dims_is_torchs_index_error(torch):
    for lib, cls in ((torch, IndexError), (ember, IndexError), (ember, RuntimeError)):
        with pytest.raises(cls):
            lib.zeros(4, 4, 1).index_copy(0, lib.tensor([0, 1, 2]), lib.zeros(3, 4, 1, 1))
    with pytest.raises(RuntimeError):
        torch.zeros(4, 4, 1).index_add(0, torch.tensor([0, 1, 2]), torch.zeros(3, 4, 1, 1))
