"""nn.init extras: trunc_normal_ statistics against the truncated normal's, eye_ and dirac_
exactly as torch's, sparse_'s zeros per column."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import truncnorm

import ember
from ember.nn import init


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 0.2, 0.3, 1.5)])
def test_trunc_normal_statistics(mean, std, a, b):
    ember.manual_seed(0)
    w = init.trunc_normal_(ember.empty(400, 300), mean, std, a, b).array
    assert w.dtype == np.float32 and w.shape == (400, 300)
    assert w.min() >= a and w.max() <= b
    dist = truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert abs(w.mean() - dist.mean()) < 0.01 * std
    assert abs(w.std() - dist.std()) < 0.01 * std


def test_trunc_normal_seeded():
    ember.manual_seed(3)
    w1 = init.trunc_normal_(ember.empty(5, 4)).array.copy()
    ember.manual_seed(3)
    np.testing.assert_array_equal(init.trunc_normal_(ember.empty(5, 4)).array, w1)


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (6, 4)])
def test_eye_matches_torch(shape):
    w = init.eye_(ember.randn(*shape))
    np.testing.assert_array_equal(w.array, torch.nn.init.eye_(torch.empty(shape)).numpy())
    with pytest.raises(ValueError, match="only 2-D"):
        init.eye_(ember.empty(2, 2, 2))


@pytest.mark.parametrize(
    "shape,groups",
    [((4, 4, 3), 1), ((6, 3, 3, 3), 1), ((2, 5, 4, 4), 1), ((8, 2, 3, 3), 2), ((6, 2, 1, 3, 5), 3)],
)
def test_dirac_matches_torch(shape, groups):
    w = init.dirac_(ember.randn(*shape), groups)
    expected = torch.nn.init.dirac_(torch.randn(shape), groups).numpy()
    np.testing.assert_array_equal(w.array, expected)


def test_dirac_is_identity_convolution():
    conv = ember.nn.Conv2d(3, 3, 3, padding=1, bias=False)
    init.dirac_(conv.weight)
    x = ember.randn(2, 3, 5, 5)
    np.testing.assert_allclose(conv(x).array, x.array, atol=1e-6)


def test_dirac_errors():
    with pytest.raises(ValueError, match="only 3, 4 or 5-D"):
        init.dirac_(ember.empty(3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(ember.empty(5, 2, 3), groups=2)


@pytest.mark.parametrize("sparsity", [0.1, 0.35, 0.5])
def test_sparse_zero_fraction_per_column(sparsity):
    rows, cols = 40, 200
    w = init.sparse_(ember.empty(rows, cols), sparsity, std=0.5).array
    zeros_per_col = (w == 0).sum(0)
    np.testing.assert_array_equal(zeros_per_col, math.ceil(sparsity * rows))
    nz = w[w != 0]
    assert abs(nz.std() - 0.5) < 0.02 and abs(nz.mean()) < 0.02
    with pytest.raises(ValueError, match="only 2-D"):
        init.sparse_(ember.empty(2, 2, 2), 0.5)
