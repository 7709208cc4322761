"""Regressions from a PyTorch-parity audit of the convolution and normalisation layers."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import nn
from ember.ops import conv as C


@pytest.fixture(params=["auto", "im2col", "blocked", "shifted", "winograd"])
def policy(request, monkeypatch):
    monkeypatch.setattr(C, "POLICY", request.param)
    return request.param


@pytest.mark.parametrize("kernel,side", [(9, 2), (5, 4), (7, 4)])
def test_conv_kernel_larger_than_input_raises_on_every_path(policy, kernel, side):
    # the shifted GEMMs ran on such inputs and returned an empty or a garbage (2×2) output
    conv = nn.Conv2d(32, 32, kernel)
    x = ember.Tensor(np.ones((2, 32, side, side), dtype=np.float32))
    with pytest.raises(ValueError, match=rf"spatial size \({side}, {side}\).*kernel \({kernel}"):
        conv(x)


def test_conv1d_kernel_larger_than_input_names_the_length():
    with pytest.raises(ValueError, match=r"spatial size \(4,\) is smaller than the dilated kernel"):
        nn.Conv1d(3, 4, 5)(ember.Tensor(np.ones((2, 3, 4), dtype=np.float32)))


@pytest.mark.parametrize("kw", [dict(stride=0), dict(dilation=0), dict(dilation=(1, 0))])
def test_conv_non_positive_stride_or_dilation_raises(kw):
    # stride 0 divided by zero; dilation 0 silently convolved with the kernel's first tap
    x = ember.Tensor(np.ones((1, 3, 5, 5)))
    w = ember.Tensor(np.ones((2, 3, 3, 3)))
    with pytest.raises(ValueError, match="stride and dilation must be positive"):
        F.conv2d(x, w, **kw)


def _compare(torch, ours, theirs, x, tol=1e-10):
    """Output and the gradients of input and parameters, the same weights, float64."""
    ours.load_state_dict(theirs.state_dict())
    ex, tx = ember.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = ours(ex), theirs(tx)
    gy = np.random.default_rng(1).standard_normal(ty.shape)
    ey.backward(ember.Tensor(gy))
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(ey.array, ty.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), rtol=tol, atol=tol)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.array, tparams[name].grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "cls,args,kw,shape",
    [
        ("Conv2d", (3, 4, 3), dict(padding=1), (2, 3, 6, 7)),
        ("Conv2d", (4, 6, (2, 3)), dict(padding=(1, 2), stride=(2, 1), groups=2), (2, 4, 6, 7)),
        ("Conv2d", (3, 4, 4), dict(padding="same", dilation=(1, 2)), (2, 3, 6, 9)),
        ("Conv2d", (40, 40, 3), dict(padding=1), (3, 40, 6, 7)),  # the shifted GEMMs
        ("Conv2d", (3, 4, 3), dict(padding=1), (3, 6, 7)),  # unbatched
        ("Conv1d", (3, 4, 3), dict(padding=2, stride=2), (2, 3, 9)),
        ("Conv1d", (3, 4, 4), dict(padding="same"), (3, 9)),
    ],
)
def test_conv_padding_modes_match_torch(torch, mode, cls, args, kw, shape):
    theirs = getattr(torch.nn, cls)(*args, **kw, padding_mode=mode).double()
    ours = getattr(nn, cls)(*args, **kw, padding_mode=mode, dtype=np.float64)
    assert repr(ours) == repr(theirs)
    _compare(torch, ours, theirs, np.random.default_rng(0).standard_normal(shape))


def test_conv_padding_mode_errors():
    with pytest.raises(ValueError, match="padding_mode must be one of .* got 'bogus'"):
        nn.Conv2d(3, 4, 3, padding_mode="bogus")
    with pytest.raises(ValueError, match="Padding size should be less than"):  # as torch
        nn.Conv1d(1, 1, 5, padding=4, padding_mode="reflect")(ember.Tensor(np.ones((1, 1, 3))))


@pytest.mark.parametrize("kw", [dict(kernel_size=0), dict(kernel_size=3, stride=(1, 0))])
def test_conv_module_non_positive_sizes_raise(kw):
    # kernel_size 0 divided by zero in the initialisation
    with pytest.raises(ValueError, match="must be positive"):
        nn.Conv2d(3, 4, **kw)


def test_groupnorm_wrong_channel_count_names_expected_and_actual(torch):
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 4\): expected an input \(N, 4, ...\)"):
        nn.GroupNorm(2, 4)(ember.Tensor(np.ones((2, 6, 5), dtype=np.float32)))
    # without γ and β torch normalises any channel count the groups divide; so does ember
    x = np.random.default_rng(0).standard_normal((2, 6, 5))
    y = nn.GroupNorm(2, 4, affine=False)(ember.Tensor(x))
    ty = torch.nn.GroupNorm(2, 4, affine=False)(torch.tensor(x))
    np.testing.assert_allclose(y.array, ty.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape, groups", [((1, 1), 1), ((1, 2, 1), 2), ((2, 2), 2), ((1, 4), 2)])
def test_groupnorm_of_a_single_value_is_refused_as_torch(torch, shape, groups):
    # torch refuses when the whole input is one value per group (N·C/G·spatial = 1), which
    # normalises to 0 (ember gave the bias); other single-value groups it computes
    x = np.random.default_rng(0).standard_normal(shape)
    try:
        ref = torch.nn.functional.group_norm(torch.tensor(x), groups)
    except ValueError:
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            ember.nn.functional.group_norm(ember.tensor(x), groups)
    else:
        y = ember.nn.functional.group_norm(ember.tensor(x), groups)
        np.testing.assert_allclose(y.array, ref.numpy(), atol=1e-12)


@pytest.mark.parametrize(
    "kw", [dict(), dict(bias=False), dict(elementwise_affine=False), dict(eps=1e-3)]
)
def test_layernorm_repr_matches_torch(torch, kw):
    assert repr(nn.LayerNorm((5, 4), **kw)) == repr(torch.nn.LayerNorm((5, 4), **kw))


@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_conv_forward_hook_for_weight_transforming_subclasses(torch, mode):
    """timm's weight-standardised convolutions subclass Conv2d and call _conv_forward."""

    def standardised(base):
        class StdConv(base):
            def forward(self, x):
                w = self.weight
                w = (w - w.mean((1, 2, 3), keepdim=True)) / (w.var((1, 2, 3), keepdim=True) + 1e-5)
                return self._conv_forward(x, w, self.bias)

        return StdConv

    kw = dict(padding=(1, 2), stride=(1, 2), padding_mode=mode)
    theirs = standardised(torch.nn.Conv2d)(3, 4, 3, **kw).double()
    ours = standardised(nn.Conv2d)(3, 4, 3, dtype=np.float64, **kw)
    assert (ours.transposed, ours.output_padding) == (theirs.transposed, theirs.output_padding)
    assert ours._reversed_padding_repeated_twice == theirs._reversed_padding_repeated_twice
    _compare(torch, ours, theirs, np.random.default_rng(0).standard_normal((2, 3, 7, 8)))


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.BatchNorm2d(3, momentum=None),
        lambda m: m.BatchNorm1d(3),
        lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True),
        lambda m: m.GroupNorm(3, 3),
    ],
)
def test_norm_reset_parameters_as_torch(torch, make):
    """``for m in model.modules(): m.reset_parameters()`` must reach the norm layers too."""
    theirs, ours = make(torch.nn), make(nn)
    shape = (4, 3, 5) if isinstance(ours, nn.BatchNorm1d) else (4, 3, 5, 5)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for _ in range(2):
        theirs(torch.tensor(x))
        ours(ember.Tensor(x))
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(0.5)
    for p in ours.parameters():
        p.array += 0.5
    theirs.reset_parameters()
    ours.reset_parameters()
    tstate = theirs.state_dict()
    assert list(ours.state_dict()) == list(tstate)
    for k, t in ours.state_dict().items():
        np.testing.assert_array_equal(t.array, tstate[k].numpy(), err_msg=k)


def test_batchnorm_check_input_dim_is_the_hook_subclasses_override(torch):
    class AnyRankBN(nn.BatchNorm1d):
        def _check_input_dim(self, x):
            if x.ndim < 2:
                raise ValueError("need (N, C, ...)")

    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    y = AnyRankBN(3, dtype=np.float64)(ember.Tensor(x))
    ty = torch.nn.functional.batch_norm(torch.tensor(x), None, None, training=True)
    np.testing.assert_allclose(y.array, ty.numpy(), rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="expected a 2 or 3-D input"):
        nn.BatchNorm1d(3)(ember.Tensor(x))
