"""Still more of torch.nn.functional: rrelu, channel_shuffle (native_channel_shuffle),
conv_tbc, lp_pool1d/2d, alpha_dropout and feature_alpha_dropout, each composed from
differentiable Tensor ops (the random draws are constants of the graph), so every gradient is
exact by construction.

RReLU(x)       = x if x > 0 else a·x,  a ~ U(lower, upper) per element in training,
                 a = (lower + upper)/2 in eval                           (Xu et al. 2015)
channel shuffle: (N, g·m, *) → (N, m·g, *), channel i·m + j → j·g + i   (ShuffleNet)
LP pool:       y = (k · avg_pool(xᵖ))^{1/p} = (Σ_window xᵖ)^{1/p}      (k the window size)
alpha dropout: y = a·(x·m + α′·(1 − m)) + b,  m ~ Bernoulli(1 − p),  α′ = −λα (SELU's
               negative saturation), a = ((1 − p)(1 + p·α′²))^{−½}, b = −a·α′·p:
               keeps zero mean and unit variance of a SELU network (Klambauer et al. 2017)
"""

from __future__ import annotations

import math
import operator

from .. import backend
from ..backend import xp
from ..errors import InputError
from ..ops.complex_refuse import NOISE, refuse_complex
from ..ops.elementwise import Mul, not_implemented_for
from ..tensor import Tensor, apply
from ..tensor_aliases import require_tensor
from .activation import floating_only, leaky_relu
from .conv import _pair
from .pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .shape import new_memory, where

#: λ·α of SELU: −α′, the value a SELU unit saturates at for x → −∞ (torch's constant)
SELU_SATURATION = 1.7580993408473766


