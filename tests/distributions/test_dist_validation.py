"""Argument validation as torch's: invalid parameters and values outside the support are
ValueErrors naming what is wrong (torch raises ValueError for the same inputs), unless
validate_args=False or Distribution.set_default_validate_args(False)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from tests.distributions.dist_reference import lower_cholesky

NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])
NOT_SYM = np.array([[2.0, 0.5], [0.0, 1.0]])
BAD_TRIL = np.array([[1.0, 0.0], [0.3, -0.5]])
UPPER = np.array([[1.0, 0.2], [0.3, 0.5]])

# id, constructor (m is ember.distributions or torch.distributions; a makes a float64 tensor),
# what the message must mention
BAD_PARAMETERS = [
    ("normal-negative-scale", lambda m, a: m.Normal(a([0.0, 1.0]), a([1.0, -1.0])), "scale"),
    ("normal-zero-scale", lambda m, a: m.Normal(a([0.0]), a([0.0])), "scale"),
    ("normal-nan-loc", lambda m, a: m.Normal(a([np.nan]), a([1.0])), "loc"),
    ("laplace-negative-scale", lambda m, a: m.Laplace(a([0.0]), a([-2.0])), "scale"),
    ("bernoulli-probs-above-1", lambda m, a: m.Bernoulli(probs=a([0.5, 1.5])), "probs"),
    ("bernoulli-probs-below-0", lambda m, a: m.Bernoulli(probs=a([-0.1])), "probs"),
    ("bernoulli-both", lambda m, a: m.Bernoulli(probs=a([0.5]), logits=a([0.0])), "probs"),
    ("bernoulli-neither", lambda m, a: m.Bernoulli(), "logits"),
    ("categorical-negative", lambda m, a: m.Categorical(probs=a([0.5, -0.1, 0.6])), "probs"),
    (
        "categorical-both",
        lambda m, a: m.Categorical(probs=a([0.5, 0.5]), logits=a([0.0, 0.0])),
        "probs",
    ),
    ("categorical-0d", lambda m, a: m.Categorical(probs=a(0.5)), "one-dimensional"),
    ("onehot-negative", lambda m, a: m.OneHotCategorical(probs=a([0.5, -0.1, 0.6])), "probs"),
    ("uniform-low-above-high", lambda m, a: m.Uniform(a([0.0, 2.0]), a([1.0, 1.0])), "low"),
    ("exponential-zero-rate", lambda m, a: m.Exponential(a([0.0])), "rate"),
    ("gamma-negative-concentration", lambda m, a: m.Gamma(a([-1.0]), a([1.0])), "concentration"),
    ("gamma-negative-rate", lambda m, a: m.Gamma(a([1.0]), a([-1.0])), "rate"),
    ("beta-zero", lambda m, a: m.Beta(a([1.0]), a([0.0])), "concentration0"),
    (
        "mvn-not-pd",
        lambda m, a: m.MultivariateNormal(a([0.0, 0.0]), a(NOT_PD)),
        "covariance_matrix",
    ),
    (
        "mvn-not-symmetric",
        lambda m, a: m.MultivariateNormal(a([0.0, 0.0]), a(NOT_SYM)),
        "covariance_matrix",
    ),
    (
        "mvn-negative-diagonal",
        lambda m, a: m.MultivariateNormal(a([0.0, 0.0]), scale_tril=a(BAD_TRIL)),
        "scale_tril",
    ),
    (
        "mvn-not-lower",
        lambda m, a: m.MultivariateNormal(a([0.0, 0.0]), scale_tril=a(UPPER)),
        "scale_tril",
    ),
    (
        "mvn-two-matrices",
        lambda m, a: m.MultivariateNormal(a([0.0, 0.0]), a(np.eye(2)), scale_tril=a(np.eye(2))),
        "Exactly one",
    ),
    ("mvn-0d-loc", lambda m, a: m.MultivariateNormal(a(0.0), a(np.eye(1))), "one-dimensional"),
    (
        "independent-too-many-dims",
        lambda m, a: m.Independent(m.Normal(a([0.0]), a([1.0])), 2),
        "reinterpreted_batch_ndims",
    ),
]


def _maker(m, torch):
    if m is D:
        return lambda v: ember.tensor(np.asarray(v, dtype=np.float64))
    return lambda v: torch.tensor(np.asarray(v, dtype=np.float64))


@pytest.mark.parametrize(
    "make, mentions", [c[1:] for c in BAD_PARAMETERS], ids=[c[0] for c in BAD_PARAMETERS]
)
def test_bad_parameters_raise_value_error(torch, make, mentions):
    with pytest.raises(ValueError, match=mentions):
        make(D, _maker(D, torch))
    with pytest.raises(ValueError):  # torch rejects the same input with a ValueError
        make(torch.distributions, _maker(torch.distributions, torch))


def test_message_names_parameter_constraint_and_values():
    with pytest.raises(ValueError) as info:
        D.Normal(ember.tensor(np.zeros(2)), ember.tensor(np.array([1.0, -3.0])))
    msg = str(info.value)
    assert "Expected parameter scale" in msg and "shape (2,)" in msg
    assert "GreaterThan(lower_bound=0.0)" in msg and "-3." in msg


# id, distribution (m, a), a value outside its support or of a wrong shape, what to mention
BAD_VALUES = [
    ("exponential-negative", lambda m, a: m.Exponential(a([1.0])), [-1.0], "support"),
    ("bernoulli-half", lambda m, a: m.Bernoulli(probs=a([0.3])), [0.5], "support"),
    ("categorical-too-large", lambda m, a: m.Categorical(probs=a([0.3, 0.7])), [2.0], "support"),
    ("categorical-negative", lambda m, a: m.Categorical(probs=a([0.3, 0.7])), [-1.0], "support"),
    ("categorical-fraction", lambda m, a: m.Categorical(probs=a([0.3, 0.7])), [0.5], "support"),
    (
        "onehot-not-onehot",
        lambda m, a: m.OneHotCategorical(probs=a([0.3, 0.7])),
        [1.0, 1.0],
        "support",
    ),
    ("beta-above-1", lambda m, a: m.Beta(a([2.0]), a([2.0])), [1.5], "support"),
    ("gamma-negative", lambda m, a: m.Gamma(a([2.0]), a([2.0])), [-0.5], "support"),
    ("uniform-outside", lambda m, a: m.Uniform(a([0.0]), a([1.0])), [2.0], "support"),
    (
        "mvn-event-shape",
        lambda m, a: m.MultivariateNormal(a([0.0, 0.0]), a(np.eye(2))),
        [1.0, 2.0, 3.0],
        "event_shape",
    ),
    (
        "normal-not-broadcastable",
        lambda m, a: m.Normal(a([0.0, 0.0]), a([1.0, 1.0])),
        [1.0, 2.0, 3.0],
        "broadcastable",
    ),
    (
        "tanh-outside",
        lambda m, a: m.TransformedDistribution(
            m.Normal(a([0.0]), a([1.0])), [m.transforms.TanhTransform()]
        ),
        [1.5],
        "support",
    ),
]


@pytest.mark.parametrize(
    "make, value, mentions", [c[1:] for c in BAD_VALUES], ids=[c[0] for c in BAD_VALUES]
)
def test_values_outside_the_support_raise(torch, make, value, mentions):
    a = _maker(D, torch)
    with pytest.raises(ValueError, match=mentions):
        make(D, a).log_prob(a(value))
    at = _maker(torch.distributions, torch)
    with pytest.raises(ValueError):
        make(torch.distributions, at).log_prob(at(value))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log 0, log of a negative
def test_validate_args_false_skips_checks():
    d = D.Normal(ember.tensor(np.zeros(1)), ember.tensor(np.array([-1.0])), validate_args=False)
    assert np.isnan(d.log_prob(ember.tensor(np.array([0.5]))).array).all()
    e = D.Exponential(ember.tensor(np.ones(1)), validate_args=False)
    np.testing.assert_allclose(e.log_prob(ember.tensor(np.array([-1.0]))).array, [1.0])


def test_set_default_validate_args():
    try:
        D.Distribution.set_default_validate_args(False)
        D.Bernoulli(probs=ember.tensor(np.array([1.5])))  # no error
        with pytest.raises(ValueError):  # an explicit validate_args=True still checks
            D.Bernoulli(probs=ember.tensor(np.array([1.5])), validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="probs"):
        D.Bernoulli(probs=ember.tensor(np.array([1.5])))
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_lazy_parameters_are_not_checked_twice():
    """logits made from probs are not validated (probs were); from logits, probs likewise."""
    b = D.Bernoulli(probs=ember.tensor(np.array([0.0, 1.0])))
    assert np.all(np.isfinite(b.logits.array))
    c = D.Categorical(logits=ember.tensor(np.array([-1e300, 0.0])))
    np.testing.assert_allclose(c.probs.array, [0.0, 1.0])


def test_mvn_invalid_without_validation_is_still_a_clear_error():
    # torch raises its LinAlgError (a RuntimeError) from the Cholesky factorisation; so does ember
    with pytest.raises(ember.linalg.LinAlgError, match="not positive-definite"):
        D.MultivariateNormal(ember.tensor(np.zeros(2)), ember.tensor(NOT_PD), validate_args=False)
    with pytest.raises(ValueError, match="shape"):
        D.MultivariateNormal(
            ember.tensor(np.zeros(3)), scale_tril=ember.tensor(lower_cholesky(d=2))
        )


def test_broadcast_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="broadcast"):
        D.Normal(ember.tensor(np.zeros(2)), ember.tensor(np.ones(3)))
