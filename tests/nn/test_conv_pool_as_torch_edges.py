"""Edges of the convolution, pooling and normalisation layers where ember used to differ from
torch 2.13 (found by fuzzing both side by side): divisor_override=0, unbatched MaxUnpool1d/2d,
an adaptive max pool to size 0, BatchNorm without per-channel state, and torch's RuntimeError
class for its refusals (ember's InputError is both a RuntimeError and a ValueError)."""

import numpy as np
import pytest

import ember
from ember import nn


def test_divisor_override_zero_is_refused(torch):
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    with pytest.raises(RuntimeError):
        torch.nn.AvgPool2d(2, divisor_override=0)(torch.tensor(x))
    with pytest.raises(RuntimeError, match="divisor_override must not be zero"):
        nn.AvgPool2d(2, divisor_override=0)(ember.tensor(x))  # it averaged as if not given
    with pytest.raises(RuntimeError, match="divisor_override must not be zero"):
        nn.AvgPool3d(2, divisor_override=0)(ember.ones(1, 1, 2, 4, 4))


@pytest.mark.parametrize("nd", [1, 2])
def test_max_unpool_takes_unbatched_input(torch, nd):
    shape = (3, 8) if nd == 1 else (3, 4, 6)
    x = np.random.default_rng(0).standard_normal(shape)
    pool_t = getattr(torch.nn, f"MaxPool{nd}d")(2, return_indices=True)
    unpool_t = getattr(torch.nn, f"MaxUnpool{nd}d")(2)
    pool_e = getattr(nn, f"MaxPool{nd}d")(2, return_indices=True)
    unpool_e = getattr(nn, f"MaxUnpool{nd}d")(2)
    xt, xe = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    yt, ye = unpool_t(*pool_t(xt)), unpool_e(*pool_e(xe))
    np.testing.assert_array_equal(ye.detach().numpy(), yt.detach().numpy())
    g = np.random.default_rng(1).standard_normal(shape)
    yt.backward(torch.tensor(g))
    ye.backward(ember.tensor(g))
    np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("size", [(0, 3), (2, 0)])
def test_adaptive_max_pool_to_size_zero_is_empty(torch, size):
    x = np.random.default_rng(2).standard_normal((1, 2, 5, 5))
    yt, it = torch.nn.AdaptiveMaxPool2d(size, return_indices=True)(torch.tensor(x))
    ye, ie = nn.AdaptiveMaxPool2d(size, return_indices=True)(ember.tensor(x))
    assert tuple(ye.shape) == tuple(yt.shape) and tuple(ie.shape) == tuple(it.shape)
    assert ie.dtype == ember.int64
    y1 = nn.AdaptiveMaxPool1d(0)(ember.tensor(x[0]))
    assert tuple(y1.shape) == tuple(torch.nn.AdaptiveMaxPool1d(0)(torch.tensor(x[0])).shape)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_without_per_channel_state_takes_any_channel_count(torch, training):
    x = np.random.default_rng(3).standard_normal((2, 5, 3, 3))
    t = torch.nn.BatchNorm2d(4, affine=False, track_running_stats=False).double().train(training)
    e = nn.BatchNorm2d(4, affine=False, track_running_stats=False).double().train(training)
    np.testing.assert_allclose(
        e(ember.tensor(x)).numpy(), t(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12
    )
    with pytest.raises(RuntimeError, match="input has 5 channels"):  # with γ, β it must match
        nn.BatchNorm2d(4)(ember.tensor(x))


def _refusals(m):
    """(name, call) pairs that torch refuses with a RuntimeError; m is ember or torch."""
    nn_, z = m.nn, m.zeros
    idx = m.tensor(np.full((1, 1, 2, 2), 99))
    return [
        ("conv3d kernel past input", lambda: nn_.Conv3d(1, 1, 3)(z(1, 1, 2, 2, 2))),
        (
            "circular wraps twice",
            lambda: nn_.Conv1d(1, 1, 3, 1, 2, padding_mode="circular")(z(1, 1, 1)),
        ),  # fmt: skip
        (
            "output_padding",
            lambda: nn_.ConvTranspose2d(1, 1, 3, 2, output_padding=2)(z(1, 1, 4, 4)),
        ),  # fmt: skip
        ("transposed output empty", lambda: nn_.ConvTranspose1d(1, 1, 1, padding=1)(z(1, 1, 2))),
        ("transposed stride 0", lambda: nn_.ConvTranspose2d(1, 1, 3, stride=0)(z(1, 1, 4, 4))),
        ("max pool rank", lambda: nn_.MaxPool2d(2)(z(4, 4))),
        ("adaptive max pool rank", lambda: nn_.AdaptiveMaxPool1d(2)(z(4))),
        ("adaptive avg pool empty", lambda: nn_.AdaptiveAvgPool2d(3)(z(1, 1, 0, 5))),
        ("adaptive avg pool negative", lambda: nn_.AdaptiveAvgPool2d((-1, 3))(z(1, 1, 5, 5))),
        ("max pool negative padding", lambda: nn_.MaxPool2d(2, padding=-1)(z(1, 1, 5, 5))),
        (
            "instance norm channels",
            lambda: nn_.InstanceNorm1d(4, track_running_stats=True)(z(3, 5, 3)),
        ),  # fmt: skip
        ("unpool index", lambda: nn_.MaxUnpool2d(2)(z(1, 1, 2, 2), idx)),
        ("group norm rank", lambda: nn_.GroupNorm(2, 4)(z(4))),
        ("local response size 0", lambda: nn_.LocalResponseNorm(0)(z(1, 3, 4))),
    ]


@pytest.mark.parametrize("k", range(14))
def test_refusals_are_torchs_runtime_errors(refused_alike, k):
    refused_alike(_refusals, k)
