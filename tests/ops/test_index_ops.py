"""Index and scan ops (ember/ops/index.py, scan.py): gradcheck in float64 (repeated indices,
zeros in products, distinct values for sorts), forward and gradients against torch, over dims
(negative too) and shapes (1-D, 3-D); bad indices are errors naming the value, dim and size."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.functional as F
from tests.core_reference import check_gradients, compare_with_torch, randn

SHAPES_DIMS = [((5,), 0), ((5,), -1), ((2, 3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -1)]


def _index_for(shape, dim, seed=0, grow=1):
    """An int64 index for gather/scatter along dim: values repeat (gradients must add)."""
    rng = np.random.default_rng(seed)
    ishape = list(shape)
    ishape[dim] = shape[dim] + grow  # more picks than slots: repeats are certain
    return rng.integers(0, shape[dim], size=ishape)


def _distinct(*shape, seed=0):
    """Values far apart (no ties): sorts are smooth there, so finite differences hold."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.37 - 2.0


# ---------------------------------------------------------------- gather / scatter


@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_gather(torch, shape, dim):
    x, index = randn(*shape, seed=1), _index_for(shape, dim)
    compare_with_torch(torch, lambda t, i: t.gather(dim, i), lambda t, i: t.gather(dim, i),
                       [x, index])  # fmt: skip
    check_gradients(lambda t, i: F.gather(t, dim, i), [x, index])


def test_gather_with_a_smaller_index_and_repeats(torch):
    x = randn(3, 4, seed=2)
    index = np.array([[0, 0, 2], [1, 1, 1]])  # smaller than x in dim 1: torch allows that
    compare_with_torch(torch, lambda t, i: t.gather(0, i), lambda t, i: t.gather(0, i), [x, index])
    t = ember.tensor(x, requires_grad=True)
    t.gather(0, ember.tensor(index)).sum().backward()
    np.testing.assert_array_equal(t.grad.array[:, 0], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(t.grad.array[:, 1], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(t.grad.array[:, 3], 0.0)


@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_scatter_add(torch, shape, dim):
    x = randn(*shape, seed=3)
    index = _index_for(shape, dim, grow=0)
    src = randn(*index.shape, seed=4)
    compare_with_torch(torch, lambda t, s, i: t.scatter_add(dim, i, s),
                       lambda t, s, i: t.scatter_add(dim, i, s), [x, src, index])  # fmt: skip
    check_gradients(lambda t, s, i: F.scatter_add(t, dim, i, s), [x, src, index])


@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_scatter(torch, shape, dim):
    # A permutation along dim per slice: distinct targets, so the result is defined in torch.
    rng = np.random.default_rng(5)
    index = np.argsort(rng.random(shape), axis=dim)
    index = np.take(index, np.arange(shape[dim] - 1), axis=dim)  # leave one place unwritten
    x, src = randn(*shape, seed=6), randn(*index.shape, seed=7)
    compare_with_torch(torch, lambda t, s, i: t.scatter(dim, i, s),
                       lambda t, s, i: t.scatter(dim, i, s), [x, src, index])  # fmt: skip
    # src larger than index is allowed (its leading block is used); torch 2.13's backward
    # fails on that shape, so only the gradcheck holds it
    check_gradients(lambda t, s, i: F.scatter(t, dim, i, s), [x, randn(*shape, seed=7), index])
    compare_with_torch(torch, lambda t, i: t.scatter(dim, i, 2.5),
                       lambda t, i: t.scatter(dim, i, 2.5), [x, index])  # fmt: skip
    check_gradients(lambda t, i: t.scatter(dim, i, value=2.5), [x, index])


# ---------------------------------------------------------------- index_select, masked_select


@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_index_select(torch, shape, dim):
    x = randn(*shape, seed=8)
    index = np.array([shape[dim] - 1, 0, 0, 1, shape[dim] - 1])  # repeats accumulate
    compare_with_torch(torch, lambda t, i: t.index_select(dim, i),
                       lambda t, i: t.index_select(dim, i), [x, index])  # fmt: skip
    check_gradients(lambda t, i: F.index_select(t, dim, i), [x, index])


def test_index_select_accumulates_many_repeats():
    # more than 32 indices: backend.scatter_add's sorted reduceat path
    x = ember.tensor(randn(3, 2), requires_grad=True)
    x.index_select(0, np.array([2] * 40 + [0])).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [[1.0, 1.0], [0.0, 0.0], [40.0, 40.0]])


@pytest.mark.parametrize("mask_shape", [(2, 3, 4), (3, 1), (4,)])
def test_masked_select(torch, mask_shape):
    x = randn(2, 3, 4, seed=9)
    mask = np.random.default_rng(1).random(mask_shape) > 0.4
    compare_with_torch(torch, lambda t, m: t.masked_select(m), lambda t, m: t.masked_select(m),
                       [x, mask])  # fmt: skip
    check_gradients(lambda t, m: F.masked_select(t, m), [x, mask])


# ---------------------------------------------------------------- scans and products


@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_cumsum(torch, shape, dim):
    x = randn(*shape, seed=10)
    compare_with_torch(torch, lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), [x])
    check_gradients(lambda t: F.cumsum(t, dim), [x])


