"""Dirichlet against torch.distributions.Dirichlet in float64 (log_prob, entropy, moments, mode,
KL, each with its gradients), gradchecks, and its draws: shapes, sample = rsample under one
seed, on the simplex, and Monte Carlo unbiasedness of rsample's pathwise gradients."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.distributions.dirichlet import Dirichlet
from ember.distributions.kl import kl_divergence
from tests.distributions.dist_reference import compare, rng, uniform

# concentrations (batch + (K,)), for batch shapes (), (3,), (2, 3) with K = 4, and K = 1
CONCENTRATIONS = {
    "K4": uniform(0.3, 4.0, 4, seed=1),
    "B3-K4": uniform(0.3, 4.0, 3, 4, seed=2),
    "B2x3-K4": uniform(0.3, 4.0, 2, 3, 4, seed=3),
    "B3-K1": uniform(0.3, 4.0, 3, 1, seed=4),
}

QUANTITIES = {
    "log_prob": lambda d, v: d.log_prob(v),
    "entropy": lambda d, v: d.entropy(),
    "mean": lambda d, v: d.mean,
    "variance": lambda d, v: d.variance,
    "stddev": lambda d, v: d.stddev,
}


def _simplex_values(conc, n=5, seed=0):
    """n points of the simplex per batch element: sample_shape (n,) + conc.shape."""
    return rng(seed).dirichlet(np.ones(conc.shape[-1]), (n,) + conc.shape[:-1])


def _cases():
    for name, conc in CONCENTRATIONS.items():
        for q in QUANTITIES:
            if q == "stddev" and conc.shape[-1] == 1:
                continue  # variance 0: √ has an infinite slope there (nan gradients in both)
            yield pytest.param(conc, q, id=f"{name}-{q}")


@pytest.mark.parametrize("conc, quantity", list(_cases()))
def test_dirichlet_against_torch(torch, conc, quantity):
    compare(
        torch,
        lambda concentration: Dirichlet(concentration),
        lambda concentration: torch.distributions.Dirichlet(concentration),
        {"concentration": conc},
        QUANTITIES[quantity],
        value=_simplex_values(conc, seed=5) if quantity == "log_prob" else None,
    )


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_dirichlet_log_prob_at_the_boundary_against_torch(torch):
    # x_k = 0 with α_k = 1 gives xlogy(0, 0) = 0 (its gradient in x, 0/0, is nan in both);
    # a value broadcast against the batch
    conc = np.array([[1.0, 2.5, 0.7], [3.0, 1.0, 1.4]])
    value = np.array([[0.0, 0.6, 0.4], [0.2, 0.3, 0.5]])
    compare(
        torch,
        lambda concentration: Dirichlet(concentration),
        lambda concentration: torch.distributions.Dirichlet(concentration),
        {"concentration": conc},
        QUANTITIES["log_prob"],
        value=value[:, None, :].repeat(2, 1),  # (2, 2, 3) against the batch (2,)
    )


def test_dirichlet_mode_against_torch(torch):
    # every α ≥ 1 with some > 1; some α < 1 (those coordinates 0); every α < 1 (a vertex)
    conc = np.array(
        [[3.0, 2.0, 4.0, 1.2], [2.0, 0.5, 3.0, 1.5], [0.5, 0.3, 0.9, 0.2], [0.1, 0.8, 0.6, 0.7]]
    )
    compare(
        torch,
        lambda concentration: Dirichlet(concentration),
        lambda concentration: torch.distributions.Dirichlet(concentration),
        {"concentration": conc},
        lambda d, v: d.mode,
    )


def test_dirichlet_mode_nan_rows_match_torch(torch):
    # every α ≤ 1, not all < 1: (α − 1)₊ sums to 0 and both report nan
    conc = np.array([[1.0, 1.0, 1.0], [0.5, 1.0, 0.5], [2.0, 1.0, 0.5]])
    got = Dirichlet(ember.tensor(conc)).mode.array
    want = torch.distributions.Dirichlet(torch.tensor(conc)).mode.numpy()
    np.testing.assert_array_equal(got, want)


KL_CASES = {
    "K4": (uniform(0.3, 4.0, 4, seed=6), uniform(0.3, 4.0, 4, seed=7)),
    "B2x3-K4": (uniform(0.3, 4.0, 2, 3, 4, seed=8), uniform(0.3, 4.0, 2, 3, 4, seed=9)),
    "broadcast": (uniform(0.3, 4.0, 3, 4, seed=10), uniform(0.3, 4.0, 2, 3, 4, seed=11)),
    "K1": (uniform(0.3, 4.0, 3, 1, seed=12), uniform(0.3, 4.0, 3, 1, seed=13)),
}


@pytest.mark.parametrize("p, q", list(KL_CASES.values()), ids=list(KL_CASES))
def test_dirichlet_kl_against_torch(torch, p, q):
    compare(
        torch,
        lambda p, q: (kl_divergence, Dirichlet(p), Dirichlet(q)),
        lambda p, q: (
            torch.distributions.kl_divergence,
            torch.distributions.Dirichlet(p),
            torch.distributions.Dirichlet(q),
        ),
        {"p": p, "q": q},
        lambda d, v: d[0](d[1], d[2]),  # kl(p, q), ember's or torch's
    )


def test_dirichlet_kl_of_itself_is_zero():
    a = ember.tensor(uniform(0.3, 4.0, 3, 4, seed=14))
    np.testing.assert_allclose(kl_divergence(Dirichlet(a), Dirichlet(a)).array, 0, atol=1e-12)


def test_dirichlet_gradcheck():
    conc = ember.tensor(uniform(0.4, 3.0, 2, 3, seed=15), requires_grad=True)
    value = ember.tensor(_simplex_values(conc.array, n=4, seed=16), requires_grad=True)
    # perturbed values leave the simplex: no validation here
    assert ember.gradcheck(
        lambda a, x: Dirichlet(a, validate_args=False).log_prob(x), (conc, value)
    )
    assert ember.gradcheck(lambda a: Dirichlet(a).entropy(), (conc,))
    other = ember.tensor(uniform(0.4, 3.0, 2, 3, seed=17), requires_grad=True)
    assert ember.gradcheck(lambda a, b: kl_divergence(Dirichlet(a), Dirichlet(b)), (conc, other))


def test_dirichlet_shapes():
    d = Dirichlet(ember.tensor(uniform(0.5, 2.0, 2, 3, 4, seed=18)))
    assert d.batch_shape == (2, 3) and d.event_shape == (4,)
    assert d.sample().shape == (2, 3, 4)
    assert d.sample((5,)).shape == (5, 2, 3, 4) and d.rsample((5, 1)).shape == (5, 1, 2, 3, 4)
    assert d.log_prob(d.sample((5,))).shape == (5, 2, 3)
    assert d.entropy().shape == (2, 3) and d.mean.shape == (2, 3, 4)
    assert Dirichlet([0.5, 1.5]).entropy().shape == ()
    assert Dirichlet([2.0]).sample((3,)).shape == (3, 1)


@pytest.mark.parametrize("dtype", [ember.float64, ember.float32])
def test_dirichlet_rsample_draws_what_sample_draws(dtype):
    a = ember.tensor([[0.3, 2.0, 5.0], [1.0, 0.05, 0.7]], dtype=dtype, requires_grad=True)
    ember.manual_seed(4)
    drawn = Dirichlet(a).sample((6,))
    ember.manual_seed(4)
    x = Dirichlet(a).rsample((6,))
    np.testing.assert_array_equal(x.array, drawn.array)
    assert not drawn.requires_grad and x.requires_grad
    assert x.dtype == dtype and x.shape == (6, 2, 3)
    x.sum(-1).mean().backward()
    assert a.grad.shape == (2, 3) and np.all(np.isfinite(a.grad.array))


def test_dirichlet_draws_lie_on_the_simplex_and_have_its_moments():
    a = np.array([[0.05, 0.2, 0.1], [0.8, 2.0, 10.0]])
    d = Dirichlet(ember.tensor(a))
    ember.manual_seed(5)
    x = d.sample((20000,)).array
    assert np.all(x > 0) and np.all(x < 1)
    np.testing.assert_allclose(x.sum(-1), 1, atol=1e-12)
    assert Dirichlet(ember.tensor(a), validate_args=True).log_prob(ember.tensor(x)).shape
    # sample mean within 4 Monte Carlo standard errors of α/α₀
    se = np.sqrt(d.variance.array / len(x))
    assert np.all(np.abs(x.mean(0) - d.mean.array) < 4 * se)


@pytest.mark.parametrize("conc", [[0.6, 1.5, 4.0], [0.3, 2.0, 1.0, 0.9]])
def test_dirichlet_pathwise_gradients_are_unbiased(conc):
    # d/dα_j E[x_i] = (δ_ij·α₀ − α_i)/α₀². Each draw has its own copy of α (batch (n,)), so
    # α's gradient holds the per-draw ∂x_i/∂α_j: their mean must lie within 4 Monte Carlo
    # standard errors (std/√n, estimated from the same draws) of the exact derivative.
    n, k = 40000, len(conc)
    alpha = np.array(conc)
    a0 = alpha.sum()
    exact = (np.eye(k) * a0 - alpha[:, None]) / a0**2
    for i in range(k):
        a = ember.tensor(np.broadcast_to(alpha, (n, k)).copy(), requires_grad=True)
        ember.manual_seed(6)
        Dirichlet(a).rsample()[:, i].sum().backward()
        g = a.grad.array
        se = g.std(0) / np.sqrt(n)
        assert np.all(np.abs(g.mean(0) - exact[i]) < 4 * se + 1e-12), (i, g.mean(0), exact[i], se)


def test_dirichlet_expand():
    conc = ember.tensor(uniform(0.5, 2.0, 3, 4, seed=19), requires_grad=True)
    d = Dirichlet(conc).expand((2, 3))
    assert d.batch_shape == (2, 3) and d.event_shape == (4,)
    assert d.concentration.shape == (2, 3, 4) and d.sample((5,)).shape == (5, 2, 3, 4)
    value = ember.tensor(_simplex_values(conc.array, n=2, seed=20))
    lp = d.log_prob(value)
    np.testing.assert_allclose(lp.array, Dirichlet(conc).log_prob(value).array, rtol=1e-14)
    lp.sum().backward()  # the gradient sums back over the new dim
    assert conc.grad.shape == (3, 4)
    assert Dirichlet(ember.tensor([1.0, 2.0])).expand((4,)).entropy().shape == (4,)


def test_dirichlet_validation():
    with pytest.raises(ValueError, match="at least one-dimensional"):
        Dirichlet(ember.tensor(1.5))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        Dirichlet(2.0)
    for bad in ([1.0, 0.0, 2.0], [[1.0, 2.0], [-0.5, 1.0]], [1.0, float("nan")]):
        with pytest.raises(ValueError, match="concentration"):
            Dirichlet(ember.tensor(bad), validate_args=True)
    Dirichlet(ember.tensor([1.0, -1.0]), validate_args=False)  # not checked
    d = Dirichlet(ember.tensor([1.0, 2.0, 3.0]), validate_args=True)
    for off in ([0.5, 0.4, 0.2], [1.2, -0.1, -0.1], [0.2, 0.3, 0.3]):
        with pytest.raises(ValueError, match="support"):
            d.log_prob(ember.tensor(off))
    with pytest.raises(ValueError, match="event_shape"):
        d.log_prob(ember.tensor([0.5, 0.5]))
    d.log_prob(ember.tensor([0.2, 0.3, 0.5]))
    lenient = Dirichlet(ember.tensor([1.0, 2.0, 3.0]), validate_args=False)
    assert np.isfinite(lenient.log_prob(ember.tensor([0.5, 0.4, 0.2])).array)
