"""matmul in all of NumPy's shape cases and the fused linear map: gradcheck, torch reference,
and errors that name both shapes."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from tests.core_reference import check_gradients, compare_with_torch, randn

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (4, 5)),  # batch @ matrix: the weight gradient folds the batch into one GEMM
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (3, 4, 2)),  # batch dims broadcast
    ((3, 4), (2, 4, 5)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch_and_gradcheck(torch, shapes):
    a, b = randn(*shapes[0], seed=1), randn(*shapes[1], seed=2)
    for dtype in (np.float64, np.float32):
        compare_with_torch(torch, lambda x, y: x @ y, lambda x, y: x @ y, [a, b], dtype)
    check_gradients(lambda x, y: x @ y, [a, b])


def test_rmatmul_with_an_array():
    w = randn(4, 2, seed=3)
    x = ember.tensor(randn(3, 4), requires_grad=True)
    y = randn(5, 3) @ x  # ndarray @ Tensor defers to Tensor.__rmatmul__
    assert isinstance(y, ember.Tensor) and y.shape == (5, 4)
    np.testing.assert_allclose((x @ w).array, x.array @ w)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(5, 4), (2, 3, 4), (4,)], ids=str)
def test_linear_matches_torch_and_gradcheck(torch, x_shape, bias):
    x, w, b = randn(*x_shape, seed=1), randn(3, 4, seed=2), randn(3, seed=3)
    arrays = [x, w, b] if bias else [x, w]
    for dtype in (np.float64, np.float32):
        compare_with_torch(torch, F.linear, torch.nn.functional.linear, arrays, dtype)
    check_gradients(F.linear, arrays)


def test_linear_with_a_frozen_input_gives_only_weight_gradients():
    x = ember.tensor(randn(5, 4))
    w = ember.tensor(randn(3, 4), requires_grad=True)
    F.linear(x, w).sum().backward()
    np.testing.assert_allclose(w.grad.array, np.ones((5, 3)).T @ x.array)
    assert x.grad is None


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"shapes \(3, 4\) and \(5, 2\) cannot be multiplied"):
        ember.zeros(3, 4) @ ember.zeros(5, 2)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        ember.zeros(2, 3) @ ember.zeros(4)


def test_linear_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"input of shape \(8, 5\).*weight of shape \(3, 4\)"):
        F.linear(ember.zeros(8, 5), ember.zeros(3, 4))
    layer = ember.nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"\(2, 7\).*expects 4"):
        layer(ember.zeros(2, 7))


def test_functional_linear_takes_a_weight_vector(torch):
    """torch's F.linear with a 1-D weight: y = x·w + b, the last dim gone, gradients included."""
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    w, b = np.arange(4.0) - 1.5, np.array(0.25)
    got = []
    for lib, fn in ((ember, F.linear), (torch, torch.nn.functional.linear)):
        xs, ws, bs = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = fn(xs, ws, bs)
        (y * y).sum().backward()
        got.append([y.detach().numpy(), xs.grad.numpy(), ws.grad.numpy(), bs.grad.numpy()])
    assert got[0][0].shape == (2, 3)
    for g, t in zip(*got):
        np.testing.assert_allclose(g, t, rtol=1e-12)
