"""What the normalisation edge tests (test_normalization_as_torch_edges.py,
test_normalization_more_as_torch_edges.py) share: the functional namespace of either library,
a float64 leaf, and ember's result held to torch's (shape, dtype, values)."""

import numpy as np

import ember


def _F(lib):
    return ember.nn.functional if lib is ember else lib.nn.functional


def _leaf(lib, a):
    return lib.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def _same(e, t, tol=1e-10):
    assert tuple(e.shape) == tuple(t.shape)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(
        np.asarray(e.detach().numpy(), dtype=np.float64),
        t.detach().double().numpy(),
        rtol=tol,
        atol=tol,
    )
