"""Reductions (sum, mean, max, min, var, std, logsumexp) over every kind of axis, and the
softmax family: gradcheck and torch reference."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.core_reference import check_gradients, compare_with_torch, randn

AXES = [None, 0, 1, -1, (0, 2)]


def _torch_dims(axis):
    return {} if axis is None else {"dim": axis}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "logsumexp"])
def test_reduction_matches_torch_and_gradcheck(torch, name, axis, keepdims):
    x = randn(2, 3, 4, seed=3)

    def fe(t):
        return getattr(t, name)(axis=axis, keepdims=keepdims)

    def ft(t):
        if name == "logsumexp" and axis is None:
            return t.logsumexp(dim=(0, 1, 2), keepdim=keepdims)
        if axis is None and not keepdims:
            return getattr(t, name)()
        dims = (0, 1, 2) if axis is None else axis
        return getattr(t, name)(dim=dims, keepdim=keepdims)

    for dtype in (np.float64, np.float32):
        compare_with_torch(torch, fe, ft, [x], dtype)
    check_gradients(fe, [x])


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_match_torch_amax_amin(torch, name, axis, keepdims):
    x = randn(2, 3, 4, seed=4)
    tname = "amax" if name == "max" else "amin"
    dims = (0, 1, 2) if axis is None else axis

    def fe(t):
        return getattr(t, name)(axis=axis, keepdims=keepdims)

    def ft(t):
        return getattr(t, tname)(dim=dims, keepdim=keepdims)

    compare_with_torch(torch, fe, ft, [x])
    compare_with_torch(torch, fe, ft, [x], np.float32)
    check_gradients(fe, [x])


def test_max_ties_share_the_gradient_as_torch_amax(torch):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    compare_with_torch(torch, lambda t: t.max(axis=1), lambda t: t.amax(dim=1), [x])


def test_max_with_dim_returns_values_and_indices_as_torch(torch):
    x = randn(3, 5, seed=5)
    ve, ie = ember.tensor(x).max(dim=1)
    vt, it = torch.tensor(x).max(dim=1)
    np.testing.assert_array_equal(ve.array, vt.numpy())
    np.testing.assert_array_equal(ie.array, it.numpy())


def test_torch_style_dim_keepdim_arguments():
    x = ember.tensor(randn(2, 3))
    np.testing.assert_allclose(x.sum(dim=1, keepdim=True).array, x.array.sum(1, keepdims=True))
    np.testing.assert_allclose(x.mean(dim=0).array, x.array.mean(0))


def test_var_uses_torch_default_correction(torch):
    x = randn(6, 3, seed=2)
    np.testing.assert_allclose(ember.tensor(x).var().item(), torch.tensor(x).var().item())
    np.testing.assert_allclose(
        ember.tensor(x).var(axis=0, correction=0).array, torch.tensor(x).var(dim=0, correction=0)
    )
    np.testing.assert_allclose(
        ember.tensor(x).var(dim=0, unbiased=False).array, x.var(0), rtol=1e-12
    )


def test_logsumexp_is_stable_for_huge_values(torch):
    x = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e30, 0.0, 5.0]])
    compare_with_torch(torch, lambda t: t.logsumexp(axis=1), lambda t: t.logsumexp(dim=1), [x])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_gradcheck_and_torch(torch, name, dim):
    x = randn(3, 4, 5, seed=6)
    fe = getattr(ember.functional, name)
    ft = getattr(torch.nn.functional, name)
    for dtype in (np.float64, np.float32):
        compare_with_torch(torch, lambda t: fe(t, dim=dim), lambda t: ft(t, dim=dim), [x], dtype)
    check_gradients(lambda t: fe(t, dim=dim), [x])


def test_reduction_axis_out_of_range_is_a_clear_error():
    with pytest.raises(IndexError, match="axis 3 is out of range for a tensor of 2 dimensions"):
        ember.tensor(randn(2, 3)).sum(axis=3)


def test_max_of_empty_tensor_raises():
    with pytest.raises(RuntimeError, match=r"reduced dim 0 to have non-zero size"):
        ember.zeros(0, 3).max()
