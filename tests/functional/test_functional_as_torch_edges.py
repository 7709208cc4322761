"""Edges of ember.functional where ember used to differ from torch 2.13 (found by fuzzing both
side by side): padding_idx out of range, p = 0 and negative-p distances and norms, cdist's
arguments, unfold's window, and torch's RuntimeError class for its refusals (ember's
InputError is both a RuntimeError and a ValueError)."""

import math

import numpy as np
import pytest

import ember
import ember.functional as F


def _pair(torch, a, requires_grad=False):
    return (
        ember.tensor(a, requires_grad=requires_grad),
        torch.tensor(a, requires_grad=requires_grad),
    )


@pytest.mark.parametrize("padding_idx", [-6, 5])
def test_padding_idx_out_of_range_is_refused(torch, padding_idx):
    idx = [0, 1, 2, 3, 4]
    with pytest.raises(AssertionError):
        torch.nn.functional.embedding(torch.tensor(idx), torch.ones(5, 3), padding_idx=padding_idx)
    # it wrapped (-6: row 4's gradient silently zeroed) or failed in the backward (5)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(ember.tensor(idx), ember.ones(5, 3), padding_idx=padding_idx)
    off = torch.tensor([0, 2])
    with pytest.raises(RuntimeError):
        torch.nn.functional.embedding_bag(
            torch.tensor(idx), torch.ones(5, 3), off, padding_idx=padding_idx
        )
    with pytest.raises(RuntimeError, match=r"padding_idx must lie in \[-5, 5\)"):
        F.embedding_bag(
            ember.tensor(idx), ember.ones(5, 3), ember.tensor([0, 2]), padding_idx=padding_idx
        )


def test_p0_distances_stay_in_the_graph_with_zero_gradient(torch):
    a = np.random.default_rng(0).standard_normal((3, 4))
    a[1, 2] = a[0, 2]  # one equal coordinate, so the counts differ
    for fe, ft in (
        (lambda x: ember.cdist(x, x, p=0), lambda x: torch.cdist(x, x, p=0)),
        (lambda x: F.pdist(x, p=0), lambda x: torch.nn.functional.pdist(x, p=0)),
        (
            lambda x: F.pairwise_distance(x, x.flip(0), p=0),
            lambda x: torch.nn.functional.pairwise_distance(x, x.flip(0), p=0),
        ),
    ):
        xe, xt = _pair(torch, a, requires_grad=True)
        ye, yt = fe(xe), ft(xt)
        assert ye.requires_grad and yt.requires_grad
        np.testing.assert_array_equal(ye.detach().numpy(), yt.detach().numpy())
        ye.sum().backward()  # a count moves nothing: no gradient (torch: None or zeros)
        assert xe.grad is None or not xe.grad.numpy().any()


def test_p0_distance_of_a_nan_coordinate_is_nan_as_torch(torch):
    a = [[math.nan, 1.0], [0.0, 0.0]]
    b = [[1.0, 1.0], [0.0, 2.0]]
    want = torch.cdist(torch.tensor(a), torch.tensor(b), p=0).numpy()
    got = ember.cdist(ember.tensor(a), ember.tensor(b), p=0).numpy()
    np.testing.assert_array_equal(got, want)  # [[nan, nan], [2, 1]]; ember counted the NaN
    want = torch.nn.functional.pdist(torch.tensor(a), p=0).numpy()
    np.testing.assert_array_equal(F.pdist(ember.tensor(a), p=0).numpy(), want)


@pytest.mark.parametrize("p", [-1.0, -2.5, -0.5])
def test_negative_p_norms_as_torch(torch, p):
    a = np.random.default_rng(1).standard_normal((3, 4))
    a[2, 1] = 0.0  # a zero makes that row's norm 0 (|0|^p = ∞) and its gradient 0
    xe, xt = _pair(torch, a, requires_grad=True)
    ye, yt = xe.norm(p, dim=1), xt.norm(p, dim=1)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-15)
    z = np.zeros((2, 4))
    np.testing.assert_allclose(
        F.normalize(ember.tensor(a), p=p).numpy(),
        torch.nn.functional.normalize(torch.tensor(a), p=p).numpy(),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        F.pairwise_distance(ember.tensor(a[:2]), ember.tensor(z), p=p).numpy(),
        torch.nn.functional.pairwise_distance(torch.tensor(a[:2]), torch.tensor(z), p=p).numpy(),
        rtol=1e-12,
    )


