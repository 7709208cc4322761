"""Folding eval-mode batch norm into the layer before it (nn.utils.fusion) and the clipping
helpers get_total_norm / clip_grads_with_norm_: against torch, and against the unfused pair."""

import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import utils


def _randomised_bn(bn, seed):
    rng = np.random.default_rng(seed)
    n = bn.num_features
    bn.running_mean.array[...] = rng.standard_normal(n)
    bn.running_var.array[...] = rng.uniform(0.5, 2.0, n)
    if bn.weight is not None:
        bn.weight.array[...] = rng.uniform(0.5, 1.5, n)
        bn.bias.array[...] = rng.standard_normal(n)
    return bn.eval()


@pytest.mark.parametrize(
    "make_conv, make_bn, shape, transpose",
    [
        (lambda: nn.Conv2d(3, 4, 3, padding=1), lambda: nn.BatchNorm2d(4), (2, 3, 6, 6), False),
        (lambda: nn.Conv2d(4, 6, 3, groups=2, bias=False), lambda: nn.BatchNorm2d(6), (1, 4, 5, 5),
         False),
        (lambda: nn.Conv1d(3, 5, 3), lambda: nn.BatchNorm1d(5, affine=False), (2, 3, 9), False),
        (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2), lambda: nn.BatchNorm2d(4), (2, 3, 4, 4),
         True),
    ],
)  # fmt: skip
def test_fused_conv_equals_conv_then_bn_and_torch(torch, make_conv, make_bn, shape, transpose):
    conv, bn = make_conv().eval(), _randomised_bn(make_bn(), 0)
    fused = utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
    assert fused is not conv and conv.weight.array is not fused.weight.array
    x = ember.tensor(np.random.default_rng(1).standard_normal(shape).astype(np.float32))
    with ember.no_grad():
        np.testing.assert_allclose(fused(x).array, bn(conv(x)).array, rtol=1e-5, atol=1e-5)
    from torch.nn.utils import fusion as tf

    tw, tb = tf.fuse_conv_bn_weights(
        *(None if a is None else torch.tensor(a.array) for a in
          (conv.weight, conv.bias, bn.running_mean, bn.running_var)),
        bn.eps,
        *(None if a is None else torch.tensor(a.array) for a in (bn.weight, bn.bias)),
        transpose=transpose,
    )  # fmt: skip
    np.testing.assert_allclose(fused.weight.array, tw.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fused.bias.array, tb.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_fused_linear_equals_linear_then_bn_and_torch(torch):
    lin, bn = nn.Linear(5, 3).eval(), _randomised_bn(nn.BatchNorm1d(3), 2)
    fused = utils.fuse_linear_bn_eval(lin, bn)
    x = ember.randn(4, 5)
    with ember.no_grad():
        np.testing.assert_allclose(fused(x).array, bn(lin(x)).array, rtol=1e-5, atol=1e-6)
    from torch.nn.utils import fusion as tf

    tw, tb = tf.fuse_linear_bn_weights(
        *(torch.tensor(a.array) for a in (lin.weight, lin.bias, bn.running_mean, bn.running_var)),
        bn.eps, torch.tensor(bn.weight.array), torch.tensor(bn.bias.array),
    )  # fmt: skip
    np.testing.assert_allclose(fused.weight.array, tw.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(fused.bias.array, tb.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_fusion_refuses_training_mode_and_mismatched_sizes():
    conv, bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        utils.fuse_conv_bn_eval(conv, bn)
    with pytest.raises(ValueError, match="4 output channels, the batch norm 5 features"):
        utils.fuse_conv_bn_eval(conv.eval(), nn.BatchNorm2d(5).eval())
    with pytest.raises(AssertionError, match="out_features must equal bn.num_features"):
        utils.fuse_linear_bn_eval(nn.Linear(3, 2).eval(), nn.BatchNorm1d(4).eval())


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_get_total_norm_and_clip_grads_with_norm_match_torch(torch, norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) for s in [(3, 4), (5,), (2, 2, 2)]]
    total = utils.get_total_norm([ember.tensor(g) for g in grads], norm_type)
    t_total = torch.nn.utils.get_total_norm([torch.tensor(g) for g in grads], norm_type)
    np.testing.assert_allclose(total.item(), t_total.item(), rtol=1e-12)
    ps = [nn.Parameter(np.zeros(g.shape)) for g in grads]
    tps = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, tp, g in zip(ps, tps, grads):
        p.grad, tp.grad = ember.tensor(g), torch.tensor(g)
    utils.clip_grads_with_norm_(ps, 1.5, total, foreach=None)
    torch.nn.utils.clip_grads_with_norm_(tps, 1.5, t_total)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.array, tp.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is nan"):
        utils.get_total_norm([ember.tensor([np.nan])], error_if_nonfinite=True)
