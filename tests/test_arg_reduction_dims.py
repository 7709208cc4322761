"""x.max(dim) / x.min(dim) / argmax / argmin on 0-d tensors and out-of-range dims, as torch:
a 0-d tensor has dims 0 and −1 (its one element, index 0); other dims are torch's IndexError,
where ember used to fail with "tuple index out of range"; complex argmax is refused."""

import numpy as np
import pytest

import ember


@pytest.mark.parametrize("method", ["max", "min"])
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_extreme_along_dim_of_a_0d_tensor_equals_torch(torch, method, dim, keepdim):
    x = ember.tensor(3.5, requires_grad=True)
    tx = torch.tensor(3.5, requires_grad=True)
    values, indices = getattr(x, method)(dim, keepdim)
    t_values, t_indices = getattr(tx, method)(dim, keepdim)
    assert values.shape == tuple(t_values.shape) and indices.shape == tuple(t_indices.shape)
    assert values.item() == t_values.item() and indices.item() == t_indices.item() == 0
    values.backward()
    t_values.backward()
    assert x.grad.item() == tx.grad.item() == 1.0


@pytest.mark.parametrize("method", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_arg_reduction_of_a_0d_tensor_equals_torch(torch, method, dim):
    got = getattr(ember.tensor(2.0), method)(dim)
    want = getattr(torch.tensor(2.0), method)(dim)
    assert got.shape == tuple(want.shape) == () and got.item() == want.item() == 0
    assert got.dtype == np.int64


@pytest.mark.parametrize("shape, dim", [((), 1), ((), -2), ((2, 3), 2), ((2, 3), -3)])
@pytest.mark.parametrize("method", ["argmax", "argmin", "max", "min"])
def test_a_dim_out_of_range_is_torchs_index_error(torch, shape, dim, method):
    with pytest.raises(IndexError):
        getattr(torch.zeros(shape), method)(dim)
    with pytest.raises(IndexError, match=rf"{method}\(\): dim {dim} is out of range"):
        getattr(ember.zeros(shape), method)(dim)


def test_negative_dims_reduce_the_same_axis_as_torch(torch):
    a = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    for dim in (-1, -2, -3):
        for method in ("argmax", "argmin"):
            got = getattr(ember.tensor(a), method)(dim, keepdim=True)
            want = getattr(torch.tensor(a), method)(dim, keepdim=True)
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_complex_argmax_is_refused_as_torch(torch):
    with pytest.raises(RuntimeError):
        torch.tensor([1 + 1j]).argmax()
    with pytest.raises(RuntimeError, match=r"argmin\(\): does not support complex input"):
        ember.tensor([1 + 1j, 2 - 1j]).argmin(0)
