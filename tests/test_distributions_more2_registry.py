"""biject_to and transform_to against torch.distributions.constraint_registry: the same
transforms (by type, part by part) for every constraint ember has, and the same values,
log |det J| and gradients on the same unconstrained inputs, inverses included."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from ember.distributions import biject_to, constraints, transform_to
from tests.distributions.dist_reference import assert_close, randn


def _constraints(module):
    c = module.constraints
    return {
        "real": (c.real, (2, 3)),
        "real_vector": (c.real_vector, (2, 3)),
        "positive": (c.positive, (2, 3)),
        "nonnegative": (c.nonnegative, (2, 3)),
        "greater_than": (c.greater_than(2.0), (2, 3)),
        "greater_than_eq": (c.greater_than_eq(-1.5), (2, 3)),
        "less_than": (c.less_than(3.0), (2, 3)),
        "unit_interval": (c.unit_interval, (2, 3)),
        "interval": (c.interval(-1.0, 2.5), (2, 3)),
        "half_open_interval": (c.half_open_interval(0.0, 4.0), (2, 3)),
        "independent_positive": (c.independent(c.positive, 1), (2, 3)),
        "simplex": (c.simplex, (2, 3)),
        "lower_cholesky": (c.lower_cholesky, (2, 3, 3)),
        "positive_definite": (c.positive_definite, (2, 3, 3)),
        "positive_semidefinite": (c.positive_semidefinite, (2, 3, 3)),
        "corr_cholesky": (c.corr_cholesky, (2, 3)),
        "cat": (c.cat([c.positive, c.real, c.unit_interval], 1, [1, 2, 2]), (2, 5)),
        "stack": (c.stack([c.positive, c.interval(-1.0, 1.0)], 0), (2, 3)),
    }


NAMES = list(_constraints(D))


def _parts(t):
    """The transform's type names, composed parts flattened, inverses marked."""
    name = type(t).__name__.lstrip("_")
    if name == "ComposeTransform":
        return [p for part in t.parts for p in _parts(part)]
    if name == "InverseTransform":
        return [p + ".inv" for p in _parts(t._inv)]
    if name == "IndependentTransform":
        return ["Independent"] + _parts(t.base_transform)
    if name in ("CatTransform", "StackTransform"):
        return [name] + [p for part in t.transforms for p in _parts(part)]
    return [name]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", NAMES)
def test_registry_against_torch(torch, registry, name):
    ce, shape = _constraints(D)[name]
    ct, _ = _constraints(torch.distributions)[name]
    reg_e = getattr(D, registry)
    reg_t = getattr(torch.distributions, registry)
    try:
        tt = reg_t(ct)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            reg_e(ce)
        return
    te = reg_e(ce)
    assert _parts(te) == _parts(tt)
    x = randn(*shape, seed=4) * 0.7
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = te(xe), tt(xt)
    assert_close(ye, yt, "forward")
    assert np.all(np.asarray(ct.check(yt.detach())))
    assert np.all(ce.check(ye))
    w = randn(*yt.shape, seed=5)
    loss_e, loss_t = (ye * ember.tensor(w)).sum(), (yt * torch.tensor(w)).sum()
    if registry == "biject_to":
        le, lt = te.log_abs_det_jacobian(xe, ye), tt.log_abs_det_jacobian(xt, yt)
        assert_close(le, lt, "log_abs_det_jacobian")
        loss_e, loss_t = loss_e + le.sum(), loss_t + lt.sum()
        assert_close(te.inv(ember.tensor(yt.detach().numpy())), xt, "inverse")
    loss_e.backward()
    loss_t.backward()
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_unregistered_constraints_raise(torch):
    for c in (constraints.dependent, constraints.boolean, constraints.nonnegative_integer):
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            biject_to(c)
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            transform_to(c)
    with pytest.raises(NotImplementedError):
        biject_to(constraints.lower_cholesky)  # not a bijection onto it, as torch


def test_register_and_tensor_bounds():
    registry = D.constraint_registry.ConstraintRegistry()

    @registry.register(constraints.positive)
    def _softplus(c):
        return D.SoftplusTransform()

    assert isinstance(registry(constraints.greater_than(0.0)), D.SoftplusTransform)
    with pytest.raises(TypeError):
        registry.register(int, _softplus)
    # Tensor bounds: y = low + (high − low)·σ(x), per element
    low, high = ember.tensor(np.array([0.0, -2.0])), ember.tensor(np.array([1.0, 3.0]))
    y = transform_to(constraints.interval(low, high))(ember.tensor(np.array([0.0, 2.0])))
    np.testing.assert_allclose(y.array, [0.5, -2.0 + 5.0 / (1.0 + np.exp(-2.0))], rtol=1e-14)


def test_optimise_a_constrained_parameter():
    # fit σ of N(0, σ) through an unconstrained u: σ = transform_to(positive)(u)
    ember.manual_seed(0)
    data = ember.tensor(np.random.default_rng(0).normal(0, 2.5, 4000))
    u = ember.tensor(np.zeros(1), requires_grad=True)
    t = transform_to(D.Normal.arg_constraints["scale"])
    for _ in range(200):
        u.grad = None
        loss = -D.Normal(0.0, t(u)).log_prob(data).mean()
        loss.backward()
        u.array -= 0.5 * u.grad.array
    assert abs(float(t(u).array[0]) - data.array.std()) < 1e-3
