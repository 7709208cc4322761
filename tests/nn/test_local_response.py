"""LocalResponseNorm / F.local_response_norm against torch (values and gradients, float64 and
float32) for odd and even window sizes, windows wider than the channels, 3-D to 5-D inputs;
gradcheck; the module's repr and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.functional.local_response import local_response_norm
from ember.nn.local_response import LocalResponseNorm
from tests.core_reference import check_gradients, compare_with_torch, randn

CASES = [
    ((2, 7, 5), 3, 1e-4, 0.75, 1.0),  # 3-D (N, C, L)
    ((2, 6, 4, 3), 5, 1e-2, 0.75, 2.0),  # AlexNet's n, β, k with a larger α
    ((2, 6, 4, 3), 4, 0.5, 0.6, 1.5),  # even size: the window reaches one channel further back
    ((2, 6, 4, 3), 2, 1.0, 1.2, 0.5),
    ((1, 3, 2, 2), 9, 0.3, 0.75, 1.0),  # window wider than all the channels
    ((2, 5, 3, 2, 4), 3, 0.2, 0.75, 1.0),  # 5-D (N, C, D, H, W)
    ((2, 4, 3, 2, 2, 2), 2, 0.1, 0.5, 1.0),  # 6-D
    ((3, 4, 5), 1, 0.4, 0.75, 1.0),  # size 1: each channel alone
]


@pytest.mark.parametrize("shape, size, alpha, beta, k", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_local_response_norm_matches_torch(torch, shape, size, alpha, beta, k, dtype):
    compare_with_torch(
        torch,
        lambda x: local_response_norm(x, size, alpha, beta, k),
        lambda x: torch.nn.functional.local_response_norm(x, size, alpha, beta, k),
        [3 * randn(*shape, seed=len(shape) + size)],
        dtype=dtype,
    )


@pytest.mark.parametrize("shape, size", [((2, 5, 3), 3), ((1, 4, 2, 3), 4), ((1, 3, 2, 1, 2), 5)])
def test_local_response_norm_gradcheck(shape, size):
    check_gradients(lambda x: local_response_norm(x, size, 0.3, 0.75, 1.5), [randn(*shape)])


def test_local_response_norm_by_hand():
    """b_c = a_c / (k + α/n Σ a²)^β with the window [c − ⌊n/2⌋, c + ⌈n/2⌉ − 1], zero-padded."""
    a = np.arange(1.0, 6.0).reshape(1, 5, 1)  # channels 1..5
    n, alpha, beta, k = 4, 0.1, 0.75, 2.0
    y = local_response_norm(ember.tensor(a), n, alpha, beta, k).array[0, :, 0]
    sq = np.concatenate([[0.0, 0.0], a[0, :, 0] ** 2, [0.0]])
    expect = [a[0, c, 0] / (k + alpha / n * sq[c : c + n].sum()) ** beta for c in range(5)]
    np.testing.assert_allclose(y, expect, rtol=1e-12)


def test_module_matches_torch_module(torch):
    x = randn(2, 8, 3, 3, seed=3)
    ours, theirs = LocalResponseNorm(5, k=2.0), torch.nn.LocalResponseNorm(5, k=2.0)
    compare_with_torch(torch, ours, theirs, [10 * x])
    assert repr(ours) == repr(theirs) == "LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2.0)"
    assert list(ours.state_dict()) == []


def test_errors_and_empty_input():
    with pytest.raises(ValueError, match="3D or higher"):
        local_response_norm(ember.randn(4, 5), 3)
    empty = ember.zeros(0, 3, 4)
    assert local_response_norm(empty, 3).shape == (0, 3, 4)
