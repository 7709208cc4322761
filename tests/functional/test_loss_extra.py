"""The losses of ember.functional.loss_extra and ember.nn.loss_extra against torch in float64
for every reduction (values and input gradients): class weights, margins, p = 1 and 2, ties at
the margin, torch's −1-terminated multi-label targets, custom distances and swap, batch 1 and
unbatched inputs; gradchecks away from the kinks; reprs and errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.functional import loss_extra as L
from ember.nn import loss_extra as M
from tests.core_reference import check_gradients, compare_with_torch, randn

REDUCTIONS = ["mean", "sum", "none"]
X = randn(5, 6, seed=1)
T = np.array([0, 3, 5, 2, 3])
W = np.array([1.0, 0.5, 2.0, 1.5, 0.25, 3.0])


def _tf(torch):
    return torch.nn.functional


# ---------------------------------------------------------------- multi_margin_loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("margin", [1.0, 0.3, 2.5])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_loss(torch, reduction, p, margin, weighted):
    w_e = W if weighted else None
    f_e = lambda x: L.multi_margin_loss(x, T, p, margin, w_e, reduction=reduction)  # noqa: E731
    f_t = lambda x: _tf(torch).multi_margin_loss(  # noqa: E731
        x,
        torch.tensor(T),
        p,
        margin,
        torch.tensor(W, dtype=x.dtype) if weighted else None,
        reduction=reduction,
    )
    compare_with_torch(torch, f_e, f_t, [X])
    compare_with_torch(torch, f_e, f_t, [X], dtype=np.float32)
    check_gradients(f_e, [X])
    module = M.MultiMarginLoss(
        p, margin, None if w_e is None else ember.tensor(W), reduction=reduction
    )
    np.testing.assert_array_equal(module(ember.tensor(X), T).array, f_e(ember.tensor(X)).array)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_ties_batch1_and_unbatched(torch, p, reduction):
    # z = margin − x[y] + x[i] exactly 0 at (0, 1) and (1, 2); the target class never counts
    x = np.array([[1.5, 0.5, -2.0, 0.25], [0.0, 3.0, 2.0, 2.5]])
    t = np.array([0, 1])
    compare_with_torch(
        torch,
        lambda a: L.multi_margin_loss(a, t, p, reduction=reduction),
        lambda a: _tf(torch).multi_margin_loss(a, torch.tensor(t), p, reduction=reduction),
        [x],
    )
    compare_with_torch(  # batch 1
        torch,
        lambda a: L.multi_margin_loss(a, t[:1], p, 0.7, W[:4], reduction=reduction),
        lambda a: _tf(torch).multi_margin_loss(
            a, torch.tensor(t[:1]), p, 0.7, torch.tensor(W[:4]), reduction=reduction
        ),
        [x[:1]],
    )
    compare_with_torch(  # one (C,) sample with a 0-d target
        torch,
        lambda a: L.multi_margin_loss(a, np.array(2), p, reduction=reduction),
        lambda a: _tf(torch).multi_margin_loss(a, torch.tensor(2), p, reduction=reduction),
        [x[1]],
    )
    xe = ember.tensor(x, requires_grad=True)
    L.multi_margin_loss(xe, t, reduction="sum").backward()
    assert xe.grad.array[0, 1] == 0 and xe.grad.array[1, 2] == 0  # a tie adds no gradient


def test_multi_margin_loss_module_and_errors(torch):
    assert repr(M.MultiMarginLoss()) == repr(torch.nn.MultiMarginLoss()) == "MultiMarginLoss()"
    m = M.MultiMarginLoss(weight=ember.tensor(W))
    assert list(m.state_dict()) == list(
        torch.nn.MultiMarginLoss(weight=torch.tensor(W)).state_dict()
    )
    assert list(M.MultiMarginLoss().state_dict()) == []
    with pytest.raises(ValueError, match="p == 1 and p == 2"):
        M.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="p == 1 and p == 2"):
        L.multi_margin_loss(ember.tensor(X), T, p=3)
    with pytest.raises(ValueError, match="inconsistent weight size"):
        L.multi_margin_loss(ember.tensor(X), T, weight=W[:3])
    with pytest.raises(IndexError, match="out of range"):
        L.multi_margin_loss(ember.tensor(X), np.array([0, 1, 2, 3, 6]))
    with pytest.raises(TypeError, match="integer"):
        L.multi_margin_loss(ember.tensor(X), T.astype(float))
    with pytest.raises(ValueError, match="target of shape"):
        L.multi_margin_loss(ember.tensor(X), T[:3])
    with pytest.raises(ValueError, match="reduction"):
        L.multi_margin_loss(ember.tensor(X), T, reduction="avg")


# ---------------------------------------------------------------- multilabel_margin_loss

# classes listed until the first −1 (later entries ignored); a duplicate counts twice; a sample
# with every class listed or none listed has loss 0
TARGETS = np.array(
    [
        [0, 3, -1, 1, 1, 1],
        [5, 5, -1, 0, 0, 0],
        [-1, 0, 0, 0, 0, 0],
        [0, 1, 2, 3, 4, 5],
        [2, -1, -1, 4, 0, 1],
    ]
)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(torch, reduction):
    f_e = lambda x: L.multilabel_margin_loss(x, TARGETS, reduction=reduction)  # noqa: E731
    f_t = lambda x: _tf(torch).multilabel_margin_loss(  # noqa: E731
        x, torch.tensor(TARGETS), reduction=reduction
    )
    compare_with_torch(torch, f_e, f_t, [X])
    compare_with_torch(torch, f_e, f_t, [X], dtype=np.float32)
    check_gradients(f_e, [X])
    module = M.MultiLabelMarginLoss(reduction=reduction)
    np.testing.assert_array_equal(
        module(ember.tensor(X), TARGETS).array, f_e(ember.tensor(X)).array
    )
    for t in (TARGETS[4:], TARGETS[0]):  # batch 1, one unbatched (C,) sample
        x = X[: len(t)] if t.ndim == 2 else X[0]
        compare_with_torch(
            torch,
            lambda a, t=t: L.multilabel_margin_loss(a, t, reduction=reduction),
            lambda a, t=t: _tf(torch).multilabel_margin_loss(
                a, torch.tensor(t), reduction=reduction
            ),
            [x],
        )


def test_multilabel_margin_loss_ties(torch):
    """1 − (x[j] − x[i]) exactly 0: no loss and no gradient, as torch's z > 0 test."""
    x = np.array([[2.0, 1.0, 0.5, -1.0], [0.0, 1.0, 0.2, 3.0]])
    t = np.array([[0, -1, 0, 0], [3, 1, -1, 2]])
    for reduction in REDUCTIONS:
        compare_with_torch(
            torch,
            lambda a, r=reduction: L.multilabel_margin_loss(a, t, reduction=r),
            lambda a, r=reduction: _tf(torch).multilabel_margin_loss(
                a, torch.tensor(t), reduction=r
            ),
            [x],
        )
    xe = ember.tensor(x, requires_grad=True)
    L.multilabel_margin_loss(xe, t, reduction="sum").backward()
    # row 0: the one term with z ≥ 0 is the tie (j=0, i=1); row 1: j=1 ties with i=0, and
    # z = 1 − 1 + 0.2 > 0 for i=2 is the only term: ±1/C on x[1, 2] and x[1, 1]
    np.testing.assert_array_equal(xe.grad.array, [[0, 0, 0, 0], [0, -0.25, 0.25, 0]])


