"""More of torch.nn.functional: pixel (un)shuffle, instance norm, RMS norm, channel dropout
and bilinear (the pads by reflection, replication and circle live in pad_modes.py), each
composed from differentiable Tensor ops
(index_select gathers, reshapes, reductions), so every gradient is exact by construction.
interpolate lives in interpolate.py and is re-exported here, where it used to be defined.
"""

from __future__ import annotations

import operator
import warnings

from .. import backend
from ..backend import xp
from ..errors import InputError
from ..function import is_grad_enabled
from ..ops.complex_refuse import NOISE, refuse_complex
from ..ops.elementwise import Mul, not_implemented_for
from ..tensor import Tensor, apply
from ..tensor_aliases import require_tensor
from .interpolate import interpolate  # noqa: F401 - re-exported (pool_extra, nn)
from .normalization import _affine, check_same_dtype, update_running_stat, verify_spatial_size
from .pad_modes import check_pad_arguments, pad_non_constant
from .shape import new_memory
from .shape import pad as _pad_constant

# ---------------------------------------------------------------- padding


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """torch's F.pad with every mode: 'constant', 'reflect', 'replicate', 'circular'.

    ``pad`` lists (before, after) pairs from the last dim backwards; the non-constant modes
    (pad_modes.py) pad the last 1, 2 or 3 dims of an input with one or two more.
    """
    check_pad_arguments(input, pad, mode)
    if mode == "constant":
        return _pad_constant(input, tuple(pad), value=0.0 if value is None else value)
    if value:  # torch: RuntimeError (a value of 0 passes)
        raise InputError(f'Padding mode "{mode}" doesn\'t take in value argument')
    return pad_non_constant(input, pad, mode)


