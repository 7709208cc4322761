"""Functions torch.nn.functional has that ember lacked: fractional_max_pool2d/3d (and
_with_indices), the in-place activations relu_, elu_, selu_, celu_, leaky_relu_, hardtanh_,
rrelu_, threshold_, and the deprecated upsample, upsample_bilinear, upsample_nearest;
``__all__`` lists them (ember.functional star-imports it).

Fractional max pooling (Graham 2014, arXiv:1412.6071), per plane and spatial dim, with one
sample u ∈ [0, 1) per (n, c, dim) (the pseudo-random sequence torch's CPU kernel uses):

    α   = (n_in − k) / (n_out − 1)
    b_i = ⌊(i + u)·α⌋ − ⌊u·α⌋      i = 0 … n_out − 2,   b_{n_out−1} = n_in − k
    y_i = max_{0 ≤ j < k} x[b_i + j]          (over every spatial dim at once)

α and (i + u)·α are computed in the input's dtype, as torch does, so float32 windows match
torch's bit for bit. The maximum is the first one in row-major window order; a NaN wins (the
last NaN, as torch's loop). The index is the flat position in the input plane; the output is
a gather at those indices, so the gradient scatters back onto them (summed where windows
overlap).

The in-place activations write f(x) into x and return x: ember's in-place rule (a tensor that
requires grad, with grad mode on, refuses: ``Tensor._inplace``) applies.
"""

from __future__ import annotations

import itertools
import math
import warnings

from .. import backend
from ..backend import xp
from ..tensor import Tensor
from ..tensor_aliases import require_tensor
from .activation import leaky_relu, relu
from .activation_more import celu, elu, hardtanh_unchecked, selu, threshold
from .layers_extra import rrelu
from .layers_fold import first_max_or_last_nan
from .layers_more import interpolate

__all__ = [
    "fractional_max_pool2d",
    "fractional_max_pool3d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices",
    "relu_",
    "elu_",
    "selu_",
    "celu_",
    "leaky_relu_",
    "hardtanh_",
    "rrelu_",
    "threshold_",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]


# ---------------------------------------------------------------- fractional max pooling
def _ntuple(value, d: int, name: str) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            return tuple(value) * d
        if len(value) != d:
            raise ValueError(f"{name} must be a single value or a tuple of {d}, got {value}")
        return tuple(value)
    return (value,) * d


def _intervals(u, n_in: int, n_out: int, k: int):
    """Window starts b (…, n_out) for samples u (…) in u's dtype (torch's generate_intervals)."""
    dt = u.dtype
    last = xp.full(u.shape + (1,), n_in - k, dtype=xp.int64)
    if n_out == 1:
        return last
    alpha = xp.asarray(n_in - k, dtype=dt) / xp.asarray(n_out - 1, dtype=dt)
    i = xp.arange(n_out - 1).astype(dt)
    ua = u[..., None]
    b = ((i + ua) * alpha).astype(xp.int64) - (ua * alpha).astype(xp.int64)
    return xp.concatenate([b, last], axis=-1)


def _fractional(name, d, input, kernel_size, output_size, output_ratio, _random_samples):  # noqa: A002
    x = input
    if x.ndim not in (d + 1, d + 2):
        raise RuntimeError(
            f"{name}(): expected {d + 1}D or {d + 2}D tensor, but got input of shape"
            f" {tuple(x.shape)}"
        )
    unbatched = x.ndim == d + 1
    if unbatched:
        x = x.unsqueeze(0)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    sizes = tuple(int(s) for s in x.shape[2:])
    if output_size is None:
        ratio = _ntuple(output_ratio, d, "output_ratio")
        output_size = [int(n * r) for n, r in zip(sizes, ratio)]
    outs = tuple(int(o) for o in _ntuple(output_size, d, "output_size"))
    ks = tuple(int(k) for k in _ntuple(kernel_size, d, "kernel_size"))
    dims = ("time", "height", "width")[3 - d :]
    for n, o, k, dim in zip(sizes, outs, ks, dims):
        if k <= 0 or o <= 0:
            raise RuntimeError(f"{name}(): kernel_size and output_size must be positive")
        # torch's checks: o + k − 1 ≤ n in 2-D, but < n in 3-D
        if o + k - 1 > n or (d == 3 and o + k - 1 == n):
            where = name + ("_out" if d == 3 else "")
            raise RuntimeError(f"{where}(): pool {dim} {k} too large relative to input {dim} {n}")
    N, C = int(x.shape[0]), int(x.shape[1])
    if _random_samples is None:
        u = backend.generator_or_default(None).random((N, C, d), x.dtype)
    else:
        u = _random_samples.array if isinstance(_random_samples, Tensor) else _random_samples
        u = xp.asarray(u)
        if tuple(u.shape) != (N, C, d):
            raise RuntimeError(
                f"{name}(): expected _random_samples of shape {(N, C, d)}, got {tuple(u.shape)}"
            )
        u = u.astype(x.dtype, copy=False)
    # torch's samples: 2-D (width, height), 3-D (time, height, width)
    order = (1, 0) if d == 2 else (0, 1, 2)
    starts = [_intervals(u[:, :, order[j]], sizes[j], outs[j], ks[j]) for j in range(d)]
    # flat plane index of each window's origin, broadcast to (N, C, *outs)
    strides = [math.prod(sizes[j + 1 :]) for j in range(d)]
    origin = 0
    for j in range(d):
        shape = (N, C) + tuple(outs[j] if m == j else 1 for m in range(d))
        origin = origin + starts[j].reshape(shape) * strides[j]
    plane = x.array.reshape(N, C, -1)
    cands, vals = [], []
    for offs in itertools.product(*(range(k) for k in ks)):  # kernel offsets, row-major
        flat = (origin + sum(o * s for o, s in zip(offs, strides))).reshape(N, C, -1)
        cands.append(flat)
        vals.append(xp.take_along_axis(plane, flat, axis=2))
    cands, vals = xp.stack(cands, -1), xp.stack(vals, -1)
    pick = first_max_or_last_nan(vals)
    idx = xp.take_along_axis(cands, pick[..., None], axis=-1)[..., 0]  # (N, C, ∏outs)
    y = x.reshape(N, C, -1).gather(2, Tensor(idx)).reshape((N, C) + outs)
    indices = Tensor(idx.reshape((N, C) + outs))
    if unbatched:
        y, indices = y.squeeze(0), indices.squeeze(0)
    return y, indices


