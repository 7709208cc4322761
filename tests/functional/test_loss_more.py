"""The losses of ember.functional.loss_more against torch in float64 for every reduction
(outputs and input gradients), with inputs on every branch; gradchecks away from the kinks; the
modules equal to the functions; shape errors raised at the call."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.functional import loss_more as L
from ember.nn import loss_more as M
from tests.core_reference import check_gradients, compare_with_torch, randn

REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(7)
# differences on both sides of every β/δ used below, never on a kink
D = np.array([0.2, -0.7, 1.3, -2.6, 0.35, -0.9, 1.7, 3.1, -0.15, 0.6, -1.2, 2.2])
Y = randn(3, 4, seed=1)
X = Y + D.reshape(3, 4)
SIGNS = np.array([1, -1, 1, 1, -1, -1])  # integer labels: no gradient, as in torch


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _check(torch, f_e, f_t, arrays, grad=True):
    compare_with_torch(torch, f_e, f_t, arrays)
    if grad:
        check_gradients(f_e, arrays)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, 0.0])
def test_smooth_l1_loss(torch, reduction, beta):
    _check(
        torch,
        lambda x, y: L.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
        lambda x, y: torch.nn.functional.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
        [X, Y],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [1.0, 0.5, 2.0])
def test_huber_loss(torch, reduction, delta):
    _check(
        torch,
        lambda x, y: L.huber_loss(x, y, reduction, delta),
        lambda x, y: torch.nn.functional.huber_loss(x, y, reduction=reduction, delta=delta),
        [X, Y],
    )


LOGQ = np.log(_softmax(randn(4, 5, seed=2)))
P = _softmax(randn(4, 5, seed=3))


@pytest.mark.filterwarnings("ignore:reduction. 'mean'")
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(torch, reduction, log_target):
    p = np.log(P) if log_target else P
    _check(
        torch,
        lambda q, p: L.kl_div(q, p, reduction=reduction, log_target=log_target),
        lambda q, p: torch.nn.functional.kl_div(q, p, reduction=reduction, log_target=log_target),
        [LOGQ, p],
    )
    # zero probabilities: 0·log 0 = 0 (the target's gradient there is torch's NaN: not compared)
    p0 = P.copy()
    p0[:, 0] = 0.0
    compare_with_torch(
        torch,
        lambda q: L.kl_div(q, ember.tensor(p0), reduction=reduction),
        lambda q: torch.nn.functional.kl_div(q, torch.tensor(p0), reduction=reduction),
        [LOGQ],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_loss(torch, reduction, margin):
    x1, x2 = randn(6, seed=4), randn(6, seed=5)
    y = SIGNS.astype(np.float64)
    hinge = -y * (x1 - x2) + margin
    assert (hinge > 0.01).any() and (hinge < -0.01).any() and np.abs(hinge).min() > 1e-3
    _check(
        torch,
        lambda a, b, t: L.margin_ranking_loss(a, b, t, margin, reduction=reduction),
        lambda a, b, t: torch.nn.functional.margin_ranking_loss(
            a, b, t, margin=margin, reduction=reduction
        ),
        [x1, x2, y],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_hinge_embedding_loss(torch, reduction, margin):
    x = np.array([0.1, 0.5, 1.4, 0.2, 0.8, 2.0])  # margin - x on both sides of 0 for y = -1
    _check(
        torch,
        lambda a, t: L.hinge_embedding_loss(a, t, margin, reduction=reduction),
        lambda a, t: torch.nn.functional.hinge_embedding_loss(
            a, t, margin=margin, reduction=reduction
        ),
        [x, SIGNS],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.2])
def test_cosine_embedding_loss(torch, reduction, margin):
    x1, x2 = randn(6, 4, seed=6), randn(6, 4, seed=8)
    _check(
        torch,
        lambda a, b, t: L.cosine_embedding_loss(a, b, t, margin, reduction=reduction),
        lambda a, b, t: torch.nn.functional.cosine_embedding_loss(
            a, b, t, margin=margin, reduction=reduction
        ),
        [x1, x2, SIGNS],
    )
    for t in (np.array(1), np.array(-1)):  # one pair of vectors, a scalar label
        _check(
            torch,
            lambda a, b, t: L.cosine_embedding_loss(a, b, t, margin, reduction=reduction),
            lambda a, b, t: torch.nn.functional.cosine_embedding_loss(
                a, b, t, margin=margin, reduction=reduction
            ),
            [x1[0], x2[0], t],
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "p, swap, margin", [(2.0, False, 1.0), (2.0, True, 0.5), (1.0, True, 1.0), (3.0, False, 2.0)]
)
def test_triplet_margin_loss(torch, reduction, p, swap, margin):
    a, pos, neg = randn(6, 4, seed=9), randn(6, 4, seed=10), randn(6, 4, seed=11)
    _check(
        torch,
        lambda a, b, c: L.triplet_margin_loss(a, b, c, margin, p, 1e-6, swap, reduction=reduction),
        lambda a, b, c: torch.nn.functional.triplet_margin_loss(
            a, b, c, margin=margin, p=p, swap=swap, reduction=reduction
        ),
        [a, pos, neg],
    )


COUNTS = np.array([[0.5, 0.8, 2.0, 3.0], [5.5, 0.2, 4.0, 1.5]])  # ≤ 1 and > 1 for full


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_loss(torch, reduction, log_input, full):
    x = randn(2, 4, seed=12) if log_input else np.exp(randn(2, 4, seed=12))
    _check(
        torch,
        lambda x, y: L.poisson_nll_loss(x, y, log_input, full, eps=1e-8, reduction=reduction),
        lambda x, y: torch.nn.functional.poisson_nll_loss(
            x, y, log_input=log_input, full=full, reduction=reduction
        ),
        [x, COUNTS],
    )
    y0 = np.array([[0.0, 1.0, 2.0, 0.0], [5.0, 0.0, 4.0, 1.0]])  # zero counts, target constant
    compare_with_torch(
        torch,
        lambda x: L.poisson_nll_loss(
            x, ember.tensor(y0), log_input, full, eps=1e-8, reduction=reduction
        ),
        lambda x: torch.nn.functional.poisson_nll_loss(
            x, torch.tensor(y0), log_input=log_input, full=full, reduction=reduction
        ),
        [x],
    )


VARS = {
    "full": np.exp(randn(3, 4, seed=13)),
    "row": np.exp(randn(3, seed=14)),
    "row1": np.exp(randn(3, 1, seed=15)),
    "tiny": np.array([[1e-7, 0.5, 2.0, 3e-7]] * 3),  # below eps: clamped, gradient passes
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("kind", list(VARS))
def test_gaussian_nll_loss(torch, reduction, full, kind):
    _check(
        torch,
        lambda x, y, v: L.gaussian_nll_loss(x, y, v, full, 1e-6, reduction),
        lambda x, y, v: torch.nn.functional.gaussian_nll_loss(
            x, y, v, full=full, reduction=reduction
        ),
        [X, Y, VARS[kind]],
        grad=kind != "tiny",  # finite differences would cross the clamp
    )
    compare_with_torch(
        torch,
        lambda x, y: L.gaussian_nll_loss(x, y, 0.7, full, 1e-6, reduction),
        lambda x, y: torch.nn.functional.gaussian_nll_loss(x, y, 0.7, full, reduction=reduction),
        [X, Y],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss(torch, reduction):
    compare_with_torch(
        torch,
        lambda x: L.soft_margin_loss(x, ember.tensor(SIGNS * 1.0), reduction=reduction),
        lambda x: torch.nn.functional.soft_margin_loss(
            x, torch.tensor(SIGNS * 1.0), reduction=reduction
        ),
        [randn(6, seed=16, scale=2.0)],
    )
    check_gradients(lambda x, y: L.soft_margin_loss(x, y, reduction=reduction), [randn(6), SIGNS])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_loss(torch, reduction, weighted):
    x = randn(4, 5, seed=17, scale=3.0)
    y = (RNG.random((4, 5)) < 0.5).astype(np.float64)
    w = np.linspace(0.5, 2.0, 5)
    _check(
        torch,
        lambda x, y: L.multilabel_soft_margin_loss(
            x, y, ember.tensor(w) if weighted else None, reduction=reduction
        ),
        lambda x, y: torch.nn.functional.multilabel_soft_margin_loss(
            x, y, torch.tensor(w) if weighted else None, reduction=reduction
        ),
        [x, y],
    )


def _t(a):
    return ember.tensor(np.asarray(a, np.float64))


MODULES = [
    (M.SmoothL1Loss(beta=0.5), lambda x, y: L.smooth_l1_loss(x, y, beta=0.5), (X, Y)),
    (M.HuberLoss("sum", delta=2.0), lambda x, y: L.huber_loss(x, y, "sum", 2.0), (X, Y)),
    (M.KLDivLoss(reduction="batchmean", log_target=True),
     lambda q, p: L.kl_div(q, p, reduction="batchmean", log_target=True), (LOGQ, np.log(P))),
    (M.MarginRankingLoss(0.3), lambda a, b, t: L.margin_ranking_loss(a, b, t, 0.3),
     (X[0], Y[0], SIGNS[:4])),
    (M.HingeEmbeddingLoss(0.5, reduction="none"),
     lambda x, t: L.hinge_embedding_loss(x, t, 0.5, reduction="none"), (X[0], SIGNS[:4])),
    (M.CosineEmbeddingLoss(0.1), lambda a, b, t: L.cosine_embedding_loss(a, b, t, 0.1),
     (X, Y, SIGNS[:3])),
    (M.TripletMarginLoss(0.5, p=1.0, swap=True),
     lambda a, b, c: L.triplet_margin_loss(a, b, c, 0.5, 1.0, swap=True), (X, Y, X * Y)),
    (M.PoissonNLLLoss(False, True, eps=1e-6),
     lambda x, y: L.poisson_nll_loss(x, y, False, True, eps=1e-6), (np.exp(X), np.abs(Y) * 3)),
    (M.GaussianNLLLoss(full=True, reduction="sum"),
     lambda x, y, v: L.gaussian_nll_loss(x, y, v, True, reduction="sum"), (X, Y, VARS["row"])),
    (M.SoftMarginLoss(reduction="sum"), lambda x, t: L.soft_margin_loss(x, t, reduction="sum"),
     (X[0], SIGNS[:4])),
    (M.MultiLabelSoftMarginLoss(np.ones(4) * 0.5),
     lambda x, y: L.multilabel_soft_margin_loss(x, y, np.ones(4) * 0.5), (X, Y > 0)),
]  # fmt: skip


@pytest.mark.parametrize("module, function, args", MODULES, ids=lambda m: type(m).__name__)
def test_modules_equal_functions(module, function, args):
    ts = [_t(a) for a in args]
    np.testing.assert_array_equal(module(*ts).array, function(*ts).array)


SHAPE_ERRORS = [
    (L.smooth_l1_loss, (X, Y[0])),
    (L.huber_loss, (X, Y.T)),
    (L.kl_div, (LOGQ, P[:2])),
    (L.margin_ranking_loss, (X[0], Y[0], SIGNS)),
    (L.hinge_embedding_loss, (X, SIGNS)),
    (L.cosine_embedding_loss, (X, Y, SIGNS)),
    (L.triplet_margin_loss, (X, Y, X[:, :2])),
    (L.poisson_nll_loss, (X, COUNTS)),
    (L.gaussian_nll_loss, (X, Y, np.ones((4, 3)))),
    (L.soft_margin_loss, (X[0], SIGNS)),
    (L.multilabel_soft_margin_loss, (X, Y[:, :2])),
]


@pytest.mark.parametrize("f, args", SHAPE_ERRORS, ids=lambda f: getattr(f, "__name__", ""))
def test_shape_mismatch_names_both_shapes(f, args):
    x, *rest = args
    with pytest.raises(ValueError, match=f.__name__) as err:
        f(_t(x), *[np.asarray(a) for a in rest])
    shapes = [str(tuple(np.shape(a))) for a in args]
    assert sum(s in str(err.value) for s in shapes) >= 2, str(err.value)


def test_bad_options():
    with pytest.raises(ValueError, match="reduction"):
        L.huber_loss(_t(X), Y, "avg")
    with pytest.raises(ValueError, match="batchmean"):
        L.kl_div(_t(LOGQ), P, reduction="batch")
    with pytest.raises(ValueError, match="margin must be > 0"):
        L.triplet_margin_loss(_t(X), _t(Y), _t(X), margin=0.0)
    with pytest.raises(ValueError, match="delta"):
        L.huber_loss(_t(X), Y, delta=0.0)
    with pytest.raises(ValueError, match="negative"):
        L.gaussian_nll_loss(_t(X), Y, -VARS["full"])
    with pytest.raises(ValueError, match="reduction"):
        M.SoftMarginLoss(reduction="avg")
