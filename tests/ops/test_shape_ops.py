"""Shape ops and indexing: gradcheck and torch reference; integer-array indexing accumulates over
repeated indices; mismatches are clear errors naming expected and got."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from tests.core_reference import check_gradients, compare_with_torch, randn

IDX = np.array([0, 2, 2, 1, 2])  # repeats: the gradient must accumulate
MASK = np.array([True, False, True])

CASES = {
    "reshape": (lambda t: t.reshape(4, 6), lambda t: t.reshape(4, 6)),
    "reshape_-1": (lambda t: t.reshape(-1, 3), lambda t: t.reshape(-1, 3)),
    "view_tuple": (lambda t: t.view((6, 4)), lambda t: t.view((6, 4))),
    "permute": (lambda t: t.permute(2, 0, 1), lambda t: t.permute(2, 0, 1)),
    "transpose": (lambda t: t.transpose(0, 2), lambda t: t.transpose(0, 2)),
    "T_2d": (lambda t: t.reshape(6, 4).T, lambda t: t.reshape(6, 4).T),
    "expand": (lambda t: t[:, :1].expand(2, 3, 4), lambda t: t[:, :1].expand(2, 3, 4)),
    "expand_new_dim": (
        lambda t: t[0].expand(5, 3, 4),
        lambda t: t[0].expand(5, 3, 4),
    ),
    "expand_new_dim_as_tuple": (
        lambda t: t[0, :, :1].expand((2, 3, -1)),
        lambda t: t[0, :, :1].expand((2, 3, -1)),
    ),
    "squeeze": (lambda t: t[:, :1].squeeze(1), lambda t: t[:, :1].squeeze(1)),
    "squeeze_all": (lambda t: t[:1, :1].squeeze(), lambda t: t[:1, :1].squeeze()),
    "unsqueeze": (lambda t: t.unsqueeze(1), lambda t: t.unsqueeze(1)),
    "unsqueeze_-1": (lambda t: t.unsqueeze(-1), lambda t: t.unsqueeze(-1)),
    "flatten": (lambda t: t.flatten(), lambda t: t.flatten()),
    "flatten_1": (lambda t: t.flatten(1), lambda t: t.flatten(1)),
    "slice": (lambda t: t[1:, ::2, -3:], lambda t: t[1:, ::2, -3:]),
    "int_index": (lambda t: t[1, 2], lambda t: t[1, 2]),
    "ellipsis_none": (lambda t: t[..., None, 1], lambda t: t[..., None, 1]),
    "array_index_repeats": (lambda t: t[:, IDX], lambda t: t[:, IDX]),
    "array_index_pairs": (
        lambda t: t[np.array([0, 1, 1]), np.array([2, 0, 2])],
        lambda t: t[np.array([0, 1, 1]), np.array([2, 0, 2])],
    ),
    "list_index": (lambda t: t[[1, 1, 0]], lambda t: t[[1, 1, 0]]),
    "bool_mask": (lambda t: t[:, MASK], lambda t: t[:, MASK]),
    "split": (lambda t: t.split(1, dim=1), lambda t: t.split(1, dim=1)),
    "split_sizes": (lambda t: t.split([1, 3], dim=2), lambda t: t.split([1, 3], dim=2)),
    "chunk": (lambda t: t.chunk(2, dim=2), lambda t: t.chunk(2, dim=2)),
    "split_use_one": (lambda t: t.split(2, dim=2)[1], lambda t: t.split(2, dim=2)[1]),
    "pad": (
        lambda t: F.pad(t, (1, 2, 0, 1), value=0.5),
        lambda t: __import__("torch").nn.functional.pad(t, (1, 2, 0, 1), value=0.5),
    ),
    "clone": (lambda t: t.clone(), lambda t: t.clone()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_op_matches_torch_and_gradcheck(torch, name):
    fe, ft = CASES[name]
    x = randn(2, 3, 4, seed=7)
    for dtype in (np.float64, np.float32):
        compare_with_torch(torch, fe, ft, [x], dtype)
    check_gradients(fe, [x])


def test_repeated_index_gradient_accumulates():
    x = ember.tensor(np.arange(4.0), requires_grad=True)
    x[np.array([1, 1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad.array, [0.0, 3.0, 0.0, 1.0])


def test_index_with_an_integer_tensor():
    x = ember.tensor(randn(4, 2), requires_grad=True)
    i = ember.tensor(np.array([3, 0, 3]))
    y = x[i]
    np.testing.assert_array_equal(y.array, x.array[[3, 0, 3]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array[:, 0], [1.0, 0.0, 0.0, 2.0])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack_match_torch(torch, dim):
    a, b, c = randn(2, 3, seed=1), randn(2, 3, seed=2), randn(2, 3, seed=3)
    for dtype in (np.float64, np.float32):
        compare_with_torch(
            torch,
            lambda *t: ember.cat(t, dim=dim),
            lambda *t: torch.cat(t, dim=dim),
            [a, b, c],
            dtype,
        )
        compare_with_torch(
            torch,
            lambda *t: ember.stack(t, dim=dim),
            lambda *t: torch.stack(t, dim=dim),
            [a, b, c],
            dtype,
        )
    check_gradients(lambda *t: ember.cat(t, dim=dim), [a, b, c])
    check_gradients(lambda *t: ember.stack(t, dim=dim), [a, b, c])


def test_cat_with_a_constant_input_and_unequal_sizes(torch):
    a, b = randn(2, 3, seed=1), randn(2, 5, seed=2)
    compare_with_torch(
        torch, lambda x, y: ember.cat([x, y], 1), lambda x, y: torch.cat([x, y], 1), [a, b]
    )
    x = ember.tensor(a, requires_grad=True)
    ember.cat([x, ember.tensor(b)], dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.array, np.ones_like(a))


def test_astype_keeps_the_graph():
    x = ember.tensor(randn(3), requires_grad=True)  # float64
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and y.requires_grad
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.array, 2.0)


# ---------------------------------------------------------------- errors


def test_reshape_mismatch_names_expected_and_got():
    x = ember.zeros(2, 3)
    with pytest.raises(ValueError, match=r"shape \(2, 3\) \(6 elements\) into shape \(4, 2\)"):
        x.reshape(4, 2)


def test_cat_mismatch_names_expected_and_got():
    with pytest.raises(ValueError, match=r"tensor 1 has shape \(3, 4\), expected \(2, 4\)"):
        ember.cat([ember.zeros(2, 4), ember.zeros(3, 4)], dim=1)
    with pytest.raises(ValueError, match="at least one"):
        ember.cat([])


def test_stack_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"tensor 1 has shape \(3,\), expected \(2,\)"):
        ember.stack([ember.zeros(2), ember.zeros(3)])


def test_split_sizes_must_sum_to_the_dim():
    with pytest.raises(ValueError, match=r"sum to 3, but dim 0 is 4"):
        ember.zeros(4).split([1, 2])


def test_setitem_on_a_tensor_that_requires_grad_is_refused():
    x = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        x[0] = 1.0
    with ember.no_grad():
        x[0] = 1.0
    assert x.array[0] == 1.0


def test_split_and_chunk_of_an_empty_dim_as_torch(torch):
    """chunk(k) of an empty dim gives k empty pieces; split(0) only splits an empty dim."""
    for shape, call in (
        ((0, 3), lambda t: t.chunk(1)), ((0, 3), lambda t: t.chunk(3)),
        ((0, 3), lambda t: t.split(0)), ((0, 3), lambda t: t.split(2)),
        ((0, 3), lambda t: t.chunk(2, 1)), ((5,), lambda t: t.chunk(2)),
    ):  # fmt: skip
        got = call(ember.zeros(*shape))
        want = call(torch.zeros(*shape))
        assert [tuple(g.shape) for g in got] == [tuple(w.shape) for w in want]
    for bad in (0, -1):
        with pytest.raises(RuntimeError) as theirs:
            torch.zeros(3).split(bad)
        with pytest.raises(RuntimeError, match="split") as ours:
            ember.zeros(3).split(bad)
        assert str(ours.value) == str(theirs.value)


def test_broadcast_to_takes_one_int_as_torch(torch):
    x = np.array([1.0, 2.0, 3.0])
    for size in (-1, 3):
        assert tuple(ember.tensor(x).broadcast_to(size).shape) == tuple(
            torch.tensor(x).broadcast_to(size).shape
        )
