"""The transforms ember.distributions added (Power, Abs, Softplus, Softmax, StickBreaking,
LowerCholesky, PositiveDefinite, CorrCholesky, Reshape, Independent, Cat, Stack,
CumulativeDistribution) against torch's: forward, inverse, log |det J| and their gradients,
shapes, domains; and TransformedDistribution with transforms that change the event shape."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D
from tests.distributions.dist_reference import assert_close, randn, uniform

POS = uniform(0.3, 3, 2, 3, seed=1)
REAL = randn(2, 3, seed=2) * 2
SQUARE = randn(2, 3, 3, seed=3)

# id, maker(module) → transform, x, has log |det J|
CASES = [
    ("Power", lambda m, t: m.PowerTransform(t(np.array([0.5, -1.5, 2.0]))), POS, True),
    ("Abs", lambda m, t: m.AbsTransform(), REAL, False),
    ("Softplus", lambda m, t: m.SoftplusTransform(), REAL, True),
    ("Softmax", lambda m, t: m.SoftmaxTransform(), REAL, False),
    ("StickBreaking", lambda m, t: m.StickBreakingTransform(), REAL, True),
    ("LowerCholesky", lambda m, t: m.LowerCholeskyTransform(), SQUARE, False),
    ("PositiveDefinite", lambda m, t: m.PositiveDefiniteTransform(), SQUARE, False),
    ("CorrCholesky-3", lambda m, t: m.CorrCholeskyTransform(), REAL, True),
    ("CorrCholesky-4", lambda m, t: m.CorrCholeskyTransform(), randn(2, 6, seed=4), True),
    ("Reshape", lambda m, t: m.ReshapeTransform((2, 3), (3, 2)), randn(4, 2, 3), True),
    ("Independent", lambda m, t: m.IndependentTransform(m.ExpTransform(), 1), REAL, True),
    (
        "Cat",
        lambda m, t: m.CatTransform(
            [m.ExpTransform(), m.AffineTransform(1.0, 2.0)], dim=-1, lengths=[1, 2]
        ),
        REAL,
        True,
    ),
    (
        "Cat-batch-dim",
        lambda m, t: m.CatTransform([m.ExpTransform(), m.SoftplusTransform()], 0, [1, 1]),
        REAL,
        True,
    ),
    (
        "Stack",
        lambda m, t: m.StackTransform([m.ExpTransform(), m.SoftplusTransform()], dim=0),
        REAL,
        True,
    ),
    (
        "CDF",
        lambda m, t: m.CumulativeDistributionTransform(m.Normal(t(np.zeros(3)), t(np.ones(3)))),
        REAL,
        True,
    ),
    (
        "Compose-inverse",
        lambda m, t: m.ComposeTransform([m.StickBreakingTransform(), m.ExpTransform().inv]),
        REAL,
        True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_transform_against_torch(torch, case):
    _, make, x, has_ladj = case
    te, tt = make(D, ember.tensor), make(torch.distributions, torch.tensor)
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ye, yt = te(xe), tt(xt)
    assert_close(ye, yt, "forward")
    assert te.forward_shape(x.shape) == tuple(tt.forward_shape(torch.Size(x.shape)))
    assert te.inverse_shape(ye.shape) == tuple(tt.inverse_shape(yt.shape))
    assert te.domain.event_dim == tt.domain.event_dim
    assert te.codomain.event_dim == tt.codomain.event_dim
    assert te.bijective == tt.bijective
    assert np.all(np.asarray(tt.codomain.check(yt.detach())))
    assert np.all(np.asarray(te.codomain.check(ye)))
    y = yt.detach().numpy()
    assert_close(te.inv(ember.tensor(y)), tt.inv(torch.tensor(y)), "inverse")
    w = randn(*ye.shape, seed=7)
    le, lt = (ye * ember.tensor(w)).sum(), (yt * torch.tensor(w)).sum()
    if has_ladj:
        je, jt = te.log_abs_det_jacobian(xe, ye), tt.log_abs_det_jacobian(xt, yt)
        assert_close(je, jt, "log_abs_det_jacobian")
        w2 = randn(*jt.shape, seed=8)
        le, lt = le + (je * ember.tensor(w2)).sum(), lt + (jt * torch.tensor(w2)).sum()
    le.backward()
    lt.backward()
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_power_transform_exponent_gradient_and_sign(torch):
    p = ember.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    pt = torch.tensor(p.array, requires_grad=True)
    te, tt = D.PowerTransform(p), torch.distributions.PowerTransform(pt)
    x = POS
    ye, yt = te(ember.tensor(x)), tt(torch.tensor(x))
    (ye.sum() + te.log_abs_det_jacobian(ember.tensor(x), ye).sum()).backward()
    (yt.sum() + tt.log_abs_det_jacobian(torch.tensor(x), yt).sum()).backward()
    np.testing.assert_allclose(p.grad.array, pt.grad.numpy(), rtol=1e-9)
    np.testing.assert_array_equal(te.sign.array, tt.sign.detach().numpy())


def test_caching_returns_the_preimage():
    t = D.StickBreakingTransform().with_cache(1)
    x = ember.tensor(randn(3, seed=1))
    y = t(x)
    assert t.inv(y) is x and t(x) is y
    c = D.ComposeTransform([D.ExpTransform(), D.AffineTransform(0.0, 2.0)], cache_size=1)
    y = c(x)
    assert c.inv(y) is x


@pytest.mark.parametrize(
    "name",
    ["stick-breaking", "reshape", "corr-cholesky"],
)
def test_transformed_distribution_changes_event_shape(torch, name):
    loc, scale = randn(2, 3, seed=1), uniform(0.5, 2, 2, 3, seed=2)

    def make(m, t):
        base = m.Normal(t(loc), t(scale))
        if name == "stick-breaking":  # the logistic-normal construction
            return m.TransformedDistribution(base, [m.transforms.StickBreakingTransform()])
        if name == "reshape":
            return m.TransformedDistribution(base, [m.transforms.ReshapeTransform((2, 3), (6,))])
        return m.TransformedDistribution(base, [m.transforms.CorrCholeskyTransform()])

    de, dt = make(D, ember.tensor), make(torch.distributions, torch.tensor)
    assert de.batch_shape == tuple(dt.batch_shape)
    assert de.event_shape == tuple(dt.event_shape)
    v = dt.sample((4,))
    assert_close(de.log_prob(ember.tensor(v.numpy())), dt.log_prob(v), "log_prob")
    assert de.sample((4,)).shape == tuple(v.shape)
    assert de.has_rsample and de.rsample((4,)).shape == tuple(v.shape)
    new = (3,) + de.batch_shape
    assert de.expand(new).batch_shape == tuple(dt.expand(new).batch_shape)
    assert de.expand(new).log_prob(ember.tensor(v.numpy()[0])).shape == new


def test_new_constraints_match_torch(torch):
    C, TC = D.constraints, torch.distributions.constraints
    L = np.linalg.cholesky(np.array([[1.0, 0.5], [0.5, 1.0]]))
    checks = [
        (C.multinomial(4), TC.multinomial(4), np.array([[1.0, 3.0], [3.0, 2.0], [-1.0, 1.0]])),
        (C.lower_triangular, TC.lower_triangular, np.stack([np.tril(SQUARE[0]), SQUARE[1]])),
        (C.corr_cholesky, TC.corr_cholesky, np.stack([L, 2 * L])),
        (C.square, TC.square, SQUARE),
        (C.symmetric, TC.symmetric, np.stack([SQUARE[0] + SQUARE[0].T, SQUARE[1]])),
        (C.positive_semidefinite, TC.positive_semidefinite, np.stack([np.eye(3), -np.eye(3)])),
        (C.positive_integer, TC.positive_integer, np.array([0.0, 1.0, 2.5, 3.0])),
        (C.cat([C.positive, C.real], -1, [1, 2]), TC.cat([TC.positive, TC.real], -1, [1, 2]), REAL),
        (C.stack([C.positive, C.real], 0), TC.stack([TC.positive, TC.real], 0), REAL),
        (C.MixtureSameFamilyConstraint(C.positive), TC.MixtureSameFamilyConstraint(TC.positive),
         REAL),
    ]  # fmt: skip
    for ce, ct, v in checks:
        np.testing.assert_array_equal(np.asarray(ce.check(v)), ct.check(torch.tensor(v)).numpy())
        assert ce.event_dim == ct.event_dim and ce.is_discrete == ct.is_discrete
