"""Losses, init and optimizer arguments where ember used to differ from torch 2.13 (found by
fuzzing both side by side): refusals torch makes that ember missed, and torch's RuntimeError
class for the refusals both make (ember's InputError is a RuntimeError and a ValueError)."""

import numpy as np
import pytest

import ember


def _x(m):
    return m.tensor([[1.0, 2, 3, 4], [0, 1, 0, 1], [2, 0, 1, 3]], dtype=m.float64)


def _lp(m):
    z = m.tensor([[[1.0, 2, 3]], [[3.0, 1, 0]], [[0.0, 0, 1]]], dtype=m.float64)
    return m.log_softmax(z, -1)


def _refusals(m):
    """(name, call) pairs torch refuses with a RuntimeError; m is ember or torch."""
    F, x, t, lp = m.nn.functional, _x(m), m.tensor, _lp(m)
    f64 = m.float64
    return [
        ("ce weight size", lambda: F.cross_entropy(x, t([0, 1, 2]), weight=t([1.0, 2, 3]).to(f64))),
        ("ce probability shape", lambda: F.cross_entropy(x, m.full((3, 5), 0.2, dtype=f64))),
        ("ce 0-d input", lambda: F.cross_entropy(t(1.0), t(0))),
        (
            "ce probabilities with ignore_index",
            lambda: F.cross_entropy(x, m.full((3, 4), 0.25, dtype=f64), ignore_index=1),
        ),  # fmt: skip
        ("multi_margin class", lambda: F.multi_margin_loss(x, t([0, 4, 1]))),
        (
            "multi_margin weight",
            lambda: F.multi_margin_loss(x, t([0, 1, 1]), weight=m.ones(3, dtype=f64)),
        ),  # fmt: skip
        ("multi_margin rank", lambda: F.multi_margin_loss(m.ones(2, 3, 4), t([0, 1]))),
        ("multi_margin float target", lambda: F.multi_margin_loss(x, t([0.0, 1.0, 1.0]))),
        ("multilabel_margin class", lambda: F.multilabel_margin_loss(x, t([[0, 4, -1, 0]] * 3))),
        ("multilabel_margin shape", lambda: F.multilabel_margin_loss(x, t([[0, 1]] * 3))),
        (
            "bce target above 1",
            lambda: F.binary_cross_entropy(
                m.full((2,), 0.5, dtype=f64), m.full((2,), 2.0, dtype=f64)
            ),
        ),  # fmt: skip
        (
            "bce with logits weight",
            lambda: F.binary_cross_entropy_with_logits(x, x * 0, weight=m.ones(2, 3, 4, dtype=f64)),
        ),  # fmt: skip
        ("cosine_embedding target", lambda: F.cosine_embedding_loss(x, x, m.ones(3, 1))),
        ("triplet ranks", lambda: F.triplet_margin_with_distance_loss(x, x[0], x)),
        ("ctc blank", lambda: F.ctc_loss(lp, t([[1, 2]]), t([3]), t([2]), blank=3)),
        ("ctc input length", lambda: F.ctc_loss(lp, t([[1, 2]]), t([4]), t([2]))),
        ("ctc lengths count", lambda: F.ctc_loss(lp, t([[1, 2]]), t([3, 3]), t([2]))),
        ("ctc concatenated", lambda: F.ctc_loss(lp, t([1, 2, 1]), t([3]), t([2]))),
        ("ctc no steps", lambda: F.ctc_loss(lp[:0], t([[1, 2]]), t([0]), t([0]))),
        ("trunc_normal a > b", lambda: m.nn.init.trunc_normal_(m.empty(4), 0.0, 1.0, 2.0, -2.0)),
    ]


@pytest.mark.parametrize("k", range(20))
def test_refusals_are_torchs_runtime_errors(refused_alike, k):
    refused_alike(_refusals, k)


def test_bce_with_logits_weights_that_broadcast_are_taken(torch):
    x = np.random.default_rng(0).standard_normal((3, 4))
    y = (x > 0).astype(np.float64)
    w, pw = np.arange(1.0, 5.0), np.array([[2.0], [1.0], [0.5]])
    got = ember.nn.functional.binary_cross_entropy_with_logits(
        ember.tensor(x), ember.tensor(y), weight=ember.tensor(w), pos_weight=ember.tensor(pw)
    )
    want = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(x), torch.tensor(y), weight=torch.tensor(w), pos_weight=torch.tensor(pw)
    )
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_trunc_normal_warns_of_a_mean_far_from_the_interval(torch):
    for m in (torch, ember):
        with pytest.warns(UserWarning, match="more than 2 std"):
            m.nn.init.trunc_normal_(m.empty(4), 5.0, 1.0, -2.0, 2.0)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax",
                                  "NAdam", "RAdam"])  # fmt: skip
def test_a_nan_learning_rate_is_refused(torch, name):
    for m in (torch, ember):
        with pytest.raises(ValueError, match="Invalid learning rate"):
            getattr(m.optim, name)([m.ones(1, requires_grad=True)], lr=float("nan"))


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"])
def test_betas_must_be_a_pair(torch, name):
    for m in (torch, ember):  # ember failed at the first step, not where the mistake is made
        with pytest.raises(IndexError):
            getattr(m.optim, name)([m.ones(1, requires_grad=True)], betas=(0.9,))