def test_decreasing_bag_offsets_are_refused():
    # torch's check is a bounds check in its kernel that does not always fire: ember's always does
    with pytest.raises(RuntimeError, match="non-decreasing"):
        F.embedding_bag(ember.tensor([0, 1, 2]), ember.zeros(5, 3), ember.tensor([0, 2, 1]))


def test_cdist_checks_its_arguments(torch):
    x, y = np.zeros((3, 4)), np.zeros((2, 4))
    with pytest.raises(ValueError):
        torch.cdist(torch.tensor(x), torch.tensor(y), compute_mode="bogus")
    with pytest.raises(ValueError, match="compute_mode must be one of"):
        ember.cdist(ember.tensor(x), ember.tensor(y), compute_mode="bogus")
    for mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
        ember.cdist(ember.tensor(x), ember.tensor(y), compute_mode=mode)  # accepted, as torch
    with pytest.raises(RuntimeError, match="of one dtype, got float32 and float64"):
        ember.cdist(ember.tensor(x, dtype=ember.float32), ember.tensor(y))


def _refusals(m):
    """(name, call) pairs that torch refuses with a RuntimeError; m is ember or torch."""
    F_, z = m.nn.functional, m.zeros
    x = z(1, 2, 4, 4)
    i3, off = m.tensor(np.array([0, 1, 2])), m.tensor(np.array([0, 2]))
    return [
        ("pad value with reflect", lambda: F_.pad(x, (1, 1), mode="reflect", value=1.0)),
        ("pad too long", lambda: F_.pad(z(4), (1, 1, 1, 1), mode="reflect")),
        ("affine_grid batch", lambda: F_.affine_grid(z(2, 2, 3), [3, 1, 4, 4], False)),
        ("embedding 1-D weight", lambda: F_.embedding(m.tensor(np.array([0, 1])), z(3))),
        ("embedding 3-D weight", lambda: F_.embedding(m.tensor(np.array([0, 1])), z(5, 3, 2))),
        ("bag index", lambda: F_.embedding_bag(m.tensor(np.array([0, 7])), z(5, 3), off)),
        ("bag float index", lambda: F_.embedding_bag(m.tensor([0.0, 1.0]), z(5, 3), off)),
        (
            "bag weights dtype",
            lambda: F_.embedding_bag(
                i3, z(5, 3, dtype=m.float64), off, mode="sum", per_sample_weights=z(3)
            ),
        ),  # fmt: skip
        ("one_hot empty", lambda: F_.one_hot(m.tensor(np.zeros(0, np.int64)))),
        ("one_hot float", lambda: F_.one_hot(m.tensor([0.0, 1.0]))),
        ("cdist columns", lambda: m.cdist(z(3, 4), z(2, 5))),
        ("cdist 1-D", lambda: m.cdist(z(4), z(4))),
        ("cdist p < 0", lambda: m.cdist(z(3, 4), z(2, 4), p=-1.0)),
        ("cdist dtypes", lambda: m.cdist(z(3, 4), z(2, 4, dtype=m.float64))),
        ("pixel_shuffle 0", lambda: F_.pixel_shuffle(x, 0)),
        ("pixel_unshuffle H", lambda: F_.pixel_unshuffle(z(1, 1, 3, 4), 2)),
        ("channel_shuffle channels", lambda: F_.channel_shuffle(z(1, 5, 2), 2)),
        ("channel_shuffle 0", lambda: F_.channel_shuffle(z(1, 4, 2), 0)),
        ("channel_shuffle rank", lambda: F_.channel_shuffle(z(4, 2), 2)),
        ("unfold stride 0", lambda: F_.unfold(x, 2, stride=0)),
        ("unfold kernel 0", lambda: F_.unfold(x, 0)),
        ("unfold dilation 0", lambda: F_.unfold(x, 2, dilation=0)),
        ("unfold padding", lambda: F_.unfold(x, 2, padding=-1)),
        ("unfold kernel pair", lambda: F_.unfold(x, (2, 2, 2))),
        ("fold kernel 0", lambda: F_.fold(z(1, 8, 9), (4, 4), 0)),
        ("fold stride 0", lambda: F_.fold(z(1, 8, 9), (4, 4), 2, stride=0)),
        ("fold size pair", lambda: F_.fold(z(1, 8, 9), (4, 4, 4), 2)),
        ("softshrink", lambda: F_.softshrink(x, -0.5)),
        ("celu", lambda: F_.celu(x, 0.0)),
        ("rrelu", lambda: F_.rrelu(x, 0.5, 0.1)),
    ]


@pytest.mark.parametrize("k", range(30))
def test_refusals_are_torchs_runtime_errors(refused_alike, k):
    refused_alike(_refusals, k)