def rrelu(
    input: Tensor,  # noqa: A002 - torch's argument name
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomised leaky ReLU: y = x for x > 0, else a·x.

    training: a ~ U(lower, upper), one draw per element from ember's generator; y = x·a′ with
    a′ = a where x ≤ 0 and 1 elsewhere, so ∂y/∂x = a′ (torch's noise). Eval: a is the mean
    slope (lower + upper)/2, a leaky ReLU (∂/∂x at 0 is the slope, as torch's)."""
    require_tensor("rrelu", input, "input")
    if lower > upper:  # torch: RuntimeError, as the three below
        raise InputError(
            f"rrelu: lower bound should be less than or equal to the upper bound, got"
            f" lower={lower}, upper={upper}"
        )
    if input.dtype.kind == "c":  # torch has no complex leaky_relu nor rrelu kernel
        refuse_complex(input.array, "rrelu", NotImplementedError)
    floating_only(input, "leaky_relu_cpu")
    if inplace:
        return input._arith_("rrelu_", lambda x: rrelu(x, lower, upper, training))
    x = input
    if not training:  # torch's leaky_relu, which keeps x in a create_graph gradient's graph
        return leaky_relu(x, (lower + upper) / 2)
    if x.dtype.name == "float16":  # torch's noise kernel has no half version
        raise not_implemented_for("rrelu_with_noise_out_cpu", x.dtype)
    a = backend.generator_or_default(None).uniform(lower, upper, x.shape, x.dtype)
    noise = xp.where(x.array <= 0, a, xp.ones((), dtype=x.dtype)).astype(x.dtype, copy=False)
    return apply(Mul, x, Tensor(noise))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """(N, g·m, *) → (N, g·m, *) with channel i·m + j moved to j·g + i: viewed as (N, g, m, *),
    the group and member axes swapped, flattened back (Zhang et al. 2018, ShuffleNet)."""
    x, g = input, operator.index(groups)  # a float: torch's TypeError
    if x.ndim <= 2:
        raise InputError(
            f"channel_shuffle expects input with > 2 dims, but got input with shape {x.shape}"
        )
    if g <= 0:
        raise InputError(f"channel_shuffle: number of groups must be positive, got {g}")
    n, c, *rest = x.shape
    if c % g:
        raise InputError(
            f"channel_shuffle: number of channels must be divisible by groups. Got {c} channels"
            f" and {g} groups."
        )
    return new_memory(x.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(*x.shape), x)


#: torch.nn.functional.native_channel_shuffle: the same shuffle under ATen's name
native_channel_shuffle = channel_shuffle


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:  # noqa: A002
    """torch's conv_tbc: a 1-D convolution in time-batch-channel layout, y (T′, B, C_out) from
    x (T, B, C_in), weight (K, C_in, C_out), bias (C_out,), ``pad`` zeros at both ends of time:
    conv1d on x as (B, C_in, T) with the kernel as (C_out, C_in, K)."""
    from .conv import conv1d

    if input.ndim != 3 or weight.ndim != 3 or bias.ndim != 1:
        raise RuntimeError(
            f"conv_tbc: input must be 3-D (T, B, C_in), weight 3-D (K, C_in, C_out) and bias"
            f" 1-D, got shapes {tuple(input.shape)}, {tuple(weight.shape)}, {tuple(bias.shape)}"
        )
    if input.shape[2] != weight.shape[1] or weight.shape[2] != bias.shape[0]:
        raise RuntimeError(
            f"conv_tbc: input channels {input.shape[2]}, weight {tuple(weight.shape)} and bias"
            f" {tuple(bias.shape)} do not agree (weight is (K, C_in, C_out))"
        )
    y = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return y.permute(2, 0, 1)


def _root(out: Tensor, k: int, p: float) -> Tensor:
    """(k·out)^{1/p}, torch's ``(sign(out)·relu(|out|)·k)^{1/p}``: the value is (k·out)^{1/p};
    the gradient is 0 where out = 0 (relu' (0) = 0 in torch, instead of the root's ∞), and the
    root is taken of 1 there so that no ∞·0 reaches the graph."""
    s = out * k
    nz = s.array != 0
    safe = where(nz, s, 1.0)
    return where(nz, safe ** (1.0 / p), 0.0)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:  # fmt: skip
    """Power-average pooling over x (N, C, L) or (C, L): y = (Σ_window xᵖ)^{1/p}, computed as
    torch does, (k · avg_pool1d(xᵖ))^{1/p}, so ceil_mode's clipped last window is scaled by
    k / (its size), as torch's. p = ±inf: max pooling of ±|x|."""
    (k,) = _pair(kernel_size, 1, "kernel_size")
    if norm_type == math.inf:
        return max_pool1d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool1d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool1d(input**norm_type, kernel_size, stride, 0, ceil_mode)
    return _root(out, k, norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:  # fmt: skip
    """Power-average pooling over x (N, C, H, W) or (C, H, W): y = (Σ_window xᵖ)^{1/p} as
    (kh·kw · avg_pool2d(xᵖ))^{1/p} (torch's formula). p = ±inf: max pooling of ±|x|."""
    kh, kw = _pair(kernel_size, 2, "kernel_size")
    if norm_type == math.inf:
        return max_pool2d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool2d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool2d(input**norm_type, kernel_size, stride, 0, ceil_mode)
    return _root(out, kh * kw, norm_type)


def _alpha_dropout(x: Tensor, p: float, training: bool, feature: bool) -> Tensor:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if feature and x.ndim < 2:  # torch: RuntimeError
        raise InputError(
            f"feature_alpha_dropout requires at least 2 dimensions in the input, got {x.shape}"
        )
    if p == 0.0 or not training or x.numel() == 0:
        return x
    if p == 1.0:  # torch: every unit dropped gives zeros (the affine map is undefined there)
        return x * 0.0
    if x.dtype.kind == "c":  # as dropout: no complex Bernoulli mask in torch
        name = "feature_alpha_dropout" if feature else "alpha_dropout"
        refuse_complex(x.array, name, NotImplementedError, NOISE)
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2) if feature else x.shape
    m = backend.default_generator.bernoulli_mask(1.0 - p, shape, x.dtype)
    alpha = SELU_SATURATION
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    b = (m - 1) * (alpha * a) + alpha * a * p  # torch's order of operations
    y = apply(Mul, x, Tensor((m * a).astype(x.dtype, copy=False)))
    return y + Tensor(b.astype(x.dtype, copy=False))


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False) -> Tensor:  # fmt: skip
    """SELU-preserving dropout: each element dropped with probability p is set to SELU's
    saturation α′ = −λα, then y = a·x̃ + b with a = ((1 − p)(1 + p·α′²))^{−½} and b = −a·α′·p,
    so zero mean and unit variance survive. Identity unless ``training``."""
    require_tensor("alpha_dropout", input, "input")
    if inplace and training and p > 0:  # as torch: in eval (or p = 0) x is returned as is
        return input._arith_("alpha_dropout_", lambda x: alpha_dropout(x, p, training))
    return _alpha_dropout(input, p, training, feature=False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                          inplace: bool = False) -> Tensor:  # fmt: skip
    """Alpha dropout of whole channels: one draw per (n, c) of x (N, C, *), shared over *."""
    require_tensor("feature_alpha_dropout", input, "input")
    if inplace and training and p > 0:
        return input._arith_(
            "feature_alpha_dropout_", lambda x: feature_alpha_dropout(x, p, training)
        )
    return _alpha_dropout(input, p, training, feature=True)


__all__ = [
    "alpha_dropout",
    "channel_shuffle",
    "feature_alpha_dropout",
    "lp_pool1d",
    "lp_pool2d",
    "rrelu",
]
