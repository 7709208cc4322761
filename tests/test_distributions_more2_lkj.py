"""LKJCholesky against torch.distributions.LKJCholesky in float64: log_prob (and its gradients
in η and L) on torch's draws, shapes, expand and validation; ember's draws lie in the support
and their correlations have the LKJ marginal moments."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from tests.distributions.dist_reference import compare


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_log_prob_against_torch(torch, dim):
    conc = np.array([0.5, 1.0, 3.0])
    torch.manual_seed(dim)
    value = torch.distributions.LKJCholesky(dim, torch.tensor(conc)).sample((2,)).numpy()
    compare(
        torch,
        lambda **kw: D.LKJCholesky(dim, **kw),
        lambda **kw: torch.distributions.LKJCholesky(dim, **kw),
        dict(concentration=conc),
        lambda d, v: d.log_prob(v),
        value=value,
    )


def test_shapes_sample_and_expand(torch):
    conc = np.array([0.5, 2.0])
    d = D.LKJCholesky(4, ember.tensor(conc))
    td = torch.distributions.LKJCholesky(4, torch.tensor(conc))
    assert d.batch_shape == tuple(td.batch_shape) and d.event_shape == tuple(td.event_shape)
    assert d.has_rsample == td.has_rsample is False
    for shape in [(), (6,)]:
        x = d.sample(shape)
        assert x.shape == shape + (2, 4, 4)
        assert np.all(np.asarray(td.support.check(torch.tensor(x.array))))
    de, dt = d.expand((3, 2)), td.expand((3, 2))
    assert de.batch_shape == tuple(dt.batch_shape) == (3, 2)
    v = dt.sample().numpy()
    np.testing.assert_allclose(
        de.log_prob(ember.tensor(v)).array, dt.log_prob(torch.tensor(v)).numpy(), rtol=1e-12
    )
    assert de.sample().shape == (3, 2, 4, 4)
    s = D.LKJCholesky(3, 1.5)
    assert s.batch_shape == () and s.sample().shape == (3, 3)


def test_correlation_moments(torch):
    # Ω = L·Lᵀ has a unit diagonal; Ω₀₁ ~ 2·Beta(a, a) − 1, a = η − 1 + d/2 (mean 0, variance
    # 1/(2η + d − 1)); the other entries are held to torch's sampler (the same onion method)
    n, d = 20000, 4
    eta = np.array([0.7, 3.0])
    ember.manual_seed(5)
    L = D.LKJCholesky(d, ember.tensor(eta)).sample((n,)).array
    omega = L @ np.swapaxes(L, -1, -2)
    np.testing.assert_allclose(np.diagonal(omega, axis1=-2, axis2=-1), 1.0, atol=1e-12)
    var = 1 / (2 * eta + d - 1)
    x = omega[..., 0, 1]
    assert np.all(np.abs(x.mean(0)) <= 5 * np.sqrt(var / n))
    assert np.all(np.abs(x.var(0) - var) <= 0.05 * var)
    torch.manual_seed(5)
    Lt = torch.distributions.LKJCholesky(d, torch.tensor(eta)).sample((n,)).numpy()
    omega_t = Lt @ np.swapaxes(Lt, -1, -2)
    for i, j in [(1, 2), (1, 3), (2, 3), (0, 3)]:
        a, b = omega[..., i, j] ** 2, omega_t[..., i, j] ** 2
        se = np.sqrt((a.var(0) + b.var(0)) / n)
        assert np.all(np.abs(a.mean(0) - b.mean(0)) <= 5 * se), (i, j)


def test_validation(torch):
    with pytest.raises(ValueError, match="dim"):
        D.LKJCholesky(1)
    with pytest.raises(ValueError):
        D.LKJCholesky(3, ember.tensor(np.array([-1.0])), validate_args=True)
    with pytest.raises(ValueError):
        torch.distributions.LKJCholesky(3, torch.tensor([-1.0]), validate_args=True)
    bad = np.eye(3) * 2
    with pytest.raises(ValueError, match="support"):
        D.LKJCholesky(3, 1.0, validate_args=True).log_prob(ember.tensor(bad))
    with pytest.raises(ValueError):
        torch.distributions.LKJCholesky(3, 1.0, validate_args=True).log_prob(torch.tensor(bad))
