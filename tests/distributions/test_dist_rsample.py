"""Pathwise (reparameterised) gradients: ember's rsample against torch's rsample formula fed
the same noise (drawn again from ember's generator after reseeding), and ember.gradcheck of
rsample as a function of the parameters with the noise held fixed by the seed."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from ember import backend
from tests.distributions.dist_reference import (
    check_rsample,
    lower_cholesky,
    randn,
    spd,
    tensors,
    uniform,
)

SEED = 1234
SHAPE = (6,)  # sample_shape


def _normal_noise(shape):
    return backend.default_generator.standard_normal(shape, np.float64)


def _uniform_noise(shape):
    return backend.default_generator.random(shape, np.float64)


def _torch_normal(torch, p, shape):
    eps = torch.tensor(_normal_noise(shape + tuple(p["loc"].shape)))
    return p["loc"] + eps * p["scale"]


def _torch_laplace(torch, p, shape):
    eps = np.finfo(np.float64).eps
    u = torch.tensor((eps - 1) + (2 - eps) * _uniform_noise(shape + tuple(p["loc"].shape)))
    return p["loc"] - p["scale"] * u.sign() * torch.log1p(-u.abs())


def _torch_uniform(torch, p, shape):
    u = torch.tensor(_uniform_noise(shape + tuple(p["low"].shape)))
    return p["low"] + u * (p["high"] - p["low"])


def _torch_exponential(torch, p, shape):
    e = -np.log1p(-_uniform_noise(shape + tuple(p["rate"].shape)))
    return torch.tensor(e) / p["rate"]


def _torch_mvn(torch, p, shape):
    d = torch.distributions.MultivariateNormal(**p)
    eps = torch.tensor(_normal_noise(shape + tuple(d.batch_shape) + tuple(d.event_shape)))
    return d.loc + (d._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)


def _torch_lognormal(torch, p, shape):
    return _torch_normal(torch, p, shape).exp()


_LOW = randn(2, 3, seed=5)
CASES = [
    ("Normal", dict(loc=randn(2, 3, seed=1), scale=uniform(0.5, 2.0, 3, seed=2)), _torch_normal),
    ("Laplace", dict(loc=randn(2, 3, seed=1), scale=uniform(0.5, 2.0, 3, seed=2)), _torch_laplace),
    ("Uniform", dict(low=_LOW, high=_LOW + uniform(0.5, 2, 2, 3, seed=6)), _torch_uniform),
    ("Exponential", dict(rate=uniform(0.5, 2.0, 2, 3, seed=7)), _torch_exponential),
    (
        "LogNormal",
        dict(loc=0.3 * randn(2, 3, seed=1), scale=uniform(0.3, 1.0, 3, seed=2)),
        _torch_lognormal,
    ),
    (
        "MultivariateNormal",
        dict(loc=randn(2, 3, seed=1), scale_tril=lower_cholesky(d=3, seed=3)),
        _torch_mvn,
    ),
    (
        "MultivariateNormal",
        dict(loc=randn(3, seed=1), covariance_matrix=spd(2, d=3, seed=4)),
        _torch_mvn,
    ),
]


@pytest.mark.parametrize(
    "name, params, torch_rsample", CASES, ids=[f"{c[0]}-{'-'.join(c[1])}" for c in CASES]
)
def test_rsample_against_torch_formula(torch, name, params, torch_rsample):
    pe, pt = tensors(torch, params)
    d = getattr(D, name)(**pe)
    assert d.has_rsample
    check_rsample(torch, d, pe, pt, SEED, SHAPE, lambda: torch_rsample(torch, pt, SHAPE))


@pytest.mark.parametrize(
    "name, params, torch_rsample", CASES, ids=[f"{c[0]}-{'-'.join(c[1])}" for c in CASES]
)
def test_rsample_gradcheck(name, params, torch_rsample):
    if "covariance_matrix" in params:
        params = dict(params, covariance_matrix=params["covariance_matrix"][0])
    names = list(params)
    inputs = [ember.tensor(np.array(params[k]), requires_grad=True) for k in names]

    def f(*ts):
        p = dict(zip(names, ts))
        if "covariance_matrix" in p:  # the symmetric part: Cholesky reads the lower triangle
            c = p["covariance_matrix"]
            p["covariance_matrix"] = 0.5 * (c + c.mT)
        ember.manual_seed(SEED)  # the same noise on every evaluation
        return getattr(D, name)(**p, validate_args=False).rsample((3,))

    assert ember.gradcheck(f, inputs, eps=1e-6, atol=1e-6, rtol=1e-5)


def test_sample_carries_no_graph_and_seed_repeats():
    loc = ember.tensor(randn(3, seed=1), requires_grad=True)
    d = D.Normal(loc, ember.tensor(np.ones(3)))
    ember.manual_seed(7)
    a = d.sample((4,))
    ember.manual_seed(7)
    b = d.sample((4,))
    ember.manual_seed(7)
    c = d.rsample((4,))
    assert not a.requires_grad and c.requires_grad
    np.testing.assert_array_equal(a.array, b.array)
    np.testing.assert_array_equal(a.array, c.array)
    assert not np.array_equal(d.sample((4,)).array, a.array)


def test_not_reparameterisable_raise():
    for d in (
        D.Bernoulli(0.3),
        D.Categorical(ember.tensor(np.ones(3))),
    ):
        assert not d.has_rsample
        with pytest.raises(NotImplementedError, match="rsample"):
            d.rsample()
        assert d.sample((2,)).shape[0] == 2


def test_vae_step_reduces_kl_and_reconstruction():
    """A tiny VAE-style objective: z = μ + σ·ε, loss = (z − 2)² + KL(q ‖ N(0, 1)); a few SGD
    steps on μ and log σ lower it (gradients flow through rsample and kl_divergence)."""
    mu = ember.tensor(np.zeros(4), requires_grad=True)
    log_sigma = ember.tensor(np.zeros(4), requires_grad=True)
    prior = D.Normal(0.0, 1.0)
    losses = []
    for step in range(30):
        ember.manual_seed(step)
        q = D.Normal(mu, log_sigma.exp())
        z = q.rsample((64,))
        loss = ((z - 2.0) ** 2).mean() + D.kl_divergence(q, prior).sum() / 4
        mu.grad = log_sigma.grad = None
        loss.backward()
        losses.append(loss.item())
        with ember.no_grad():
            mu.array -= 0.1 * mu.grad.array
            log_sigma.array -= 0.1 * log_sigma.grad.array
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert np.all(mu.array > 0.5)
