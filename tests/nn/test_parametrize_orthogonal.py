"""parametrizations.orthogonal against torch: each map (matrix_exp, Cayley, Householder) on
square, tall and wide weights gives torch's weight, state_dict names, outputs and gradients;
the weight stays orthogonal through training (and an orthogonal RNN's gradient keeps its size
through time); assignment, use_trivialization=False, torch's errors."""

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import parametrizations as P

RNG = np.random.default_rng(4)

CASES = [((5, 5), None), ((5, 5), "cayley"), ((5, 5), "householder"), ((6, 3), None),
         ((3, 6), None), ((6, 3), "matrix_exp"), ((4, 6), "cayley")]  # fmt: skip


def _orthogonal_pair(torch, shape, orthogonal_map, **kw):
    w = RNG.standard_normal(shape)
    e, t = nn.Linear(shape[1], shape[0]).double(), torch.nn.Linear(shape[1], shape[0]).double()
    e.weight.data, t.weight.data = ember.tensor(w), torch.tensor(w)
    e.bias.data = ember.tensor(t.bias.detach().numpy())
    P.orthogonal(e, orthogonal_map=orthogonal_map, **kw)
    torch.nn.utils.parametrizations.orthogonal(t, orthogonal_map=orthogonal_map, **kw)
    # the same base (a tall weight's completion is random): torch's state into ember
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return e, t


def _gram_error(q) -> float:
    n, k = q.shape
    g = q.T @ q if n >= k else q @ q.T
    return float(np.abs(g - np.eye(min(n, k))).max())


@pytest.mark.parametrize("shape, orthogonal_map", CASES)
def test_weight_output_and_gradients_match_torch(torch, shape, orthogonal_map):
    e, t = _orthogonal_pair(torch, shape, orthogonal_map)
    assert sorted(e.state_dict()) == sorted(t.state_dict())
    np.testing.assert_allclose(e.weight.array, t.weight.detach().numpy(), atol=1e-12)
    assert _gram_error(e.weight.array) < 1e-12
    x = RNG.standard_normal((4, shape[1]))
    ey, ty = e(ember.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(ey.array, ty.detach().numpy(), atol=1e-12)
    (ey**3).sum().backward()
    (ty**3).sum().backward()
    tp = dict(t.named_parameters())
    for k, p in e.named_parameters():
        np.testing.assert_allclose(p.grad.array, tp[k].grad.numpy(), atol=1e-10)


def test_training_keeps_the_weight_orthogonal_and_matches_torch(torch):
    e, t = _orthogonal_pair(torch, (6, 6), None)
    oe, ot = ember.optim.SGD(e.parameters(), lr=0.1), torch.optim.SGD(t.parameters(), lr=0.1)
    x, y = RNG.standard_normal((8, 6)), RNG.standard_normal((8, 6))
    for _ in range(5):
        for m, opt, lib in ((e, oe, ember), (t, ot, torch)):
            opt.zero_grad()
            ((m(lib.tensor(x)) - lib.tensor(y)) ** 2).mean().backward()
            opt.step()
    np.testing.assert_allclose(e.weight.array, t.weight.detach().numpy(), atol=1e-10)
    assert _gram_error(e.weight.array) < 1e-12


def test_assignment_and_householder_without_trivialization(torch):
    e, t = _orthogonal_pair(torch, (5, 3), "householder", use_trivialization=False)
    assert "parametrizations.weight.0.base" not in e.state_dict()
    np.testing.assert_allclose(e.weight.array, t.weight.detach().numpy(), atol=1e-12)
    q = np.linalg.qr(RNG.standard_normal((5, 3)))[0]
    e.weight, t.weight = ember.tensor(q), torch.tensor(q)
    np.testing.assert_allclose(e.weight.array, t.weight.detach().numpy(), atol=1e-12)
    m = nn.Linear(4, 4).double()
    P.orthogonal(m, orthogonal_map="cayley", use_trivialization=False)
    with pytest.raises(NotImplementedError, match="not possible to assign to the matrix exp"):
        m.weight = ember.eye(4, dtype=ember.float64)


def test_an_orthogonal_rnn_keeps_its_gradient_through_time():
    """h_t = W_hh·h_{t-1} + x_t with W_hh orthogonal: ‖∂L/∂h_0‖ = ‖∂L/∂h_T‖ (identity
    activation), where a random W_hh of the same scale lets it decay or blow up."""
    ember.manual_seed(0)
    rnn = nn.RNN(4, 16, nonlinearity="relu", bias=False).double()
    P.orthogonal(rnn, "weight_hh_l0")
    q = rnn.weight_hh_l0.array
    assert _gram_error(q) < 1e-12
    g = np.ones(16)
    for _ in range(100):
        g = q.T @ g
    assert abs(np.linalg.norm(g) - 4.0) < 1e-9
    x = ember.tensor(RNG.standard_normal((5, 2, 4)))
    out, _ = rnn(x)
    out.sum().backward()
    assert rnn.parametrizations.weight_hh_l0.original.grad is not None


def test_errors_as_torch(torch):
    for lib, mod in ((ember, P), (torch, torch.nn.utils.parametrizations)):
        with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
            mod.orthogonal(lib.nn.LayerNorm(3))
        with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp"'):
            mod.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="qr")
        with pytest.raises(ValueError, match="has no parameter or buffer with name 'w'"):
            mod.orthogonal(lib.nn.Linear(3, 3), name="w")
