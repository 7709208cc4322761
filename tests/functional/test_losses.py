"""Losses in every option against torch (outputs and gradients), with gradchecks; the fused
cross-entropy held equal to its composed version; clear errors for bad targets."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import nn
from tests.core_reference import check_gradients, compare_with_torch, randn

REDUCTIONS = ["mean", "sum", "none"]
N, C = 6, 4
TARGET = np.array([0, 3, 1, 1, 2, 3])
TARGET_IGNORED = np.array([0, -100, 1, 1, 2, -100])
TARGET_IGNORE_2 = np.array([2, 3, 1, 2, 2, 0])
WEIGHT = np.array([0.5, 2.0, 1.0, 0.25])


def _both(torch, make_e, make_t, arrays, dtypes=(np.float64, np.float32), gradcheck=True):
    for dtype in dtypes:
        compare_with_torch(torch, make_e, make_t, arrays, dtype)
    if gradcheck:
        check_gradients(make_e, arrays)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss"])
def test_regression_losses(torch, name, reduction):
    me, mt = getattr(nn, name)(reduction=reduction), getattr(torch.nn, name)(reduction=reduction)
    x, y = randn(3, 5, seed=1), randn(3, 5, seed=2)
    _both(torch, me, mt, [x, y])  # both inputs differentiable


CE_OPTIONS = {
    "plain": {},
    "ignore_index": {"ignore_index": 2},
    "weight": {"weight": WEIGHT},
    "smoothing": {"label_smoothing": 0.2},
    "all": {"weight": WEIGHT, "ignore_index": 2, "label_smoothing": 0.15},
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", sorted(CE_OPTIONS))
def test_cross_entropy_with_class_indices(torch, option, reduction):
    opts = dict(CE_OPTIONS[option])
    target = TARGET_IGNORE_2 if "ignore_index" in opts else TARGET
    w = opts.pop("weight", None)

    def fe(z):
        return F.cross_entropy(z, target, weight=w, reduction=reduction, **opts)

    def ft(z):
        wt = None if w is None else torch.tensor(w, dtype=z.dtype)
        return torch.nn.functional.cross_entropy(
            z, torch.tensor(target), weight=wt, reduction=reduction, **opts
        )

    _both(torch, fe, ft, [randn(N, C, seed=3, scale=2.0)])


def test_cross_entropy_default_ignore_index_minus_100(torch):
    _both(
        torch,
        lambda z: F.cross_entropy(z, TARGET_IGNORED),
        lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(TARGET_IGNORED)),
        [randn(N, C, seed=4)],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", ["plain", "smoothing", "weight"])
def test_cross_entropy_with_probability_targets(torch, option, reduction):
    opts = dict(CE_OPTIONS[option])
    w = opts.pop("weight", None)
    q = np.random.default_rng(5).dirichlet(np.ones(C), size=N)

    def fe(z, q):
        return F.cross_entropy(z, q, weight=w, reduction=reduction, **opts)

    def ft(z, q):
        wt = None if w is None else torch.tensor(w, dtype=z.dtype)
        return torch.nn.functional.cross_entropy(z, q, weight=wt, reduction=reduction, **opts)

    for dtype in (np.float64, np.float32):
        compare_with_torch(
            torch,
            lambda z, dtype=dtype: fe(z, q.astype(dtype)),
            lambda z, dtype=dtype: ft(z, torch.tensor(q.astype(dtype))),
            [randn(N, C, seed=6)],
            dtype,
        )
    check_gradients(lambda z: fe(z, q), [randn(N, C, seed=6)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_inputs(torch, reduction):
    """(N, C, d1, d2) logits with (N, d1, d2) targets, as for segmentation or sequences."""
    t = np.random.default_rng(7).integers(0, C, (2, 3, 2))
    t[0, 1, 1] = -100
    _both(
        torch,
        lambda z: F.cross_entropy(z, t, reduction=reduction, label_smoothing=0.1),
        lambda z: torch.nn.functional.cross_entropy(
            z, torch.tensor(t), reduction=reduction, label_smoothing=0.1
        ),
        [randn(2, C, 3, 2, seed=8)],
    )


def test_cross_entropy_module_and_huge_logits(torch):
    z = np.array([[1e4, 0.0, -1e4], [0.0, 3e3, 1.0]])
    t = np.array([1, 1])
    me = nn.CrossEntropyLoss(label_smoothing=0.1)
    mt = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    compare_with_torch(torch, lambda x: me(x, t), lambda x: mt(x, torch.tensor(t)), [z])
    assert np.isfinite(me(ember.tensor(z), t).item())


def test_fused_cross_entropy_equals_composed():
    z = randn(16, 7, seed=10, scale=3.0)
    t = np.random.default_rng(1).integers(0, 7, 16)
    a, b = ember.tensor(z, requires_grad=True), ember.tensor(z, requires_grad=True)
    la, lb = F.cross_entropy(a, t), F.cross_entropy_composed(b, t)
    np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-13)
    la.backward()
    lb.backward()
    np.testing.assert_allclose(a.grad.array, b.grad.array, rtol=1e-12, atol=1e-15)
    check_gradients(lambda x: F.cross_entropy_composed(x, t[:5]), [z[:5]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", ["plain", "weight", "ignore_index"])
def test_nll_loss(torch, option, reduction):
    opts = dict(CE_OPTIONS[option])
    w = opts.pop("weight", None)
    target = TARGET_IGNORE_2 if opts else TARGET

    def fe(x):
        return F.nll_loss(x.log_softmax(1), target, weight=w, reduction=reduction, **opts)

    def ft(x):
        wt = None if w is None else torch.tensor(w, dtype=x.dtype)
        return torch.nn.functional.nll_loss(
            x.log_softmax(1), torch.tensor(target), weight=wt, reduction=reduction, **opts
        )

    _both(torch, fe, ft, [randn(N, C, seed=11)])
    me, mt = nn.NLLLoss(reduction=reduction), torch.nn.NLLLoss(reduction=reduction)
    compare_with_torch(
        torch,
        lambda x: me(x, TARGET),
        lambda x: mt(x, torch.tensor(TARGET)),
        [randn(N, C, seed=12)],
    )


def test_nll_loss_spatial(torch):
    t = np.random.default_rng(2).integers(0, C, (2, 5))
    _both(
        torch,
        lambda x: F.nll_loss(x, t, reduction="sum"),
        lambda x: torch.nn.functional.nll_loss(x, torch.tensor(t), reduction="sum"),
        [randn(2, C, 5, seed=13)],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_loss(torch, weighted, reduction):
    rng = np.random.default_rng(14)
    p = rng.uniform(0.05, 0.95, (4, 3))
    y = rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (3,)) if weighted else None

    def fe(p, y):
        return F.binary_cross_entropy(p, y, weight=w, reduction=reduction)

    def ft(p, y):
        wt = None if w is None else torch.tensor(w, dtype=p.dtype)
        return torch.nn.functional.binary_cross_entropy(p, y, weight=wt, reduction=reduction)

    _both(torch, fe, ft, [p, y])


def test_bce_loss_clamps_log_at_minus_100_as_torch(torch):
    p, y = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])
    compare_with_torch(torch, nn.BCELoss(), torch.nn.BCELoss(), [p, y])  # finite gradients too


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", ["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits(torch, option, reduction):
    rng = np.random.default_rng(15)
    z, y = rng.standard_normal((4, 3)) * 3, rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (4, 1)) if option in ("weight", "both") else None
    pw = np.array([0.5, 2.0, 3.0]) if option in ("pos_weight", "both") else None

    def fe(z, y):
        return F.binary_cross_entropy_with_logits(z, y, w, reduction=reduction, pos_weight=pw)

    def ft(z, y):
        wt = None if w is None else torch.tensor(w, dtype=z.dtype)
        pwt = None if pw is None else torch.tensor(pw, dtype=z.dtype)
        return torch.nn.functional.binary_cross_entropy_with_logits(
            z, y, weight=wt, reduction=reduction, pos_weight=pwt
        )

    for dtype in (np.float64, np.float32):
        # ember treats the target as a constant (no gradient), as the fused op does
        compare_with_torch(
            torch,
            lambda a, dtype=dtype: fe(a, y.astype(dtype)),
            lambda a, dtype=dtype: ft(a, torch.tensor(y.astype(dtype))),
            [z],
            dtype,
        )
    check_gradients(lambda a: fe(a, y), [z])
    me = nn.BCEWithLogitsLoss(weight=w, reduction=reduction, pos_weight=pw)
    assert np.allclose(me(ember.tensor(z), y).array, fe(ember.tensor(z), y).array)


def test_bce_with_logits_is_stable_for_huge_logits(torch):
    z, y = np.array([-1e4, 1e4, 50.0, -50.0]), np.array([1.0, 0.0, 1.0, 0.0])
    compare_with_torch(
        torch,
        lambda a: F.binary_cross_entropy_with_logits(a, y),
        lambda a: torch.nn.functional.binary_cross_entropy_with_logits(a, torch.tensor(y)),
        [z],
    )


# ---------------------------------------------------------------- errors


def test_out_of_range_class_names_the_index_and_the_number_of_classes():
    z = ember.zeros(3, 5)
    with pytest.raises(IndexError, match="target class index 7 is out of range for 5 classes"):
        F.cross_entropy(z, np.array([1, 7, 0]))
    with pytest.raises(IndexError, match="index -3 is out of range for 5 classes"):
        F.nll_loss(z, np.array([1, -3, 0]))


def test_bad_targets_and_options_are_clear_errors():
    z = ember.zeros(3, 5)
    with pytest.raises(TypeError, match="integers"):
        F.nll_loss(z, np.array([1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match=r"input's shape \(3, 5\)"):
        F.cross_entropy(z, np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match="3 class indices, got target of shape"):
        F.cross_entropy(z, np.array([1, 2]))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'"):
        F.cross_entropy(z, np.array([1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="reduction must be"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="probabilities in"):
        F.binary_cross_entropy(ember.tensor([2.0]), ember.tensor([1.0]))
    with pytest.raises(ValueError, match=r"target shape \(3,\) must equal the input shape"):
        F.binary_cross_entropy(ember.zeros(3, 1), ember.zeros(3))
    with pytest.warns(UserWarning, match="broadcast"):
        F.mse_loss(ember.zeros(3, 1), ember.zeros(3))


@pytest.mark.parametrize(
    "fused, composed, make_input",
    [
        (
            F.binary_cross_entropy,
            F.binary_cross_entropy_composed,
            lambda r: r.uniform(0.02, 0.98, (5, 3)),
        ),
        (
            F.binary_cross_entropy_with_logits,
            F.binary_cross_entropy_with_logits_composed,
            lambda r: r.standard_normal((5, 3)) * 4,
        ),
    ],
)
def test_fused_binary_losses_equal_composed(fused, composed, make_input):
    rng = np.random.default_rng(16)
    x0, y = make_input(rng), rng.uniform(0, 1, (5, 3))
    a, b = ember.tensor(x0, requires_grad=True), ember.tensor(x0, requires_grad=True)
    la, lb = fused(a, y), composed(b, y)
    np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-12)
    la.backward()
    lb.backward()
    np.testing.assert_allclose(a.grad.array, b.grad.array, rtol=1e-10, atol=1e-14)
    check_gradients(lambda t: composed(t, y), [x0])
