"""ExponentialFamily against torch.distributions.ExponentialFamily in float64: the same
classes are members; the generic (Bregman) entropy and KL equal the closed forms and torch's
generic values and gradients; cross-family and unregistered pairs still raise."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from ember.distributions.exp_family import kl_expfamily_expfamily
from ember.distributions.kl import _kl_expfamily_expfamily
from tests.distributions.dist_reference import tensors, uniform

N = 4
POS = dict(a=uniform(0.5, 3.0, N, seed=1), b=uniform(0.5, 3.0, N, seed=2))
POS_Q = dict(a=uniform(0.5, 3.0, N, seed=3), b=uniform(0.5, 3.0, N, seed=4))

# name, ember/torch constructor from a dict of tensors, parameters of p, parameters of q
CASES = [
    ("Normal", lambda m, k: m.Normal(k["a"] - 1, k["b"]), POS, POS_Q),
    ("Exponential", lambda m, k: m.Exponential(k["a"]), POS, POS_Q),
    ("Gamma", lambda m, k: m.Gamma(k["a"], k["b"]), POS, POS_Q),
    ("Chi2", lambda m, k: m.Chi2(k["a"]), POS, POS_Q),
    ("Beta", lambda m, k: m.Beta(k["a"], k["b"]), POS, POS_Q),
    ("Bernoulli", lambda m, k: m.Bernoulli(logits=k["a"] - 1.5), POS, POS_Q),
    ("Poisson", lambda m, k: m.Poisson(k["a"]), POS, POS_Q),
    (
        "Dirichlet",
        lambda m, k: m.Dirichlet(k["a"].reshape((2, 2))),
        POS,
        POS_Q,
    ),
    ("ContinuousBernoulli", lambda m, k: m.ContinuousBernoulli(logits=k["a"] - 1.5), POS, POS_Q),
]
IDS = [c[0] for c in CASES]


def test_same_members_as_torch(torch):
    for name in D.__all__:
        e, t = getattr(D, name), getattr(torch.distributions, name, None)
        if isinstance(e, type) and issubclass(e, D.Distribution) and t is not None:
            expected = issubclass(t, torch.distributions.ExponentialFamily)
            assert issubclass(e, D.ExponentialFamily) == expected, name


def _torch_generic_entropy(torch, d):
    return torch.distributions.ExponentialFamily.entropy(d)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_generic_entropy(torch, case):
    name, make, params, _ = case
    e, t = tensors(torch, params)
    de, dt = make(D, e), make(torch.distributions, t)
    try:
        ht = _torch_generic_entropy(torch, dt)
    except NotImplementedError:  # no _mean_carrier_measure (Beta, Dirichlet, Poisson)
        with pytest.raises(NotImplementedError):
            D.ExponentialFamily.entropy(de)
        return
    he = D.ExponentialFamily.entropy(de)
    np.testing.assert_allclose(he.array, ht.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(he.array, de.entropy().array, rtol=1e-8, atol=1e-10)
    # θ is detached, as torch's: the graph ends at the detached leaves, not the parameters
    he.sum().backward()
    ht.sum().backward()
    for k in params:
        assert t[k].grad is None and (e[k].grad is None or not np.any(e[k].grad.array)), k


def test_generic_entropy_under_no_grad():
    d = D.Gamma(ember.tensor(np.array([0.7, 2.0])), ember.tensor(np.array([1.5, 0.3])))
    with ember.no_grad():
        h = D.ExponentialFamily.entropy(d)
    np.testing.assert_allclose(h.array, d.entropy().array, rtol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_generic_kl(torch, case):
    name, make, params, params_q = case
    arrays = {f"p_{k}": v for k, v in params.items()} | {f"q_{k}": v for k, v in params_q.items()}
    e, t = tensors(torch, arrays)
    pick = lambda d, s: {k[2:]: v for k, v in d.items() if k.startswith(s)}  # noqa: E731
    pe, qe = make(D, pick(e, "p_")), make(D, pick(e, "q_"))
    pt, qt = make(torch.distributions, pick(t, "p_")), make(torch.distributions, pick(t, "q_"))
    ke = kl_expfamily_expfamily(pe, qe)
    kt = torch.distributions.kl._kl_expfamily_expfamily(pt, qt)
    np.testing.assert_allclose(ke.array, kt.detach().numpy(), rtol=1e-9, atol=1e-12)
    # the registered closed form (the more specific match) agrees, and is what dispatch picks
    closed = D.kl_divergence(pe, qe)
    np.testing.assert_allclose(ke.array, closed.array, rtol=1e-8, atol=1e-10)
    w = np.random.default_rng(0).standard_normal(kt.shape)
    (ke * ember.tensor(w)).sum().backward()
    (kt * torch.tensor(w)).sum().backward()
    for k in arrays:
        ge, gt = e[k].grad, t[k].grad
        if gt is None:  # p's natural parameters are detached (torch's too)
            assert ge is None or not np.any(ge.array), k
        else:
            np.testing.assert_allclose(ge.array, gt.numpy(), rtol=1e-8, atol=1e-10, err_msg=k)
    assert any(t[k].grad is not None for k in arrays if k.startswith("q_"))


def test_dispatch_keeps_closed_forms_and_errors():
    from ember.distributions.kl import _dispatch

    assert _dispatch(D.Normal, D.Normal) is not _kl_expfamily_expfamily
    assert _dispatch(D.Chi2, D.Chi2) is _dispatch(D.Gamma, D.Gamma)
    assert _dispatch(D.Wishart, D.Wishart) is _kl_expfamily_expfamily
    with pytest.raises(NotImplementedError, match="No KL.*Gamma.*Laplace"):  # torch has none
        D.kl_divergence(D.Gamma(1.0, 1.0), D.Laplace(0.0, 1.0))
    with pytest.raises(NotImplementedError, match="No KL"):
        kl_expfamily_expfamily(D.Exponential(1.0), D.Gamma(1.0, 1.0))
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Exponential(1.0), D.Laplace(0.0, 1.0))


def test_base_class_is_abstract():
    class Bare(D.ExponentialFamily):
        arg_constraints: dict = {}

    d = Bare()
    with pytest.raises(NotImplementedError):
        _ = d._natural_params
    with pytest.raises(NotImplementedError):
        d._log_normalizer()
    with pytest.raises(NotImplementedError):
        d.entropy()


def test_continuous_bernoulli_near_half(torch):
    # the log normaliser's Taylor branch (|θ| small) carries the generic entropy there too
    logits = np.array([-1e-4, 0.0, 3e-4, 2.0])
    de = D.ContinuousBernoulli(logits=ember.tensor(logits))
    dt = torch.distributions.ContinuousBernoulli(logits=torch.tensor(logits))
    he = D.ExponentialFamily.entropy(de)
    np.testing.assert_allclose(he.array, _torch_generic_entropy(torch, dt).detach().numpy())
    np.testing.assert_allclose(he.array, de.entropy().array, rtol=1e-6, atol=1e-9)
