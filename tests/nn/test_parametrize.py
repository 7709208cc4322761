"""Parametrizations (nn.utils.parametrize) and weight/spectral norm on top of them, against
torch: same state_dict names, outputs and gradients, assignment, removal."""

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import parametrizations as P
from ember.nn.utils import parametrize


def _pair(torch, make_e, make_t):
    e, t = make_e(), make_t()
    t.load_state_dict({k: torch.tensor(v.array) for k, v in e.state_dict().items()})
    return e.double(), t.double()


def _check_step(torch, e, t, x, grads=True):
    ex, tx = ember.tensor(x), torch.tensor(x)
    ey, ty = e(ex), t(tx)
    np.testing.assert_allclose(ey.array, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    if grads:
        ey.sum().backward()
        ty.sum().backward()
        tp = dict(t.named_parameters())
        for k, p in e.named_parameters():
            np.testing.assert_allclose(p.grad.array, tp[k].grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(torch, dim):
    tw = torch.nn.utils.parametrizations.weight_norm
    e = P.weight_norm(nn.Linear(5, 4), dim=dim)
    t = tw(torch.nn.Linear(5, 4), dim=dim)
    assert list(e.state_dict()) == list(t.state_dict())
    assert type(e).__name__ == type(t).__name__ == "ParametrizedLinear"
    t.load_state_dict({k: torch.tensor(v.array) for k, v in e.state_dict().items()})
    e, t = e.double(), t.double()
    x = np.random.default_rng(0).standard_normal((3, 5))
    _check_step(torch, e, t, x)
    # g starts as the norm of each row: the weight is unchanged by registering
    w = np.random.default_rng(1).standard_normal((4, 5))
    lin = nn.Linear(5, 4).double()
    lin.weight.array[...] = w
    P.weight_norm(lin)
    np.testing.assert_allclose(lin.weight.array, w, rtol=1e-12)


def test_weight_norm_on_a_convolution_matches_torch(torch):
    tw = torch.nn.utils.parametrizations.weight_norm
    e, t = _pair(
        torch, lambda: P.weight_norm(nn.Conv2d(3, 4, 3)), lambda: tw(torch.nn.Conv2d(3, 4, 3))
    )
    _check_step(torch, e, t, np.random.default_rng(2).standard_normal((2, 3, 6, 6)))


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.Linear(6, 4),
        lambda m: m.Conv2d(3, 5, 3),
        lambda m: m.ConvTranspose2d(3, 5, 3),
    ],
)
def test_spectral_norm_matches_torch_in_train_and_eval(torch, make):
    e = P.spectral_norm(make(nn))
    t = torch.nn.utils.parametrizations.spectral_norm(make(torch.nn))
    assert list(e.state_dict()) == list(t.state_dict())
    e.load_state_dict(t.state_dict())  # torch's u, v: the same power iteration from here
    e, t = e.double(), t.double()
    shape = (2, 6) if isinstance(e, nn.Linear) else (2, 3, 5, 5)
    x = np.random.default_rng(3).standard_normal(shape)
    for _ in range(3):  # each training forward runs one power iteration on u and v
        for p in list(e.parameters()) + list(t.parameters()):
            p.grad = None
        _check_step(torch, e, t, x)
    tu = t.parametrizations.weight[0]._u.numpy()
    np.testing.assert_allclose(e.parametrizations.weight[0]._u.array, tu, rtol=1e-10)
    e.eval()
    t.eval()
    _check_step(torch, e, t, x, grads=False)
    np.testing.assert_allclose(e.parametrizations.weight[0]._u.array, tu, rtol=1e-10)


def test_spectral_norm_makes_the_largest_singular_value_one():
    lin = P.spectral_norm(nn.Linear(8, 6), n_power_iterations=1)
    for _ in range(30):  # the estimate converges with repeated forwards
        lin(ember.randn(2, 8))
    sigma = np.linalg.svd(lin.weight.array, compute_uv=False)[0]
    assert abs(sigma - 1.0) < 1e-4


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(0, 1)

    def right_inverse(self, A):
        return A.triu()


def test_custom_parametrization_assignment_cache_and_removal(torch):
    lin = nn.Linear(3, 3)
    parametrize.register_parametrization(lin, "weight", Symmetric())
    assert parametrize.is_parametrized(lin) and parametrize.is_parametrized(lin, "weight")
    assert not parametrize.is_parametrized(lin, "bias")
    w = lin.weight.array
    np.testing.assert_array_equal(w, w.T)
    a = np.arange(9.0).reshape(3, 3).astype(np.float32)
    sym = a + a.T
    lin.weight = ember.tensor(sym)  # stored through right_inverse
    np.testing.assert_allclose(lin.weight.array, sym)
    with parametrize.cached():
        assert lin.weight is lin.weight
    assert lin.weight is not lin.weight
    lin(ember.randn(2, 3)).sum().backward()
    g = lin.parametrizations.weight.original.grad.array
    assert np.all(np.tril(g, -1) == 0)  # only the upper triangle is free
    parametrize.remove_parametrizations(lin, "weight")
    assert type(lin) is nn.Linear and isinstance(lin.weight, nn.Parameter)
    assert list(lin.state_dict()) == ["bias", "weight"]  # re-added last, as in torch
    np.testing.assert_allclose(lin.weight.array, sym)


class FirstRow(nn.Module):
    def forward(self, X):
        return X[:1]


def test_parametrize_errors():
    lin = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="no parameter or buffer named 'kernel'"):
        parametrize.register_parametrization(lin, "kernel", Symmetric())
    with pytest.raises(ValueError, match="must keep weight's shape"):
        parametrize.register_parametrization(lin, "weight", FirstRow())
    with pytest.raises(ValueError, match="has no parametrization on bias"):
        parametrize.remove_parametrizations(lin, "bias")