def fractional_max_pool2d_with_indices(
    input: Tensor,  # noqa: A002 - torch's argument names
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices: bool = False,
    _random_samples=None,
) -> tuple[Tensor, Tensor]:
    """2-D fractional max pooling of (N, C, H, W) or (C, H, W): (output, indices), indices flat
    in each H·W plane; ``_random_samples`` (N, C, 2) holds u for (width, height) as torch's."""
    return _fractional(
        "fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio, _random_samples
    )


def fractional_max_pool3d_with_indices(
    input: Tensor,  # noqa: A002 - torch's argument names
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices: bool = False,
    _random_samples=None,
) -> tuple[Tensor, Tensor]:
    """3-D fractional max pooling of (N, C, T, H, W) or (C, T, H, W): (output, indices), indices
    flat in each T·H·W volume; ``_random_samples`` (N, C, 3) holds u for (time, height, width)."""
    return _fractional(
        "fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio, _random_samples
    )


def fractional_max_pool2d(
    input: Tensor,  # noqa: A002 - torch's argument names
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices: bool = False,
    _random_samples=None,
):
    """Fractional max pooling over (H, W); the indices too with ``return_indices``."""
    y, indices = fractional_max_pool2d_with_indices(
        input, kernel_size, output_size, output_ratio, return_indices, _random_samples
    )
    return (y, indices) if return_indices else y


def fractional_max_pool3d(
    input: Tensor,  # noqa: A002 - torch's argument names
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices: bool = False,
    _random_samples=None,
):
    """Fractional max pooling over (T, H, W); the indices too with ``return_indices``."""
    y, indices = fractional_max_pool3d_with_indices(
        input, kernel_size, output_size, output_ratio, return_indices, _random_samples
    )
    return (y, indices) if return_indices else y


# ---------------------------------------------------------------- in-place activations
def _write(name: str, x: Tensor, f) -> Tensor:
    require_tensor(name, x, "input")
    return x._arith_(name, f)  # x = f(x) in place, recorded where a gradient is needed


def relu_(input: Tensor) -> Tensor:  # noqa: A002 - torch's argument names
    """x ← max(0, x); returns x."""
    return _write("relu_", input, relu)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """x ← x if x > 0 else α·(eˣ − 1); returns x."""
    return _write("elu_", input, lambda x: elu(x, alpha))


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    """x ← λ·(x if x > 0 else α·(eˣ − 1)); returns x."""
    return _write("selu_", input, selu)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """x ← x if x > 0 else α·(e^{x/α} − 1); returns x."""
    return _write("celu_", input, lambda x: celu(x, alpha))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """x ← x if x > 0 else a·x; returns x."""
    return _write("leaky_relu_", input, lambda x: leaky_relu(x, negative_slope))


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """x ← min(max(x, min_val), max_val); returns x. min_val > max_val is taken, as torch's
    hardtanh_ (every value becomes max_val); F.hardtanh refuses it."""
    return _write("hardtanh_", input, lambda x: hardtanh_unchecked(x, min_val, max_val, False))


def rrelu_(
    input: Tensor,  # noqa: A002
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
) -> Tensor:
    """x ← x if x > 0 else a·x, a ~ U(lower, upper) in training, (lower + upper)/2 otherwise;
    returns x."""
    return _write("rrelu_", input, lambda x: rrelu(x, lower, upper, training))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    """x ← value where x ≤ threshold; returns x."""
    return _write("threshold_", input, lambda x: _threshold(x, threshold, value))


_threshold = threshold


# ---------------------------------------------------------------- deprecated upsampling
def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    """Deprecated: ``interpolate(input, size, scale_factor, mode, align_corners)``."""
    warnings.warn(
        "`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``."""
    warnings.warn(
        "`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear',
    align_corners=True)``."""
    warnings.warn(
        "`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
