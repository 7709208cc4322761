"""Bernoulli, Categorical and OneHotCategorical against torch.distributions in float64, from
probs and from logits: log_prob, entropy, moments, mode and their gradients."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from tests.distributions.dist_reference import compare, randn, rng, uniform

_K = 5
_IDX = rng(20).integers(0, _K, (2, 3))
_ONEHOT = np.eye(_K)[_IDX]

SPECS = [
    ("Bernoulli", dict(probs=uniform(0.05, 0.95, 3, 4, seed=1)), None),
    ("Bernoulli", dict(logits=2 * randn(3, 4, seed=2)), None),
    ("Bernoulli", dict(probs=np.array([0.5, 0.2, 0.9])), None),
    ("Categorical", dict(probs=uniform(0.1, 2.0, 3, _K, seed=3)), _IDX),
    ("Categorical", dict(logits=randn(3, _K, seed=4)), _IDX),
    ("Categorical", dict(logits=randn(_K, seed=5)), _IDX),
    ("OneHotCategorical", dict(probs=uniform(0.1, 2.0, 3, _K, seed=3)), _ONEHOT),
    ("OneHotCategorical", dict(logits=randn(3, _K, seed=4)), _ONEHOT),
]
_BERNOULLI_VALUE = rng(21).integers(0, 2, (2, 3, 4)).astype(np.float64)

QUANTITIES = {
    "log_prob": lambda d, v: d.log_prob(v),
    "entropy": lambda d, v: d.entropy(),
    "mean": lambda d, v: d.mean,
    "variance": lambda d, v: d.variance,
    "mode": lambda d, v: d.mode,
    "probs": lambda d, v: d.probs,
    "logits": lambda d, v: d.logits,
    "perplexity": lambda d, v: d.perplexity(),
}


def _cases():
    for k, (name, params, value) in enumerate(SPECS):
        for q in QUANTITIES:
            yield pytest.param(name, params, value, q, id=f"{name}{k}-{q}")


@pytest.mark.parametrize("name, params, value, quantity", list(_cases()))
def test_against_torch(torch, name, params, value, quantity):
    if value is None:  # Bernoulli: a value of the batch shape's trailing dims
        value = _BERNOULLI_VALUE[..., : params[next(iter(params))].shape[-1]]
        if params[next(iter(params))].ndim == 1:
            value = value[0, 0]
    compare(
        torch,
        lambda **p: getattr(D, name)(**p),
        lambda **p: getattr(torch.distributions, name)(**p),
        params,
        QUANTITIES[quantity],
        value=value,
    )


def test_categorical_with_zero_probability(torch):
    probs = np.array([[0.0, 0.3, 0.7], [0.5, 0.5, 0.0]])
    for q in ("entropy", "log_prob"):
        compare(
            torch,
            lambda **p: D.Categorical(**p),
            lambda **p: torch.distributions.Categorical(**p),
            dict(probs=probs),
            QUANTITIES[q],
            value=np.array([1, 0]),
        )


def test_bernoulli_extreme_probs(torch):
    probs = np.array([0.0, 1.0, 1e-12, 1 - 1e-9])
    value = np.array([0.0, 1.0, 0.0, 1.0])
    for q in ("entropy", "log_prob"):
        compare(
            torch,
            lambda **p: D.Bernoulli(**p),
            lambda **p: torch.distributions.Bernoulli(**p),
            dict(probs=probs),
            QUANTITIES[q],
            value=value,
            grad=False,
        )


def test_enumerate_support(torch):
    pb = uniform(0.1, 0.9, 3, seed=1)
    pc = uniform(0.1, 1.0, 3, 4, seed=2)
    pairs = [
        (D.Bernoulli(ember.tensor(pb)), torch.distributions.Bernoulli(torch.tensor(pb))),
        (D.Categorical(ember.tensor(pc)), torch.distributions.Categorical(torch.tensor(pc))),
        (
            D.OneHotCategorical(ember.tensor(pc)),
            torch.distributions.OneHotCategorical(torch.tensor(pc)),
        ),
    ]
    for e, t in pairs:
        for expand in (True, False):
            a, b = e.enumerate_support(expand).array, t.enumerate_support(expand).numpy()
            assert a.shape == b.shape
            np.testing.assert_array_equal(a, b)
        # probabilities over the support sum to 1
        total = e.log_prob(e.enumerate_support()).exp().array.sum(0)
        np.testing.assert_allclose(total, 1.0, rtol=1e-12)


def test_sample_shapes_and_dtypes():
    c = D.Categorical(logits=ember.tensor(randn(3, 4, seed=1)))
    s = c.sample((5, 2))
    assert s.shape == (5, 2, 3) and s.dtype == np.int64 and not s.requires_grad
    assert s.array.min() >= 0 and s.array.max() < 4
    o = D.OneHotCategorical(logits=ember.tensor(randn(3, 4, seed=1))).sample((5,))
    assert o.shape == (5, 3, 4) and np.all(o.array.sum(-1) == 1)
    b = D.Bernoulli(probs=ember.tensor(uniform(0.2, 0.8, 3, seed=2))).sample((7,))
    assert b.shape == (7, 3) and set(np.unique(b.array)) <= {0.0, 1.0}


def test_straight_through_gradient_is_that_of_probs(torch):
    logits = randn(3, 4, seed=6)
    w = randn(3, 4, seed=7)
    le = ember.tensor(logits, requires_grad=True)
    d = D.OneHotCategoricalStraightThrough(logits=le)
    s = d.rsample()
    assert np.all(s.array.sum(-1) == 1)  # the forward value is a one-hot draw
    (s * ember.tensor(w)).sum().backward()
    lt = torch.tensor(logits, requires_grad=True)
    (torch.softmax(lt, -1) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(le.grad.array, lt.grad.numpy(), rtol=1e-10)


def test_score_function_gradient(torch):
    """REINFORCE: ∇ E[f] = E[f·∇log p]; the log-prob gradient of given actions as torch's."""
    logits = randn(4, 3, seed=8)
    actions = np.array([0, 2, 1, 2])
    adv = randn(4, seed=9)
    le = ember.tensor(logits, requires_grad=True)
    d = D.Categorical(logits=le)
    loss = -(d.log_prob(ember.tensor(actions)) * ember.tensor(adv)).mean()
    loss = loss - 0.01 * d.entropy().mean()
    loss.backward()
    lt = torch.tensor(logits, requires_grad=True)
    dt = torch.distributions.Categorical(logits=lt)
    loss_t = -(dt.log_prob(torch.tensor(actions)) * torch.tensor(adv)).mean()
    loss_t = loss_t - 0.01 * dt.entropy().mean()
    loss_t.backward()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-12)
    np.testing.assert_allclose(le.grad.array, lt.grad.numpy(), rtol=1e-10)