# ---------------------------------------------------------------- pixel shuffle


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C·r², H, W) → (*, C, H·r, W·r): y[c, h·r + i, w·r + j] = x[c·r² + i·r + j, h, w]."""
    x, r = input, operator.index(upscale_factor)  # a float: torch's TypeError
    if r < 1:  # (a ZeroDivisionError from the modulo before)
        raise InputError(f"pixel_shuffle: upscale_factor must be positive, got {r}")
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise InputError(f"pixel_shuffle: expected (*, C·r², H, W) with r={r}, got shape {x.shape}")
    *lead, c, h, w = x.shape
    c //= r * r
    nl = len(lead)
    y = x.reshape(*lead, c, r, r, h, w)
    y = y.permute(*range(nl), nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return new_memory(y.reshape(*lead, c, h * r, w * r), x)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C, H·r, W·r) → (*, C·r², H, W): the inverse of pixel_shuffle."""
    x, r = input, operator.index(downscale_factor)
    if r < 1:
        raise InputError(f"pixel_unshuffle: downscale_factor must be positive, got {r}")
    if x.ndim < 3 or x.shape[-1] % r or x.shape[-2] % r:  # torch: RuntimeError
        raise InputError(
            f"pixel_unshuffle: expected (*, C, H·r, W·r) with r={r}, got shape {x.shape}"
        )
    *lead, c, hr, wr = x.shape
    h, w = hr // r, wr // r
    nl = len(lead)
    y = x.reshape(*lead, c, h, r, w, r)
    y = y.permute(*range(nl), nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return new_memory(y.reshape(*lead, c * r * r, h, w), x)


# ---------------------------------------------------------------- normalisation


def instance_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance norm (Ulyanov et al. 2016): per sample n and channel c over the pixels,

        x̂ = (x − μ_nc) / √(σ²_nc + ε),   y = γ_c · x̂ + β_c

    With ``use_input_stats`` and running stats given, they move towards the batch average of
    the per-instance statistics (variance unbiased), as torch's:
        running ← (1 − momentum) · running + momentum · mean_n(statistic_nc)
    Without ``use_input_stats`` the running statistics replace μ_nc and σ²_nc.
    """
    if use_input_stats:
        verify_spatial_size(input.array.shape)
    args = (running_mean, running_var, weight, bias, use_input_stats, momentum, eps)
    return instance_norm_kernel(input, *args)


def instance_norm_kernel(x: Tensor, running_mean, running_var, weight, bias,
                         use_input_stats: bool, momentum: float, eps: float) -> Tensor:  # fmt: skip
    """instance_norm past F's check of one pixel per instance: torch.instance_norm, which
    has none (a lone pixel normalises to 0, its unbiased variance is nan)."""
    eps = float(eps)  # None is torch's TypeError (ember normalised to nan)
    if x.ndim < 2:  # (N, C) passes in evaluation: each value is its own instance, as torch's
        raise InputError(f"instance_norm: expected an input (N, C, ...), got shape {x.shape}")
    if not use_input_stats and (running_mean is None or running_var is None):  # torch's words
        raise InputError(
            "Expected running_mean and running_var to be defined when use_input_stats is false"
        )
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):  # fmt: skip
        if t is not None and t.numel() != c:  # torch: RuntimeError (NumPy's broadcast error)
            raise InputError(
                f"instance_norm: {name} should hold one value per channel, {c} for input of"
                f" shape {tuple(x.shape)}, got {t.numel()}"
            )
    if use_input_stats and (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    if x.dtype.kind in "biu":  # torch runs it as batch_norm, which has no integer kernel
        raise not_implemented_for("batch_norm", x.dtype)
    if x.dtype.kind == "c":  # nor a complex one
        refuse_complex(x.array, "batch_norm", NotImplementedError, "normalise z.real, z.imag")
    # γ and β must share x's dtype (torch's "mixed dtype" RuntimeError; a float16 x with
    # float32 γ, β passes, as torch's); the running statistics are cast, as torch's
    if check_same_dtype("instance_norm", x, weight=weight, bias=bias):
        args = (running_mean, running_var, weight, bias, use_input_stats, momentum, eps)
        return instance_norm_kernel(x.float(), *args).to(x.dtype)
    axes = tuple(range(2, x.ndim))
    shape = (1, c) + (1,) * (x.ndim - 2)
    m = int(xp.prod(x.shape[2:]))
    if m == 0:  # no pixels: an empty result, the running statistics untouched (as torch's)
        return _affine(x, weight, bias, shape)
    if use_input_stats:
        # (N, C) through torch.instance_norm: each value is its own mean (a mean over no
        # axes would be over all of them)
        mu = x.mean(axis=axes, keepdims=True) if axes else x
        x_c = x - mu
        var = (x_c * x_c).mean(axis=axes, keepdims=True) if axes else x_c * x_c
        x_hat = x_c / (var + eps).sqrt()
        if running_mean is not None or running_var is not None:
            if x.shape[0] == 0:  # torch's mean over no instance: nan (NumPy warned too)
                batch_mu = batch_var = xp.full(c, xp.nan)
            else:
                batch_mu = mu.array.reshape(x.shape[0], c).mean(axis=0)
                batch_var = var.array.reshape(x.shape[0], c).mean(axis=0)
                batch_var = batch_var * (m / (m - 1)) if m > 1 else batch_var + float("nan")
            for run, stat in ((running_mean, batch_mu), (running_var, batch_var)):
                if run is not None:
                    update_running_stat(run, stat, momentum)
    else:
        mu = Tensor(running_mean.array.reshape(shape).astype(x.dtype, copy=False))
        var = Tensor(running_var.array.reshape(shape).astype(x.dtype, copy=False))
        x_hat = (x - mu) / (var + eps).sqrt()
    return _affine(x_hat, weight, bias, shape)


def rms_norm(
    input: Tensor,  # noqa: A002
    normalized_shape,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """RMS norm (Zhang & Sennrich 2019) over the trailing ``normalized_shape`` dims:

    y = x / √(mean(x²) + ε) · γ,   ε = finfo(x.dtype).eps when None (torch's default;
    float32's for float16, which is computed in float32)
    """
    x = input
    require_tensor("rms_norm", x, "input", 1)  # torch's TypeError (an AttributeError)
    if weight is not None:
        require_tensor("rms_norm", weight, "weight", 3)
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    k = len(normalized_shape)
    if k == 0:  # torch's RuntimeError: there would be no dims to take the mean over
        raise InputError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least"
            f" one element, but got normalized_shape = {list(normalized_shape)}"
        )
    if weight is not None and tuple(weight.shape) != tuple(normalized_shape):
        raise InputError(  # torch's RuntimeError (ember broadcast a weight of another shape)
            f"rms_norm: expected weight of shape normalized_shape {tuple(normalized_shape)},"
            f" got {tuple(weight.shape)}"
        )
    if tuple(x.shape[x.ndim - k :]) != tuple(normalized_shape):  # torch's RuntimeError
        raise InputError(
            f"rms_norm: input shape {x.shape} does not end in normalized_shape {normalized_shape}"
        )
    if x.dtype.kind in "biu":  # torch's refusal (NumPy's mean failed with another error)
        raise not_implemented_for("rms_norm", x.dtype)
    if x.array.size == 0:  # nothing to normalise (and no mean of an empty row to warn of)
        return x * 1.0 if weight is None else (x * weight).to(x.dtype)
    # float16 runs in float32, as torch's (opmath), with float32's ε by default, rounded once
    half = x.dtype == xp.float16
    if eps is None:
        eps = float(xp.finfo(xp.float32 if half else x.dtype).eps)
    axes = tuple(range(x.ndim - k, x.ndim))
    u = x.float() if half else x
    y = u * ((u * u).mean(axis=axes, keepdims=True) + eps).rsqrt()
    y = y.to(x.dtype) if half else y
    # γ of another dtype scales, and the result keeps x's dtype, as torch's (type_as(input))
    return y if weight is None else (y * weight).to(x.dtype)


# ---------------------------------------------------------------- dropout and bilinear


def _channel_dropout(x: Tensor, p: float, training: bool, batched: bool) -> Tensor:
    """Zero whole channels with probability p (one draw per (n, c)), scale the rest 1/(1−p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    lead = 2 if batched else 1
    mask_shape = tuple(x.shape[:lead]) + (1,) * (x.ndim - lead)
    if p == 1.0:
        return x * 0.0
    if x.dtype.kind == "c":  # as dropout: no complex Bernoulli mask in torch
        refuse_complex(x.array, "dropout", NotImplementedError, NOISE)
    mask = backend.default_generator.bernoulli_mask(1.0 - p, mask_shape, x.dtype)
    mask *= 1.0 / (1.0 - p)
    return apply(Mul, x, Tensor(mask))


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace=False) -> Tensor:  # noqa: A002
    """Channel dropout over (N, C, L) or (C, L): one keep/drop per channel."""
    if input.ndim not in (2, 3):
        raise InputError(f"dropout1d: expected a 2-D or 3-D input, got shape {input.shape}")
    if inplace and training and p > 0:  # as torch: in eval (or p = 0) x is returned as is
        return input._arith_("dropout1d_", lambda x: dropout1d(x, p, training))
    return _channel_dropout(input, p, training, input.ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace=False) -> Tensor:  # noqa: A002
    """Channel dropout over (N, C, H, W): one keep/drop per (n, c). A 3-D input is taken as
    (N, C, L), and other ranks from 2 up as (N, C, …), with torch's warnings."""
    if input.ndim < 2:  # torch: RuntimeError from feature_dropout
        raise InputError(f"dropout2d: expected a 3-D or 4-D input, got shape {input.shape}")
    if inplace and training and p > 0:  # as torch: in eval (or p = 0) x is returned as is
        return input._arith_("dropout2d_", lambda x: dropout2d(x, p, training))
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and"
            " will result in an error in a future release. To retain the behavior and silence"
            " this warning, please use dropout instead. Note that dropout2d exists to provide"
            " channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension,"
            " and an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D"
            " dropout behavior is desired - input is interpreted as shape (N, C, L), where C"
            " is the channel dim. This behavior will change in a future release to interpret"
            " the input as one without a batch dimension, i.e. shape (C, H, W). To maintain"
            " the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _channel_dropout(input, p, training, True)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None):
    """y_o = x₁ᵀ A_o x₂ + b_o = Σ_ij x₁_i · A[o, i, j] · x₂_j + b_o.

    x₁ (..., in1), x₂ (..., in2), A (out, in1, in2), b (out,) → y (..., out).
    """
    complex_ = any(t is not None and t.dtype.kind == "c" for t in (input1, input2, weight, bias))
    grads = any(t is not None and t.requires_grad for t in (input1, input2, weight, bias))
    if complex_ and grads and is_grad_enabled():
        raise RuntimeError(  # torch computes it, but has no derivative for complex outputs
            "bilinear(): does not support automatic differentiation for outputs with complex"
            f" dtype (got {weight.dtype}), as torch; detach the inputs"
        )
    out, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise InputError(
            f"bilinear: inputs {input1.shape}, {input2.shape} do not match weight {weight.shape}"
        )
    a = weight.permute(1, 0, 2).reshape(in1, out * in2)  # A as in1 × (out·in2)
    t = (input1 @ a).reshape(*input1.shape[:-1], out, in2)  # t[..., o, j] = Σ_i x₁_i A[o,i,j]
    y = (t * input2.unsqueeze(-2)).sum(axis=-1)
    return y if bias is None else y + bias
