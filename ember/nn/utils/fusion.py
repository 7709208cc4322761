"""Folding an eval-mode batch norm into the convolution or linear layer before it, for serving.

In eval mode BN is an affine map per channel with its running statistics:

    BN(z) = γ·(z − μ)/√(σ² + ε) + β = s·z + (β − s·μ),    s = γ/√(σ² + ε)

so BN(W·x + b) = (s·W)·x + s·(b − μ) + β: one layer with

    W' = s·W   (s scales each output channel: W's rows; a transposed convolution's columns)
    b' = s·(b − μ) + β

which computes the same outputs with one pass over the activations fewer. torch's names and
signatures (torch.nn.utils.fusion); the weights are folded in float64 and stored back in the
layer's dtype.
"""

from __future__ import annotations

import copy

from ...backend import xp
from ...errors import InputAssertionError
from ...tensor import Tensor
from ..module import Parameter


def _array(t, like=None):
    if t is None:
        return None
    return t.array if isinstance(t, Tensor) else xp.asarray(t)


def _fold(w, b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, channel_axis: int):
    # each fused tensor requires grad as the layer's did (a missing bias: not), as torch's
    grads = [bool(getattr(t, "requires_grad", False)) for t in (w, b)]
    w, rm, rv = _array(w), _array(bn_rm), _array(bn_rv)
    n = rm.shape[0]
    if w.shape[channel_axis] != n:
        raise ValueError(
            f"fusion: the layer has {w.shape[channel_axis]} output channels, the batch norm"
            f" {n} features"
        )
    dt = w.dtype
    gamma = xp.ones(n) if bn_w is None else _array(bn_w).astype(xp.float64)
    beta = xp.zeros(n) if bn_b is None else _array(bn_b).astype(xp.float64)
    bias = xp.zeros(n) if b is None else _array(b).astype(xp.float64)
    s = gamma / xp.sqrt(rv.astype(xp.float64) + bn_eps)
    shape = [1] * w.ndim
    shape[channel_axis] = -1
    fused_w = (w.astype(xp.float64) * s.reshape(shape)).astype(dt)
    fused_b = (s * (bias - rm.astype(xp.float64)) + beta).astype(dt)
    return Parameter(fused_w, grads[0]), Parameter(fused_b, grads[1])


def fuse_conv_bn_weights(
    conv_w, conv_b, bn_rm, bn_rv, bn_eps: float, bn_w, bn_b, transpose: bool = False
) -> tuple[Parameter, Parameter]:
    """(W', b') of a convolution followed by an eval-mode BN (see the module docstring);
    ``transpose`` for a transposed convolution, whose weight is (C_in, C_out/groups, …)."""
    return _fold(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, 1 if transpose else 0)


def fuse_linear_bn_weights(
    linear_w, linear_b, bn_rm, bn_rv, bn_eps: float, bn_w, bn_b
) -> tuple[Parameter, Parameter]:
    """(W', b') of a Linear followed by an eval-mode BatchNorm1d over its out_features."""
    return _fold(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, 0)


def _check_eval(layer, bn) -> None:
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval! Call .eval() on both modules first.")
    if bn.running_mean is None:  # torch asserts it
        raise InputAssertionError("fusion needs a batch norm with running statistics")


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A copy of ``conv`` that computes conv then ``bn`` (both in eval mode) as one layer."""
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose,
    )  # fmt: skip
    return fused


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` that computes linear then ``bn`` (both in eval mode) as one layer."""
    _check_eval(linear, bn)
    if linear.out_features != bn.num_features:
        raise AssertionError(
            "To fuse, linear.out_features must equal bn.num_features (or bn.num_features must"
            f" be 1 in torch's broadcasting case); got {linear.out_features} and"
            f" {bn.num_features}"
        )
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    return fused
