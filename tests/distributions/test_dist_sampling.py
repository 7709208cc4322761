"""Sample statistics: the mean and variance of 50 000 draws of each distribution agree with
the closed forms (within a few standard errors), and frequencies with the probabilities."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D

N = 50_000


def _t(*values):
    return ember.tensor(np.array(values, dtype=np.float64))


CASES = [
    ("Normal", lambda: D.Normal(_t(-1.0, 2.0), _t(0.5, 3.0))),
    ("Laplace", lambda: D.Laplace(_t(0.5, -2.0), _t(1.0, 0.3))),
    ("Uniform", lambda: D.Uniform(_t(-1.0, 2.0), _t(1.0, 2.5))),
    ("Exponential", lambda: D.Exponential(_t(0.5, 4.0))),
    ("Gamma", lambda: D.Gamma(_t(0.3, 1.0, 2.5, 9.0), _t(1.0, 2.0, 0.5, 3.0))),
    ("Beta", lambda: D.Beta(_t(0.4, 2.0, 5.0), _t(0.6, 2.0, 1.5))),
    ("Bernoulli", lambda: D.Bernoulli(probs=_t(0.1, 0.5, 0.93))),
    ("LogNormal", lambda: D.LogNormal(_t(0.0, 0.5), _t(0.25, 0.4))),
    ("OneHotCategorical", lambda: D.OneHotCategorical(logits=_t(0.1, -1.0, 2.0, 0.0))),
    (
        "MultivariateNormal",
        lambda: D.MultivariateNormal(
            _t(1.0, -1.0, 0.5),
            covariance_matrix=_t([2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]),
        ),
    ),
    ("Independent", lambda: D.Independent(D.Normal(_t([0.0, 1.0]), _t([1.0, 2.0])), 1)),
]


@pytest.mark.parametrize("name, make", CASES, ids=[c[0] for c in CASES])
def test_sample_mean_and_variance(name, make):
    d = make()
    x = d.sample((N,)).array.astype(np.float64)
    assert x.shape == (N,) + d.batch_shape + d.event_shape
    mean, var = d.mean.array, d.variance.array
    se_mean = np.sqrt(var / N)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * se_mean + 1e-12)
    # the variance of the sample variance: (m₄ − σ⁴)/N, m₄ estimated from the draws
    m4 = ((x - x.mean(0)) ** 4).mean(0)
    se_var = np.sqrt(np.maximum(m4 - var**2, 0) / N)
    np.testing.assert_array_less(np.abs(x.var(0) - var), 5 * se_var + 1e-12)
    assert d.support.check(ember.Tensor(x)).all()


def test_mvn_sample_covariance():
    cov = np.array([[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]])
    d = D.MultivariateNormal(ember.tensor(np.zeros(3)), covariance_matrix=ember.tensor(cov))
    x = d.sample((N,)).array
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.05)


def test_categorical_frequencies():
    probs = np.array([[0.1, 0.2, 0.7, 0.0], [0.25, 0.25, 0.25, 0.25]])
    d = D.Categorical(probs=ember.tensor(probs))
    k = d.sample((N,)).array
    freq = np.stack([(k == c).mean(0) for c in range(4)], -1)
    se = np.sqrt(probs * (1 - probs) / N)
    np.testing.assert_array_less(np.abs(freq - probs), 5 * se + 1e-12)
    assert not np.any(k[:, 0] == 3)  # a category of probability 0 is never drawn


def test_gamma_small_concentration_draws_are_positive():
    x = D.Gamma(_t(0.05), _t(1.0)).sample((N,)).array
    assert np.all(x > 0) and np.all(np.isfinite(x))
    np.testing.assert_allclose(x.mean(), 0.05, rtol=0.2)


def test_float32_parameters_sample_float32():
    d = D.Normal(ember.tensor(np.zeros(2, np.float32)), ember.tensor(np.ones(2, np.float32)))
    assert d.sample((3,)).dtype == np.float32
    assert D.Gamma(ember.tensor(np.ones(2, np.float32)), 1.0).sample().dtype == np.float32
