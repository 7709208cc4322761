"""Tensor.unflatten against torch: -1 inferred from the dimension's own size (also in an empty
tensor, where a reshape cannot infer it), and torch's refusals."""

import numpy as np
import pytest

import ember

GOOD = [
    ((4, 6), 1, (2, -1)),
    ((4, 6), -1, (3, 2)),
    ((4, 6), 1, [2, 3]),
    ((4, 6), 0, (-1,)),
    ((4, 0, 2), 2, (2, -1)),  # -1 of dim 2 is 1, though the tensor holds nothing
    ((4, 0, 2), 1, (0, 3)),
    ((4, 0, 2), -1, (1, 1, 2)),
]
BAD = [
    ((4, 6), 1, (4, 2), "don't multiply up"),
    ((4, 6), 1, (-1, 4), "don't multiply up"),
    ((4, 6), 1, (0, -1), "don't multiply up"),
    ((4, 0, 2), 1, (2, 3), "don't multiply up"),
    ((4, 0, 2), 1, (-1, 0), "ambiguous"),
    ((4, 6), 1, (2, -1, -1), "one"),
    ((4, 6), 1, (), "non-empty"),
]


@pytest.mark.parametrize("shape,dim,sizes", GOOD)
def test_unflatten_as_torch(torch, shape, dim, sizes):
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    got, want = ember.tensor(a).unflatten(dim, sizes), torch.tensor(a).unflatten(dim, sizes)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("shape,dim,sizes,message", BAD)
def test_unflatten_refuses_what_torch_refuses(torch, shape, dim, sizes, message):
    with pytest.raises(RuntimeError):
        torch.zeros(shape).unflatten(dim, sizes)
    with pytest.raises(RuntimeError, match=message):
        ember.zeros(shape).unflatten(dim, sizes)


def test_unflatten_dims_out_of_range_are_refused(torch):
    for lib in (torch, ember):
        with pytest.raises(IndexError):
            lib.zeros(4, 6).unflatten(2, (2, 3))
        with pytest.raises(RuntimeError, match="no dimensions"):
            lib.tensor(1.0).unflatten(0, (1,))
