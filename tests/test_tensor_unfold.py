"""Tensor.unfold(dimension, size, step): torch's sliding windows along one axis, with gradient."""

import numpy as np
import pytest

import ember

# (shape, dimension, size, step): overlapping, disjoint, with gaps, other axes, negative dim,
# a window as long as the axis, size 0
CASES = [
    ((2, 7), 1, 3, 1),
    ((2, 7), 1, 2, 2),
    ((2, 9), -1, 2, 3),
    ((5, 3, 4), 0, 3, 2),
    ((4, 6, 2), 1, 4, 1),
    ((3, 5), 1, 5, 1),
    ((6,), 0, 0, 2),
]


@pytest.mark.parametrize("shape,dim,size,step", CASES)
def test_unfold_values_and_gradient_equal_torch(torch, shape, dim, size, step):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    ex = ember.tensor(x, requires_grad=True)
    ey = ex.unfold(dim, size, step)
    tx = torch.tensor(x, requires_grad=True)
    ty = tx.unfold(dim, size, step)
    assert ey.shape == tuple(ty.shape)
    np.testing.assert_array_equal(ey.array, ty.detach().numpy())
    gy = rng.standard_normal(ey.shape)
    ey.backward(ember.tensor(gy))
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,dim,size,step", CASES[:5])
def test_unfold_gradcheck(shape, dim, size, step):
    x = ember.tensor(np.random.default_rng(1).standard_normal(shape), requires_grad=True)
    assert ember.gradcheck(lambda t: t.unfold(dim, size, step), [x])


def test_unfold_of_a_scalar_and_bad_arguments(torch):
    assert ember.tensor(3.0).unfold(0, 1, 1).tolist() == torch.tensor(3.0).unfold(0, 1, 1).tolist()
    x = ember.randn(2, 5)
    with pytest.raises(ValueError, match="window size 6 must be within 0 and the size 5"):
        x.unfold(1, 6, 1)
    with pytest.raises(ValueError, match="step must be positive, got 0"):
        x.unfold(1, 2, 0)
    with pytest.raises(IndexError, match="dimension 2 out of range"):
        x.unfold(2, 2, 1)