def _with_zeros(shape, seed=11):
    x = randn(*shape, seed=seed)
    flat = x.reshape(-1)
    flat[[1, 3]] = 0.0  # one zero in some rows, two in others (1-D: two in the one row)
    if flat.size > 12:
        flat[[13, 14, 22]] = 0.0
    return x


@pytest.mark.parametrize("zeros", [False, True])
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_cumprod(torch, shape, dim, zeros):
    x = _with_zeros(shape) if zeros else randn(*shape, seed=12)
    compare_with_torch(torch, lambda t: t.cumprod(dim), lambda t: t.cumprod(dim), [x])
    check_gradients(lambda t: F.cumprod(t, dim), [x])


@pytest.mark.parametrize("zeros", [0, 1, 2])
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS + [((2, 3, 4), None)])
def test_prod(torch, shape, dim, zeros):
    x = randn(*shape, seed=13)
    x.reshape(-1)[[0, 2][:zeros]] = 0.0
    if dim is None:
        compare_with_torch(torch, lambda t: t.prod(), lambda t: t.prod(), [x])
    else:
        for keep in (False, True):
            compare_with_torch(torch, lambda t, k=keep: t.prod(dim, k),
                               lambda t, k=keep: t.prod(dim, k), [x])  # fmt: skip
    check_gradients(lambda t: F.prod(t, dim), [x])
    check_gradients(lambda t: t.prod(dim, keepdim=True), [x])


# ---------------------------------------------------------------- sort, topk


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_sort(torch, shape, dim, descending):
    x = _distinct(*shape, seed=14)
    compare_with_torch(torch, lambda t: tuple(t.sort(dim, descending)),
                       lambda t: tuple(t.sort(dim=dim, descending=descending)), [x])  # fmt: skip
    check_gradients(lambda t: F.sort(t, dim, descending).values, [x])
    expected = torch.from_numpy(x).argsort(dim=dim, descending=descending).numpy()
    np.testing.assert_array_equal(F.argsort(ember.tensor(x), dim, descending).array, expected)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_ties_keep_their_order_as_torch_stable(torch, descending):
    x = np.array([[2.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0], [3.0, 3.0, 3.0, -1.0, 3.0, -1.0, 3.0]])
    values, indices = ember.tensor(x).sort(dim=1, descending=descending, stable=True)
    tv, ti = torch.from_numpy(x).sort(dim=1, descending=descending, stable=True)
    np.testing.assert_array_equal(values.array, tv.numpy())
    np.testing.assert_array_equal(indices.array, ti.numpy())
    assert indices.dtype == np.int64 and not indices.requires_grad
    order = ember.tensor(x).argsort(dim=1, descending=descending).array
    np.testing.assert_array_equal(order, ti.numpy())
    # the gradient of tied values goes to the element each output came from
    t = ember.tensor(x, requires_grad=True)
    t.sort(dim=1, descending=descending).values[:, 0].sum().backward()
    expected = np.zeros_like(x)
    expected[[0, 1], ti.numpy()[:, 0]] = 1.0
    np.testing.assert_array_equal(t.grad.array, expected)


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_topk(torch, shape, dim, largest):
    x = _distinct(*shape, seed=15)
    k = min(3, shape[dim])
    compare_with_torch(torch, lambda t: tuple(t.topk(k, dim, largest)),
                       lambda t: tuple(t.topk(k, dim=dim, largest=largest)), [x])  # fmt: skip
    check_gradients(lambda t: F.topk(t, k, dim, largest).values, [x])
    result = ember.tensor(x).topk(k, dim=dim)
    assert result.values.shape == result.indices.shape and result.indices.dtype == np.int64


