"""Conv, pooling and normalisation modules against torch.nn with the same weights."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import nn


def _load(ours, theirs):
    ours.load_state_dict(theirs.state_dict())
    return ours


def _compare(torch, ours, theirs, x, rtol=1e-5, atol=1e-5):
    ex = ember.Tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ey, ty = ours(ex), theirs(tx)
    gy = np.random.default_rng(1).standard_normal(ey.shape).astype(x.dtype)
    ey.backward(gy)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(ey.array, ty.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), rtol=rtol, atol=atol)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.array, tparams[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name
        )


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((3, 8, 3), {}),
        ((3, 6, (3, 5)), dict(stride=2, padding=(1, 2), bias=False)),
        ((4, 8, 3), dict(padding="same", dilation=2, groups=2)),
        ((4, 4, 3), dict(padding=1, groups=4)),
    ],
)
def test_conv2d_module_matches_torch(torch, args, kwargs):
    theirs = torch.nn.Conv2d(*args, **kwargs)
    ours = _load(nn.Conv2d(*args, **kwargs), theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    x = np.random.default_rng(0).standard_normal((2, args[0], 9, 11)).astype(np.float32)
    _compare(torch, ours, theirs, x)


def test_conv1d_module_matches_torch(torch):
    theirs = torch.nn.Conv1d(2, 5, 5, stride=2, padding=1)
    ours = _load(nn.Conv1d(2, 5, 5, stride=2, padding=1), theirs)
    x = np.random.default_rng(0).standard_normal((3, 2, 40)).astype(np.float32)
    _compare(torch, ours, theirs, x)


def test_conv_default_init_matches_torch_bounds():
    conv = nn.Conv2d(6, 16, 5)
    bound = 1 / np.sqrt(6 * 25)
    w, b = conv.weight.array, conv.bias.array
    assert w.shape == (16, 6, 5, 5) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound  # U(±bound) has std bound/√3


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.MaxPool2d(2),
        lambda m: m.MaxPool2d(3, 2, 1, ceil_mode=True),
        lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False),
        lambda m: m.AdaptiveAvgPool2d((2, 3)),
        lambda m: m.AdaptiveAvgPool2d(1),
    ],
)
def test_pool_modules_match_torch(torch, make):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8)).astype(np.float32)
    _compare(torch, make(nn), make(torch.nn), x)


@pytest.mark.parametrize(
    "make",
    [lambda m: m.MaxPool1d(3, 2), lambda m: m.AvgPool1d(2), lambda m: m.AdaptiveAvgPool1d(4)],
)
def test_pool1d_modules_match_torch(torch, make):
    x = np.random.default_rng(0).standard_normal((2, 3, 13)).astype(np.float32)
    _compare(torch, make(nn), make(torch.nn), x)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize(
    "cls,shape",
    [("BatchNorm2d", (4, 3, 5, 6)), ("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 7))],
)
def test_batchnorm_train_and_eval_match_torch(torch, cls, shape, momentum):
    theirs = getattr(torch.nn, cls)(3, momentum=momentum)
    ours = getattr(nn, cls)(3, momentum=momentum)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.standard_normal(3)))
        theirs.bias.copy_(torch.tensor(rng.standard_normal(3)))
    _load(ours, theirs)
    for step in range(4):  # several steps: the running statistics follow torch's
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        for m in (ours, theirs):
            m.zero_grad() if m is ours else theirs.zero_grad()
        _compare(torch, ours, theirs, x, rtol=1e-4, atol=1e-4)
    for key, t in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].array, t.numpy(), rtol=1e-5, err_msg=key)
    assert int(ours.num_batches_tracked.item()) == 4
    ours.eval()
    theirs.eval()
    for m in (ours, theirs):
        for p in m.parameters():
            p.grad = None
    x = rng.standard_normal(shape).astype(np.float32)
    _compare(torch, ours, theirs, x, rtol=1e-4, atol=1e-4)
    assert int(ours.num_batches_tracked.item()) == 4  # eval does not count batches


def test_batchnorm_without_affine_or_running_stats(torch):
    for kwargs in (dict(affine=False), dict(track_running_stats=False)):
        theirs, ours = torch.nn.BatchNorm2d(3, **kwargs), nn.BatchNorm2d(3, **kwargs)
        assert set(ours.state_dict()) == set(theirs.state_dict())
        x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
        ours.eval()
        theirs.eval()
        _compare(torch, ours, theirs, x, rtol=1e-4, atol=1e-4)


def test_batchnorm_fused_equals_composed_and_gradchecks():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 3, 2))
    g, b = rng.standard_normal(2), rng.standard_normal(2)

    def fused(x, g, b):
        return F.batch_norm(x, None, None, g, b, training=True)

    ts = [ember.Tensor(a, requires_grad=True) for a in (x, g, b)]
    y1 = fused(*ts)
    y1.backward(np.cos(np.arange(y1.array.size)).reshape(y1.shape))
    grads1 = [t.grad.array for t in ts]
    ts2 = [ember.Tensor(a, requires_grad=True) for a in (x, g, b)]
    y2 = F.batch_norm_composed(*ts2)
    y2.backward(np.cos(np.arange(y2.array.size)).reshape(y2.shape))
    np.testing.assert_allclose(y1.array, y2.array, rtol=1e-10, atol=1e-12)
    for a, t in zip(grads1, ts2):
        np.testing.assert_allclose(a, t.grad.array, rtol=1e-9, atol=1e-10)
    ts = [ember.Tensor(a, requires_grad=True) for a in (x, g, b)]
    assert ember.gradcheck(fused, ts)
    rm, rv = ember.Tensor(rng.standard_normal(2)), ember.Tensor(rng.random(2) + 0.5)
    assert ember.gradcheck(lambda x, g, b: F.batch_norm(x, rm, rv, g, b, training=False), ts)


@pytest.mark.parametrize(
    "groups,channels,shape", [(2, 4, (3, 4, 5, 5)), (1, 3, (2, 3, 7)), (3, 3, (1, 3, 4, 4))]
)
def test_groupnorm_matches_torch_and_gradchecks(torch, groups, channels, shape):
    theirs = torch.nn.GroupNorm(groups, channels)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.standard_normal(channels)))
        theirs.bias.copy_(torch.tensor(rng.standard_normal(channels)))
    ours = _load(nn.GroupNorm(groups, channels), theirs)
    x = rng.standard_normal(shape).astype(np.float32)
    _compare(torch, ours, theirs, x, rtol=1e-4, atol=1e-4)
    small = rng.standard_normal((2, channels, 3))
    ts = [
        ember.Tensor(a, requires_grad=True)
        for a in (small, rng.standard_normal(channels), rng.standard_normal(channels))
    ]
    assert ember.gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), ts)


def test_normalisation_errors():
    with pytest.raises(ValueError, match="4 channels"):
        nn.BatchNorm2d(3)(ember.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match="4-D input"):
        nn.BatchNorm2d(3)(ember.randn(2, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(ember.randn(1, 3))
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)


@pytest.mark.parametrize("layout", ["nchw", "channel_major_view", "nc"])
def test_batchnorm_any_input_layout_equals_composed(layout):
    """The fused op reads x through its channel rows: a contiguous NCHW x, a strided view
    of a padded channel-major buffer (what the shifted convolution returns) and a 2-D x
    give the composed result, and y comes out channel-major."""
    rng = np.random.default_rng(11)
    if layout == "nc":
        x = rng.standard_normal((6, 3))
    elif layout == "nchw":
        x = rng.standard_normal((4, 3, 5, 6))
    else:
        x = rng.standard_normal((3, 4, 7, 8))[:, :, 1:6, :6].swapaxes(0, 1)  # (4, 3, 5, 6)
    g, b = rng.standard_normal(3), rng.standard_normal(3)
    gy = rng.standard_normal(x.shape)  # C-ordered: not the layout y has
    results = []
    for bn in (
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
        F.batch_norm_composed,
    ):
        ts = [ember.Tensor(a, requires_grad=True) for a in (x, g, b)]
        y = bn(*ts)
        y.backward(gy)
        results.append((y.array, [t.grad.array for t in ts]))
    (y, grads), (y_ref, grads_ref) = results
    assert y.swapaxes(0, 1).flags.c_contiguous  # channel-major memory
    np.testing.assert_allclose(y, y_ref, rtol=1e-10, atol=1e-12)
    for a, r in zip(grads, grads_ref):
        np.testing.assert_allclose(a, r, rtol=1e-9, atol=1e-10)
