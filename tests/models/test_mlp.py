"""The MLP: gradients by finite differences, and forward/backward equal to torch's Sequential."""

import numpy as np
import pytest

import ember
from ember.models import MLP, get_model


def _torch_mlp(torch, sizes, dropout=0.0):
    layers = [torch.nn.Flatten()]
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        if dropout:
            layers.append(torch.nn.Dropout(dropout))
    layers.append(torch.nn.Linear(sizes[-2], sizes[-1]))
    return torch.nn.Sequential(*layers)


def test_gradcheck_float64_inputs_and_every_parameter():
    model = MLP(6, (5, 4), 3, activation="tanh").double()
    names = [f"{i}.{name}" for i in (1, 3, 5) for name in ("weight", "bias")]
    x = ember.randn(4, 2, 3, dtype=ember.float64, requires_grad=True)
    own = dict(model.named_parameters())
    params = [ember.tensor(own[n].array, requires_grad=True) for n in names]

    def fn(x, *ps):  # the model computes with gradcheck's own tensors
        return ember.func.functional_call(model, dict(zip(names, ps)), (x,))

    assert ember.gradcheck(fn, (x, *params))


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 1e-5)])
def test_matches_torch_forward_and_gradients(torch, dtype, tol):
    tmodel = _torch_mlp(torch, (12, 16, 8, 5)).to(getattr(torch, dtype))
    model = MLP(12, (16, 8), 5)._cast(getattr(np, dtype))
    model.load_state_dict(tmodel.state_dict())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 3, 4)).astype(dtype)
    t = rng.integers(0, 5, 7)
    tx = torch.from_numpy(x).requires_grad_()
    tloss = torch.nn.functional.cross_entropy(tmodel(tx), torch.from_numpy(t))
    tloss.backward()
    ex = ember.tensor(x, dtype=getattr(np, dtype), requires_grad=True)
    loss = ember.functional.cross_entropy(model(ex), ember.tensor(t))
    loss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=tol)
    np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), rtol=tol, atol=tol * 1e-2)
    tparams = dict(tmodel.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(
            p.grad.array, tparams[name].grad.numpy(), rtol=tol, atol=tol * 1e-2, err_msg=name
        )


def test_dropout_layout_matches_torch_state_dict_keys(torch):
    keys = set(_torch_mlp(torch, (4, 6, 6, 2), dropout=0.5).state_dict())
    assert set(MLP(4, (6, 6), 2, dropout=0.5).state_dict()) == keys


def test_registered_builder_and_bad_activation():
    model = get_model("mlp")["builder"](in_features=10, num_classes=3, hidden_sizes=[7])
    assert model(ember.randn(2, 10)).shape == (2, 3)
    assert "10 → 7 → 3" in repr(model)
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP(4, (3,), 2, activation="swishy")
