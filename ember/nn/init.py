"""Weight initialisation, in place, with torch's names and formulas.

xavier (Glorot): Var(W) = gain² · 2 / (fan_in + fan_out)
kaiming (He):    Var(W) = gain² / fan            (gain = √2 for ReLU)
orthogonal:      W = Q from the QR decomposition of a Gaussian matrix
"""

from __future__ import annotations

import functools
import math
import warnings

from .. import backend
from ..autograd_saved_writes import note_tensor_write
from ..backend import xp
from ..errors import InputError
from ..function import no_grad
from ..ops.elementwise import not_implemented_for
from ..tensor import Tensor

_GAINS = {
    "linear": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4,
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain torch recommends for ``nonlinearity``: 1 for the linear and convolution
    layers and sigmoid, 5/3 for tanh, √2 for ReLU, √(2/(1 + a²)) for leaky ReLU of slope a
    (``param``, default 0.01), 3/4 for SELU."""
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; known: {sorted(_GAINS)}")
    return _GAINS[nonlinearity]


def _calculate_fan_in_and_fan_out(t: Tensor):
    if t.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dims, got {t.shape}")
    receptive = 1
    for n in t.shape[2:]:
        receptive *= n
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fill(t: Tensor, values) -> Tensor:
    with no_grad():
        t.array[...] = values.astype(t.array.dtype, copy=False)
    note_tensor_write(t)
    return t


def _random_values_for(t: Tensor, kernel: str) -> None:
    """torch's refusal of random real values for an integer or bool tensor (NumPy would cast
    them to zeros and small integers without a word)."""
    if t.array.dtype.kind not in "fc":
        raise not_implemented_for(kernel, t.array.dtype)


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    _random_values_for(t, "check_uniform_bounds")
    gen = backend.generator_or_default(generator)
    return _fill(t, gen.uniform(a, b, t.shape, t.dtype))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    _random_values_for(t, "normal_kernel_cpu")
    gen = backend.generator_or_default(generator)
    return _fill(t, gen.normal(mean, std, t.shape, t.dtype))


def constant_(t: Tensor, val: float) -> Tensor:
    t.array[...] = val
    note_tensor_write(t)
    return t


def zeros_(t: Tensor) -> Tensor:
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    return constant_(t, 1.0)


def xavier_uniform_(t: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a, generator)


def xavier_normal_(t: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(t, a, mode, nonlinearity):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    t: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    if _no_elements(t):
        return t
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    return uniform_(t, -bound, bound, generator)


def kaiming_normal_(
    t: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    if _no_elements(t):
        return t
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity), generator)


def _no_elements(t: Tensor) -> bool:
    """torch's no-op, with its warning, for a tensor with no elements (Linear(0, n)'s weight),
    whose fan of 0 would divide by zero."""
    if t.array.size:
        return False
    warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
    return True


def orthogonal_(t: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix: rows or columns orthonormal, times ``gain``."""
    if t.ndim < 2:
        raise ValueError(f"orthogonal_ needs at least 2 dims, got shape {t.shape}")
    _random_values_for(t, "normal_kernel_cpu")
    if t.array.size == 0:  # nothing to fill (torch's no-op)
        return t
    rows = t.shape[0]
    cols = t.numel() // rows
    flat = backend.generator_or_default(generator).standard_normal((rows, cols), xp.float64)
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q *= xp.sign(xp.diag(r))  # make the decomposition unique, as torch does
    if rows < cols:
        q = q.T
    return _fill(t, gain * q.reshape(t.shape))