def test_multilabel_margin_loss_errors(torch):
    assert repr(M.MultiLabelMarginLoss()) == repr(torch.nn.MultiLabelMarginLoss())
    bad = TARGETS.copy()
    bad[2, 3] = 6  # out of range after the terminator still raises, as torch
    with pytest.raises(IndexError, match="out of range"):
        L.multilabel_margin_loss(ember.tensor(X), bad)
    with pytest.raises(ValueError, match="target of shape"):
        L.multilabel_margin_loss(ember.tensor(X), TARGETS[:, :3])
    with pytest.raises(ValueError, match=r"\(N, C\) or \(C,\)"):
        L.multilabel_margin_loss(ember.tensor(randn(2, 3, 4)), np.zeros((2, 3, 4), np.int64))


# ---------------------------------------------------------------- triplet with distance

A, P, N = randn(3, 6, 5, seed=2)
P = A + 0.4 * P  # some triplets inside the margin, some outside


def cosine_distance(module):
    return lambda u, v: 1.0 - module.nn.functional.cosine_similarity(u, v)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("margin", [1.0, 0.2])
@pytest.mark.parametrize("distance", ["default", "cosine", "l1"])
def test_triplet_margin_with_distance_loss(torch, reduction, swap, margin, distance):
    def dist(module):
        if distance == "default":
            return None
        if distance == "cosine":
            return cosine_distance(module)
        return lambda u, v: (u - v).abs().sum(-1)

    kw = dict(margin=margin, swap=swap, reduction=reduction)
    f_e = lambda a, p, n: L.triplet_margin_with_distance_loss(  # noqa: E731
        a, p, n, distance_function=dist(ember), **kw
    )
    f_t = lambda a, p, n: _tf(torch).triplet_margin_with_distance_loss(  # noqa: E731
        a, p, n, distance_function=dist(torch), **kw
    )
    compare_with_torch(torch, f_e, f_t, [A, P, N])
    compare_with_torch(torch, f_e, f_t, [A[:1], P[:1], N[:1]])  # batch 1
    check_gradients(f_e, [A, P, N])
    me = M.TripletMarginWithDistanceLoss(distance_function=dist(ember), **kw)
    mt = torch.nn.TripletMarginWithDistanceLoss(distance_function=dist(torch), **kw)
    compare_with_torch(torch, me, mt, [A, P, N])


def test_triplet_with_distance_repr_and_errors(torch):
    f = cosine_distance(ember)
    assert repr(M.TripletMarginWithDistanceLoss(distance_function=f)) == repr(
        torch.nn.TripletMarginWithDistanceLoss(distance_function=cosine_distance(torch))
    )
    # the default distance is a PairwiseDistance child, as torch's (whose repr lists no fields)
    r = repr(M.TripletMarginWithDistanceLoss())
    assert r.startswith("TripletMarginWithDistanceLoss(\n  (distance_function): PairwiseDistance(")
    with pytest.raises(ValueError, match="margin"):
        M.TripletMarginWithDistanceLoss(margin=0.0)
    with pytest.raises(ValueError, match="margin"):
        L.triplet_margin_with_distance_loss(*map(ember.tensor, (A, P, N)), margin=-1.0)
    with pytest.raises(ValueError, match="same number of dimensions"):
        L.triplet_margin_with_distance_loss(ember.tensor(A), ember.tensor(P), ember.tensor(N[0]))
    with pytest.raises(ValueError, match="reduction"):
        L.triplet_margin_with_distance_loss(*map(ember.tensor, (A, P, N)), reduction="avg")
