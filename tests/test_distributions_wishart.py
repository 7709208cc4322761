"""Wishart against torch.distributions.Wishart in float64: log_prob, entropy, mean, mode and
variance (values and gradients in df, the matrix and the value), KL between Wisharts (the
exponential-family Bregman form), expand and validation; ember's Bartlett draws have the
Wishart moments, and rsample's gradient in df has the right expectation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.distributions as D
from tests.distributions.dist_reference import compare, lower_cholesky, spd, tensors

P = 3
DF = np.array([3.5, 4.2, 7.0])  # 3.5, 4.2 ≤ p + 1: mode is nan there


def _matrix(kind, seed=0):
    if kind == "scale_tril":
        return lower_cholesky(3, d=P, seed=seed)
    m = spd(3, d=P, seed=seed)
    return np.linalg.inv(m) if kind == "precision_matrix" else m


def _makers(torch, kind):
    # scale_tril through tril(): torch's cholesky_solve also sends gradient to the (unused)
    # upper triangle, ember's triangular solves do not; compare the lower triangle's
    def make_e(df, m):
        return D.Wishart(df, **{kind: m.tril() if kind == "scale_tril" else m})

    def make_t(df, m):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.distributions.Wishart(
                df, **{kind: m.tril() if kind == "scale_tril" else m}
            )

    return make_e, make_t


KINDS = ["covariance_matrix", "precision_matrix", "scale_tril"]


@pytest.mark.parametrize("kind", KINDS)
def test_log_prob_against_torch(torch, kind):
    value = spd(2, 3, d=P, seed=7) * 2.0
    compare(
        torch, *_makers(torch, kind), dict(df=DF, m=_matrix(kind)), lambda d, v: d.log_prob(v),
        value=value,
    )  # fmt: skip


@pytest.mark.parametrize("what", ["entropy", "mean", "mode", "variance"])
@pytest.mark.parametrize("kind", KINDS)
def test_moments_and_entropy_against_torch(torch, kind, what):
    fn = (lambda d, v: d.entropy()) if what == "entropy" else (lambda d, v: getattr(d, what))
    compare(torch, *_makers(torch, kind), dict(df=DF, m=_matrix(kind)), fn)


def test_scalar_df_and_broadcasting(torch):
    m = spd(d=P, seed=3)
    e = D.Wishart(5.0, covariance_matrix=ember.tensor(m))
    t = torch.distributions.Wishart(5.0, covariance_matrix=torch.tensor(m))
    assert e.batch_shape == tuple(t.batch_shape) == () and e.event_shape == (P, P)
    v = spd(4, d=P, seed=4)
    np.testing.assert_allclose(
        e.log_prob(ember.tensor(v)).array, t.log_prob(torch.tensor(v)).numpy(), rtol=1e-12
    )
    # df batched against one matrix
    e = D.Wishart(ember.tensor(DF), scale_tril=ember.tensor(lower_cholesky(d=P)))
    t = torch.distributions.Wishart(torch.tensor(DF), scale_tril=torch.tensor(lower_cholesky(d=P)))
    assert e.batch_shape == tuple(t.batch_shape) == (3,)
    np.testing.assert_allclose(e.entropy().array, t.entropy().numpy(), rtol=1e-12)
    np.testing.assert_allclose(e.precision_matrix.array, t.precision_matrix.numpy(), rtol=1e-10)


def test_expand(torch):
    m, df = spd(d=P, seed=5), np.array([4.0, 6.0])
    e = D.Wishart(ember.tensor(df), covariance_matrix=ember.tensor(m)).expand((5, 2))
    t = torch.distributions.Wishart(torch.tensor(df), covariance_matrix=torch.tensor(m))
    t = t.expand((5, 2))
    assert e.batch_shape == tuple(t.batch_shape) == (5, 2)
    assert e.covariance_matrix.shape == (5, 2, P, P)
    v = spd(5, 2, d=P, seed=6)
    np.testing.assert_allclose(
        e.log_prob(ember.tensor(v)).array, t.log_prob(torch.tensor(v)).numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(e.variance.array, t.variance.numpy(), rtol=1e-12)
    assert e.sample((3,)).shape == (3, 5, 2, P, P)


def test_kl_against_torch(torch):
    # torch has no closed form: its KL is the generic exponential-family one. torch's sums the
    # df term over the batch (a bug), so the torch reference is taken one batch member at a time
    arrays = dict(df_p=DF + 1, cov_p=spd(3, d=P, seed=1), df_q=DF[::-1] + 2, cov_q=spd(3, d=P))
    e, t = tensors(torch, arrays)
    pe = D.Wishart(e["df_p"], covariance_matrix=e["cov_p"])
    qe = D.Wishart(e["df_q"], covariance_matrix=e["cov_q"])
    kl = D.kl_divergence(pe, qe)
    w = np.array([0.3, -1.2, 0.8])
    (kl * ember.tensor(w)).sum().backward()
    total = 0
    for i in range(3):
        pt = torch.distributions.Wishart(t["df_p"][i], covariance_matrix=t["cov_p"][i])
        qt = torch.distributions.Wishart(t["df_q"][i], covariance_matrix=t["cov_q"][i])
        kt = torch.distributions.kl_divergence(pt, qt)
        np.testing.assert_allclose(kl.array[i], kt.item(), rtol=1e-9)
        total = total + w[i] * kt
    total.backward()
    for k in ("df_q", "cov_q"):  # p's natural parameters are detached, as torch's
        np.testing.assert_allclose(e[k].grad.array, t[k].grad.numpy(), rtol=1e-8, atol=1e-10)
    assert t["df_p"].grad is None and (e["df_p"].grad is None or not e["df_p"].grad.array.any())
    assert np.all(kl.array > 0)
    np.testing.assert_allclose(D.kl_divergence(pe, pe).array, 0.0, atol=1e-10)


def test_generic_entropy_matches_closed_form(torch):
    d = D.Wishart(ember.tensor(DF + 1), covariance_matrix=ember.tensor(spd(3, d=P)))
    np.testing.assert_allclose(D.ExponentialFamily.entropy(d).array, d.entropy().array, rtol=1e-9)


def test_sample_moments():
    n = 40000
    df = np.array([3.0, 6.5])  # 3.0 = p: singular draws are possible but rare
    m = spd(2, d=P, seed=2)
    ember.manual_seed(11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = D.Wishart(ember.tensor(df), covariance_matrix=ember.tensor(m))
    x = d.sample((n,)).array
    assert x.shape == (n, 2, P, P)
    np.testing.assert_allclose(x, np.swapaxes(x, -1, -2), atol=1e-10)
    se = np.sqrt(d.variance.array / n)
    assert np.all(np.abs(x.mean(0) - d.mean.array) <= 5 * se)
    var = x.var(0)
    np.testing.assert_allclose(var, d.variance.array, rtol=0.1)


def test_rsample_gradient_in_df_and_matrix():
    # E[X] = ν·Σ, so ∂E[X_ij]/∂ν = Σ_ij and ∂E[tr X]/∂L = 2ν·L (Σ = L·Lᵀ)
    n = 20000
    L = lower_cholesky(d=P, seed=9)
    df = ember.tensor(np.array(5.5), requires_grad=True)
    Lt = ember.tensor(L, requires_grad=True)
    ember.manual_seed(3)
    x = D.Wishart(df, scale_tril=Lt).rsample((n,))
    mean = x.mean(0)
    trace = mean.diagonal(dim1=-2, dim2=-1).sum()
    (g_df,) = ember.autograd.grad(mean[0, 1], [df], retain_graph=True)
    sigma = L @ L.T
    assert abs(g_df.item() - sigma[0, 1]) < 0.1 * abs(sigma).max()
    (g_L,) = ember.autograd.grad(trace, [Lt])
    np.testing.assert_allclose(g_L.array, np.tril(2 * 5.5 * L), rtol=0.05, atol=0.05)


def test_no_false_singular_warning():
    d = D.Wishart(6.0, covariance_matrix=ember.tensor(spd(d=P)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns here (its singularity check is inverted)
        x = d.rsample((50,))
    assert np.all(np.linalg.eigvalsh(x.array) > 0)
    assert d.has_rsample


def test_validation(torch):
    m = spd(d=P)
    with pytest.raises(ValueError, match="greater than ndim - 1"):
        D.Wishart(2.0, covariance_matrix=ember.tensor(m))
    with pytest.raises(ValueError, match="greater than ndim - 1"):
        torch.distributions.Wishart(2.0, covariance_matrix=torch.tensor(m))
    with pytest.warns(UserWarning, match="Low df"):
        D.Wishart(2.5, covariance_matrix=ember.tensor(m))
    with pytest.raises(ValueError, match="Exactly one"):
        D.Wishart(4.0, covariance_matrix=ember.tensor(m), scale_tril=ember.tensor(m))
    with pytest.raises(ValueError, match="at least two-dimensional"):
        D.Wishart(4.0, covariance_matrix=ember.tensor(np.ones(3)))
    bad = -np.eye(P)
    with pytest.raises(ValueError, match="covariance_matrix"):
        D.Wishart(4.0, covariance_matrix=ember.tensor(bad), validate_args=True)
    with pytest.raises(ValueError, match="covariance_matrix"):
        torch.distributions.Wishart(4.0, covariance_matrix=torch.tensor(bad), validate_args=True)
    with pytest.raises(ValueError, match="scale_tril"):
        D.Wishart(4.0, scale_tril=ember.tensor(np.ones((P, P))), validate_args=True)
    d = D.Wishart(4.0, covariance_matrix=ember.tensor(m), validate_args=True)
    t = torch.distributions.Wishart(4.0, covariance_matrix=torch.tensor(m), validate_args=True)
    for value in (bad, np.ones((P, P))):
        with pytest.raises(ValueError, match="support"):
            d.log_prob(ember.tensor(value))
        with pytest.raises(ValueError):
            t.log_prob(torch.tensor(value))
    assert type(d.arg_constraints["df"]).__name__ == type(t.arg_constraints["df"]).__name__
    assert d.arg_constraints["df"].lower_bound == t.arg_constraints["df"].lower_bound == P - 1