# ---------------------------------------------------------------- norm


NORM_PS = [1, 2, "fro", math.inf, -math.inf, 3, 0.5, 1.5]


@pytest.mark.parametrize("p", NORM_PS)
@pytest.mark.parametrize("dim,keepdim", [(None, False), (-1, False), (0, True), ((0, 2), False)])
def test_norm(torch, p, dim, keepdim):
    x = _distinct(2, 3, 4, seed=16)  # distinct |x|: max and min are smooth
    compare_with_torch(torch, lambda t: t.norm(p, dim, keepdim), lambda t: t.norm(p, dim, keepdim),
                       [x])  # fmt: skip
    check_gradients(lambda t: F.norm(t, p, dim, keepdim), [x])


@pytest.mark.parametrize("p", NORM_PS + [0])
def test_norm_subgradient_at_zero_matches_torch(torch, p):
    x = np.zeros((2, 3))
    x[1] = [0.0, -1.5, 2.0]  # row 0 all zero (norm 0), row 1 with one zero element
    grad = p != 0  # p = 0 counts nonzeros: a constant, no gradient in ember
    compare_with_torch(torch, lambda t: t.norm(p, dim=1), lambda t: t.norm(p, dim=1), [x],
                       grad=grad)  # fmt: skip
    compare_with_torch(torch, lambda t: t[0].norm(p), lambda t: t[0].norm(p), [x], grad=grad)


def test_norm_of_ties_shares_the_gradient_as_torch(torch):
    x = np.array([[3.0, -3.0, 1.0], [2.0, 2.0, 2.0]])
    for p in (math.inf, -math.inf):
        compare_with_torch(torch, lambda t, p=p: t.norm(p, dim=1),
                           lambda t, p=p: t.norm(p, dim=1), [x])  # fmt: skip


# ---------------------------------------------------------------- built on the above


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_repeat_interleave(torch, dim):
    x = randn(2, 3, seed=17)
    compare_with_torch(torch, lambda t: t.repeat_interleave(2, dim),
                       lambda t: t.repeat_interleave(2, dim), [x])  # fmt: skip
    check_gradients(lambda t: F.repeat_interleave(t, 3, dim), [x])
    if dim is not None:
        reps = np.array([1, 0, 2][: x.shape[dim]])
        compare_with_torch(torch, lambda t, r: t.repeat_interleave(r, dim),
                           lambda t, r: t.repeat_interleave(r, dim), [x, reps])  # fmt: skip


def test_nonzero_and_unique_match_torch(torch):
    a = np.array([[0, 3, 3], [1, 0, 3]])
    got, want = ember.tensor(a).nonzero(), torch.from_numpy(a).nonzero()
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.array, want.numpy())
    for g, w in zip(
        F.nonzero(ember.tensor(a), as_tuple=True), torch.from_numpy(a).nonzero(as_tuple=True)
    ):
        np.testing.assert_array_equal(g.array, w.numpy())
    for dim in (None, 0, 1):
        got = ember.unique(ember.tensor(a), return_inverse=True, return_counts=True, dim=dim)
        want = torch.unique(torch.from_numpy(a), return_inverse=True, return_counts=True, dim=dim)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.array, w.numpy())
    np.testing.assert_array_equal(ember.tensor(a).unique().array, [0, 1, 3])


