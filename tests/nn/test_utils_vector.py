"""nn.utils.parameters_to_vector / vector_to_parameters against torch's, and the gradient
through parameters_to_vector."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.nn.utils import parameters_to_vector, vector_to_parameters


def _pair():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    tmodel.load_state_dict({k: torch.tensor(v.array) for k, v in model.state_dict().items()})
    return model, tmodel


def test_parameters_to_vector_matches_torch():
    model, tmodel = _pair()
    vec = parameters_to_vector(model.parameters())
    tvec = torch.nn.utils.parameters_to_vector(tmodel.parameters())
    assert vec.shape == (4 * 3 + 4 + 2 * 4 + 2,)
    np.testing.assert_allclose(vec.array, tvec.detach().numpy(), rtol=1e-6)


def test_parameters_to_vector_is_differentiable():
    model, tmodel = _pair()
    coef = np.arange(26, dtype=np.float32)
    (parameters_to_vector(model.parameters()) ** 2 * ember.tensor(coef)).sum().backward()
    tvec = torch.nn.utils.parameters_to_vector(tmodel.parameters())
    (tvec**2 * torch.tensor(coef)).sum().backward()
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6)


def test_vector_to_parameters_round_trip():
    model, tmodel = _pair()
    v = np.random.default_rng(0).standard_normal(26).astype(np.float32)
    vector_to_parameters(ember.tensor(v), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(v), tmodel.parameters())
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_array_equal(p.array, tp.detach().numpy())
        assert p.array.dtype == np.float32
    np.testing.assert_array_equal(parameters_to_vector(model.parameters()).array, v)
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(
        model(ember.tensor(x)).array, tmodel(torch.tensor(x)).detach().numpy(), rtol=1e-6
    )


def test_errors():
    model, _ = _pair()
    with pytest.raises(TypeError, match="expected an ember Tensor"):
        vector_to_parameters(np.zeros(26), model.parameters())
    with pytest.raises(ValueError, match="1-D vector of 26 elements"):
        vector_to_parameters(ember.zeros(25), model.parameters())
