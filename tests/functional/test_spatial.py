"""affine_grid (alone and feeding grid_sample), gumbel_softmax and pdist against torch (float64
values and gradients), gradcheck, and the statistics of the Gumbel-softmax samples. grid_sample
itself: test_grid_sample.py."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from ember.functional import spatial as S
from tests.core_reference import check_gradients, compare_with_torch, randn


def _grid(shape, seed=1, reach=1.7):
    """Uniform in [−reach, reach]²: points inside, near and well outside the image."""
    return np.random.default_rng(seed).uniform(-reach, reach, shape)


# ---------------------------------------------------------------- affine_grid


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(1, 2, 5, 7), (3, 1, 4, 3), (2, 1, 3, 4, 5), (1, 1, 1, 3, 2)])
def test_affine_grid_matches_torch(torch, size, align_corners):
    rows, cols = (2, 3) if len(size) == 4 else (3, 4)
    theta = randn(size[0], rows, cols, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unit-size grids with align_corners warn in both
        compare_with_torch(
            torch,
            lambda t: S.affine_grid(t, size, align_corners=align_corners),
            lambda t: torch.nn.functional.affine_grid(t, size, align_corners=align_corners),
            [theta],
        )


def test_affine_grid_gradcheck():
    check_gradients(lambda t: S.affine_grid(t, (2, 1, 3, 4), align_corners=False),
                    [randn(2, 2, 3)])  # fmt: skip


@pytest.mark.parametrize("align_corners", [False, True])
def test_spatial_transformer_identity_round_trip(align_corners):
    """affine_grid(identity) + grid_sample reproduces the input exactly."""
    x = randn(3, 2, 5, 7, seed=5)
    theta = ember.tensor(np.tile(np.eye(2, 3), (3, 1, 1)), requires_grad=True)
    grid = S.affine_grid(theta, x.shape, align_corners=align_corners)
    xe = ember.tensor(x, requires_grad=True)
    y = S.grid_sample(xe, grid, align_corners=align_corners)
    np.testing.assert_allclose(y.array, x, rtol=1e-12, atol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(xe.grad.array, np.ones_like(x), rtol=1e-12, atol=1e-12)
    assert theta.grad is not None and np.isfinite(theta.grad.array).all()


def test_spatial_transformer_gradients_match_torch(torch):
    """θ → affine_grid → grid_sample, gradients w.r.t. the image and θ."""
    theta = np.tile(np.array([[0.9, 0.3, 0.1], [-0.2, 1.1, -0.15]]), (3, 1, 1))
    theta += 0.05 * randn(3, 2, 3, seed=6)
    size = (3, 2, 6, 5)

    def run(F, x, t):
        g = F.affine_grid(t, size, align_corners=False)
        return F.grid_sample(x, g, padding_mode="border", align_corners=False)

    compare_with_torch(
        torch, lambda x, t: run(S, x, t), lambda x, t: run(torch.nn.functional, x, t),
        [randn(*size, seed=7), theta],
    )  # fmt: skip


def test_align_corners_none_warns_and_means_false():
    x, g = ember.tensor(randn(1, 1, 4, 4)), ember.tensor(_grid((1, 3, 3, 2)))
    with pytest.warns(UserWarning, match="align_corners=False"):
        y = S.grid_sample(x, g)
    np.testing.assert_array_equal(y.array, S.grid_sample(x, g, align_corners=False).array)
    theta = ember.tensor(randn(1, 2, 3))
    with pytest.warns(UserWarning, match="align_corners=False"):
        a = S.affine_grid(theta, (1, 1, 3, 4))
    np.testing.assert_array_equal(a.array, S.affine_grid(theta, (1, 1, 3, 4), False).array)


def test_affine_grid_bad_theta():
    with pytest.raises(ValueError, match="Nx2x3"):
        S.affine_grid(ember.tensor(randn(1, 3, 4)), (1, 1, 3, 3), align_corners=False)


# ---------------------------------------------------------------- gumbel_softmax


def test_gumbel_softmax_soft_rows_sum_to_one():
    logits = ember.tensor(randn(6, 5))
    for dim in (-1, 0):
        y = S.gumbel_softmax(logits, tau=0.5, dim=dim).array
        assert (y > 0).all()
        np.testing.assert_allclose(y.sum(axis=dim), 1.0, rtol=1e-12)


def test_gumbel_softmax_hard_is_one_hot_with_soft_gradient():
    logits = randn(8, 4, seed=8)
    w = ember.tensor(randn(8, 4, seed=9))
    grads, outs = [], []
    for hard in (False, True):
        ember.manual_seed(11)
        t = ember.tensor(logits, requires_grad=True)
        y = S.gumbel_softmax(t, tau=0.7, hard=hard)
        (y * w).sum().backward()
        grads.append(t.grad.array)
        outs.append(y.array)
    soft, hard = outs
    np.testing.assert_array_equal(hard.sum(axis=-1), 1.0)
    assert set(np.unique(hard)) <= {0.0, 1.0}
    np.testing.assert_array_equal(hard.argmax(-1), soft.argmax(-1))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-15)
    assert np.abs(grads[0]).max() > 1e-3


def test_gumbel_softmax_gradcheck():
    def f(t):
        ember.manual_seed(3)  # the same noise on every evaluation
        return S.gumbel_softmax(t, tau=0.8)

    check_gradients(f, [randn(3, 5, seed=10)])


def test_gumbel_softmax_frequencies_follow_softmax():
    """argmax of the sample is distributed as softmax(logits) (the Gumbel-max trick)."""
    n = 40_000
    logits = np.array([1.0, -0.5, 0.3, 2.0, 0.0])
    p = np.exp(logits) / np.exp(logits).sum()
    ember.manual_seed(123)
    y = S.gumbel_softmax(ember.tensor(np.tile(logits, (n, 1))), tau=0.3, hard=True).array
    freq = y.mean(axis=0)
    sigma = np.sqrt(p * (1 - p) / n)
    assert (np.abs(freq - p) < 4.5 * sigma).all(), (freq, p)
    # the soft sample's mean is not softmax(logits), but its argmax frequencies are
    assert abs(freq[3] - p[3]) < 4.5 * sigma[3]


def test_gumbel_softmax_seeded_repeatability():
    logits = ember.tensor(randn(4, 6))
    ember.manual_seed(7)
    a = S.gumbel_softmax(logits).array
    ember.manual_seed(7)
    b = S.gumbel_softmax(logits).array
    c = S.gumbel_softmax(logits).array
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_gumbel_softmax_float32_and_tau_sharpens():
    logits = ember.tensor(randn(500, 3).astype(np.float32))
    ember.manual_seed(1)
    cold = S.gumbel_softmax(logits, tau=0.05)
    hot = S.gumbel_softmax(logits, tau=5.0)
    assert cold.dtype == hot.dtype == np.float32
    assert np.mean(cold.array.max(-1) > 0.99) > 0.8  # low temperature: nearly one-hot
    assert hot.array.max(-1).mean() < 0.5  # high temperature: near uniform (1/3)


# ---------------------------------------------------------------- pdist


@pytest.mark.parametrize("p", [1, 2, 3, math.inf, 0.5])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4), (7, 1)])
def test_pdist_matches_torch(torch, shape, p):
    compare_with_torch(
        torch,
        lambda x: S.pdist(x, p),
        lambda x: torch.nn.functional.pdist(x, p),
        [randn(*shape, seed=12)],
    )


@pytest.mark.parametrize("p", [1, 2])
def test_pdist_repeated_rows(torch, p):
    """Two equal rows: distance 0 and, as torch, a zero (not NaN) gradient."""
    x = randn(4, 3, seed=13)
    x[2] = x[0]
    compare_with_torch(
        torch, lambda x: S.pdist(x, p), lambda x: torch.nn.functional.pdist(x, p), [x]
    )


def test_pdist_order_zero_and_single_row(torch):
    x = randn(5, 3, seed=14)
    x[1, 0] = x[3, 0]
    got = S.pdist(ember.tensor(x), 0).array
    np.testing.assert_array_equal(got, torch.nn.functional.pdist(torch.tensor(x), 0).numpy())
    assert S.pdist(ember.tensor(randn(1, 3)), 2).shape == (0,)


@pytest.mark.parametrize("p", [1, 2, 3, math.inf])
def test_pdist_gradcheck(p):
    check_gradients(lambda x: S.pdist(x, p), [randn(4, 3, seed=15)])