def test_top_level_and_functional_names():
    x = ember.tensor([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(ember.sort(x).values.array, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ember.cumsum(x, 0).array, [3.0, 4.0, 6.0])
    assert float(ember.prod(x).array) == 6.0 and float(ember.norm(x, 1).array) == 6.0
    for name in ("gather", "scatter", "scatter_add", "index_select", "masked_select", "argsort",
                 "topk", "repeat_interleave", "nonzero", "unique", "cumprod"):  # fmt: skip
        top = getattr(ember, name)  # torch's out= wraps it (out_argument.py): the same function
        top = getattr(top, "without_out", top)  # … and axis= (tensor_numpy_names.py)
        assert getattr(top, "numpy_names_of", top) is getattr(F, name)


def _th(a):
    """A NumPy index as a torch tensor (torch's index arguments must be tensors)."""
    return __import__("torch").from_numpy(a)


IDX3 = np.array([[0, 2, 2, 1], [1, 1, 0, 0], [2, 0, 1, 2]])
IDX1 = np.array([3, 0, 3])
FLOAT32_CASES = {
    "gather": (lambda t: t.gather(1, IDX3), lambda t: t.gather(1, _th(IDX3))),
    "scatter_add": (lambda t: t.scatter_add(1, IDX3, t), lambda t: t.scatter_add(1, _th(IDX3), t)),
    "index_select": (lambda t: t.index_select(-1, IDX1), lambda t: t.index_select(-1, _th(IDX1))),
    "cumsum": (lambda t: t.cumsum(1), lambda t: t.cumsum(1)),
    "cumprod": (lambda t: t.cumprod(-1), lambda t: t.cumprod(-1)),
    "prod": (lambda t: t.prod(0), lambda t: t.prod(0)),
    "sort": (lambda t: t.sort(1).values, lambda t: t.sort(1).values),
    "topk": (lambda t: t.topk(2, 0).values, lambda t: t.topk(2, 0).values),
    "norm": (lambda t: t.norm(dim=1), lambda t: t.norm(dim=1)),
    "norm_3": (lambda t: t.norm(3, dim=0), lambda t: t.norm(3, dim=0)),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_CASES))
def test_float32_stays_float32_and_matches_torch(torch, name):
    fe, ft = FLOAT32_CASES[name]
    compare_with_torch(torch, fe, ft, [_distinct(3, 4, seed=18)], np.float32)


# ---------------------------------------------------------------- errors


def test_index_dtype_must_be_integer():
    x = ember.zeros(3, 4)
    with pytest.raises(TypeError, match=r"gather\(\): index must be an integer tensor.*float"):
        x.gather(1, np.zeros((3, 4)))
    with pytest.raises(TypeError, match=r"index_select\(\): index must be an integer"):
        x.index_select(0, ember.tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match=r"masked_select\(\): mask must be a bool tensor"):
        x.masked_select(np.ones((3, 4), dtype=np.int64))


def test_index_out_of_range_names_value_dim_and_size():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 1 with size 4"):
        x.gather(1, np.array([[0, 4], [1, 1], [2, 2]]))
    with pytest.raises(IndexError, match="index -1 is out of bounds for dimension 0 with size 3"):
        x.index_select(0, np.array([0, -1]))
    with pytest.raises(IndexError, match=r"scatter_add\(\): index 7 .* dimension 0 with size 3"):
        x.scatter_add(0, np.array([[7]]), ember.ones(1, 1))
    with pytest.raises(IndexError, match=r"dim 2 is out of range for a tensor of 2 dimensions"):
        x.gather(2, np.zeros((3, 4), dtype=np.int64))


def test_index_and_src_shape_mismatches_as_torch_states_them():
    x = ember.zeros(3, 4)
    with pytest.raises(RuntimeError, match="index has 1 dimensions but self has 2"):
        x.gather(0, np.array([0, 1]))
    with pytest.raises(RuntimeError, match=r"expected index \[2, 5\] to be no larger than self"
                       r" \[3, 4\] apart from dimension 0"):  # fmt: skip
        x.gather(0, np.zeros((2, 5), dtype=np.int64))
    with pytest.raises(RuntimeError, match=r"no larger than src \[1, 4\]"):
        x.scatter(0, np.zeros((2, 4), dtype=np.int64), ember.ones(1, 4))
    with pytest.raises(RuntimeError, match=r"mask of shape \(2,\) does not broadcast"):
        x.masked_select(np.array([True, False]))


def test_topk_k_larger_than_the_dimension():
    with pytest.raises(RuntimeError, match=r"k=5 is out of range for dimension -1 of size 4"):
        ember.zeros(3, 4).topk(5)


def test_norm_rejects_a_bad_p():
    with pytest.raises(ValueError, match="p must be"):
        ember.ones(3).norm("nuc")