def trunc_normal_(
    t: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator=None,
) -> Tensor:
    """Fill from N(mean, std²) truncated to [a, b], by torch's inverse-CDF method:
    u ~ U(2Φ(α) − 1, 2Φ(β) − 1),  W = mean + std·√2·erf⁻¹(u),  clipped to [a, b]
    (α = (a − mean)/std, β = (b − mean)/std; the clip only catches rounding)."""

    def cdf(x):  # Φ, the standard normal CDF
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if a > b:  # torch's RuntimeError from its uniform_ (ember filled every value with a)
        raise InputError(f"trunc_normal_: expected a ≤ b, got a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of"
            " values may be incorrect.",
            stacklevel=2,
        )

    _random_values_for(t, "normal_kernel_cpu")
    lo, hi = cdf((a - mean) / std), cdf((b - mean) / std)
    gen = backend.generator_or_default(generator)
    u = gen.uniform(2 * lo - 1, 2 * hi - 1, t.shape, xp.float64)
    w = mean + std * math.sqrt(2.0) * backend.erfinv(u)
    return _fill(t, xp.clip(w, a, b))


def eye_(t: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal, zeros elsewhere)."""
    if t.ndim != 2:
        raise ValueError(f"eye_ supports only 2-D tensors, got shape {t.shape}")
    return _fill(t, xp.eye(*t.shape, dtype=xp.float64))


def dirac_(t: Tensor, groups: int = 1) -> Tensor:
    """Fill a {3, 4, 5}-D convolution weight with the Dirac delta: each of the first
    min(out/groups, in) output channels of every group copies its input channel, so the
    convolution is the identity on those channels."""
    if t.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_ supports only 3, 4 or 5-D tensors, got shape {t.shape}")
    out_channels, in_channels = t.shape[0], t.shape[1]
    if out_channels % groups != 0:
        raise ValueError(f"dim 0 ({out_channels}) must be divisible by groups ({groups})")
    per_group = out_channels // groups
    centre = tuple(n // 2 for n in t.shape[2:])
    d = xp.arange(min(per_group, in_channels))  # input channel d feeds output g·per_group + d
    out = (xp.arange(groups)[:, None] * per_group + d).reshape(-1)
    w = xp.zeros(t.shape, dtype=xp.float64)
    w[(out, xp.tile(d, groups)) + centre] = 1.0
    return _fill(t, w)


def sparse_(t: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fill a 2-D tensor from N(0, std²), then zero ⌈sparsity·rows⌉ random entries of each
    column (Martens 2010, as torch's sparse_)."""
    if t.ndim != 2:
        raise ValueError(f"sparse_ supports only 2-D tensors, got shape {t.shape}")
    _random_values_for(t, "normal_kernel_cpu")
    rows, cols = t.shape
    num_zeros = int(math.ceil(sparsity * rows))
    gen = backend.generator_or_default(generator)
    w = std * gen.standard_normal(t.shape, xp.float64)
    # each column's own random rows: the first num_zeros of a random order per column (the
    # order of uniform keys), all columns at once
    zero_rows = xp.argsort(gen.random((rows, cols), xp.float64), axis=0)[:num_zeros]
    w[zero_rows, xp.arange(cols)] = 0.0
    return _fill(t, w)


def _deprecated(new, old_name: str):
    """torch's deprecated spellings without the trailing underscore: the same function, with
    torch's FutureWarning."""

    @functools.wraps(new)
    def deprecated_init(*args, **kwargs):
        warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new.__name__}`.",
            FutureWarning,
            stacklevel=2,
        )
        return new(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    return deprecated_init


uniform = _deprecated(uniform_, "uniform")
normal = _deprecated(normal_, "normal")
constant = _deprecated(constant_, "constant")
xavier_uniform = _deprecated(xavier_uniform_, "xavier_uniform")
xavier_normal = _deprecated(xavier_normal_, "xavier_normal")
kaiming_uniform = _deprecated(kaiming_uniform_, "kaiming_uniform")
kaiming_normal = _deprecated(kaiming_normal_, "kaiming_normal")
orthogonal = _deprecated(orthogonal_, "orthogonal")
sparse = _deprecated(sparse_, "sparse")
dirac = _deprecated(dirac_, "dirac")
eye = _deprecated(eye_, "eye")
