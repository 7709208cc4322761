"""Second derivatives through the fused recurrent layers (autograd_higher_rnn.py): against
torch, and by finite differences where torch has no counterpart (lengths, Cho's GRU)."""

import numpy as np
import pytest

import ember

X = np.random.default_rng(0).standard_normal((5, 3, 4))

LAYERS = [
    ("LSTM", {}),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(proj_size=3)),
    ("GRU", dict(bidirectional=True)),
    ("RNN", dict(nonlinearity="relu")),
    ("RNN", dict(num_layers=2)),
]


@pytest.mark.parametrize("kind, kw", LAYERS, ids=[f"{k}-{v}" for k, v in LAYERS])
def test_gradient_penalty_through_recurrent_layers_matches_torch(torch, kind, kw):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(4, 6, **kw).double()
    ours = getattr(ember.nn, kind)(4, 6, **kw).to(ember.float64)
    ours.load_state_dict(theirs.state_dict())
    got = []
    for lib, m in ((ember, ours), (torch, theirs)):
        x = lib.tensor(X, requires_grad=True)
        out, state = m(x)
        h_n = state[0] if isinstance(state, tuple) else state
        y = (out * out).sum() + (h_n * h_n.tanh()).sum()
        (gx,) = lib.autograd.grad(y, x, create_graph=True)
        (gx * gx).sum().backward()
        got.append([gx.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in m.parameters()])
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "kind, kw",
    [("LSTM", dict(bidirectional=True)), ("GRU", dict(reset_after=False)), ("RNN", {})],
)
def test_hessian_vector_products_with_lengths_equal_finite_differences(kind, kw):
    """Variable lengths (masked steps) and Cho et al.'s GRU: H·v against central differences."""
    ember.manual_seed(0)
    m = getattr(ember.nn, kind)(4, 6, **kw).to(ember.float64)
    lengths = ember.tensor(np.array([5, 2, 4]))
    v = np.random.default_rng(1).standard_normal(X.shape)

    def gradient(a, create_graph=False):
        x = ember.tensor(a, requires_grad=True)
        out = m(x, lengths=lengths)[0]
        (g,) = ember.autograd.grad((out * out.sin()).sum(), x, create_graph=create_graph)
        return x, g

    x, g = gradient(X, create_graph=True)
    (hv,) = ember.autograd.grad(g, x, grad_outputs=ember.tensor(v))
    eps = 1e-6
    plus, minus = gradient(X + eps * v)[1].numpy(), gradient(X - eps * v)[1].numpy()
    np.testing.assert_allclose(hv.numpy(), (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)
