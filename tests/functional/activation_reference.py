"""What the activation edge tests (test_activations_as_torch_edges.py,
test_activation_gradients_as_torch_edges.py) share: the functional namespace of either library,
and a function's value, create_graph gradient and second derivative, ember's against torch's."""

import numpy as np

import ember


def _F(lib):
    return lib.functional if lib is ember else lib.nn.functional


def _grads(lib, f, values, dtype="float64", upstream=None):
    """(y, ∂y/∂x with create_graph, ∂(Σ ∂y/∂x)/∂x) of f at ``values``."""
    x = lib.tensor(np.asarray(values, dtype=dtype), requires_grad=True)
    y = f(lib, x)
    g = lib.ones_like(y) if upstream is None else lib.tensor(upstream)
    (gx,) = lib.autograd.grad(y, x, g, create_graph=True)
    (g2,) = lib.autograd.grad(gx.sum(), x, allow_unused=True)
    return [None if t is None else t.detach().numpy() for t in (y, gx, g2)]


def _alike(torch, f, values, dtype="float64", upstream=None):
    both = (_grads(lib, f, values, dtype, upstream) for lib in (ember, torch))
    for e, t in zip(*both):
        assert (e is None) == (t is None)
        if e is not None:
            np.testing.assert_allclose(e, t, rtol=1e-12, atol=0)
