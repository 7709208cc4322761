"""Where the dims of array indices go: torch's rule, which differs from NumPy's.

torch takes integers (and 0-d integer tensors) as selects before the array indices, and an
Ellipsis standing for no dims separates nothing; NumPy counts integers as array indices and
any Ellipsis as a separator. ember indexed as NumPy does, so ``x[0, :, idx]`` came out with
idx's dims first. Values, shapes and gradients (getitem and setitem) against torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

A = np.array([2, 0, 1, 1])
M = np.array([True, False, True, True])
CASES = [
    ((3, 5, 4), (0, slice(None), A)),  # an int, a slice, an array: torch keeps the array in place
    ((3, 5, 4), (-1, slice(1, None), A.reshape(2, 2))),
    ((3, 5, 4), (slice(None), A, Ellipsis, A)),  # an Ellipsis of no dims between arrays
    ((3, 5, 4), (1, Ellipsis, A)),
    ((2, 3, 4, 4), (slice(None), -1, M, Ellipsis, M)),
    ((3, 5, 4), (None, A[:3], None, "0-d")),  # a 0-d integer tensor is a select too
    ((3, 5, 4), (A[:3], slice(None), 0)),  # the int after: NumPy and torch agree (first)
    ((3, 5, 4), (slice(None), 0, A)),  # together in both
    ((3, 5, 4), (A[:3], slice(None), A[:3])),  # apart in both
]


def _index(lib, index):
    return tuple(
        lib.tensor(1) if isinstance(e, str) else lib.tensor(e) if isinstance(e, np.ndarray) else e
        for e in index
    )


@pytest.mark.parametrize("shape, index", CASES)
def test_getitem_places_array_dims_as_torch(torch, shape, index):
    x = np.arange(float(np.prod(shape))).reshape(shape)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = xe[_index(ember, index)], xt[_index(torch, index)]
    assert ye.shape == tuple(yt.shape) and ye.is_contiguous()
    np.testing.assert_array_equal(ye.detach().numpy(), yt.detach().numpy())
    w = np.random.default_rng(0).standard_normal(tuple(yt.shape))
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())
    with ember.no_grad():  # the path that records nothing
        np.testing.assert_array_equal(xe[_index(ember, index)].numpy(), yt.detach().numpy())


@pytest.mark.parametrize("shape, index", CASES)
@pytest.mark.parametrize("grad", [False, True])
def test_setitem_broadcasts_the_value_to_torchs_layout(torch, shape, index, grad):
    x = np.zeros(shape)
    sel = tuple(torch.tensor(x)[_index(torch, index)].shape)
    v = np.random.default_rng(1).standard_normal(sel[1:])  # broadcast along the first dim
    xe, xt = ember.tensor(x, requires_grad=grad) * 1.0, torch.tensor(x, requires_grad=grad) * 1.0
    ve, vt = ember.tensor(v, requires_grad=grad), torch.tensor(v, requires_grad=grad)
    xe[_index(ember, index)] = ve
    xt[_index(torch, index)] = vt
    np.testing.assert_array_equal(xe.detach().numpy(), xt.detach().numpy())
    if grad:
        w = np.random.default_rng(2).standard_normal(shape)
        (xe * ember.tensor(w)).sum().backward()
        (xt * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(ve.grad.numpy(), vt.grad.numpy(), rtol=1e-12)
