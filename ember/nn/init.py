"""Weight initialisation, in place, with torch's names and formulas.

xavier (Glorot): Var(W) = gain² · 2 / (fan_in + fan_out)
kaiming (He):    Var(W) = gain² / fan            (gain = √2 for ReLU)
orthogonal:      W = Q from the QR decomposition of a Gaussian matrix

Every function takes the tensor as torch's does (first, or by the keyword ``tensor``), fills it
without recording a graph (a leaf stays a leaf) and returns that same tensor.
"""

from __future__ import annotations

import functools
import math
import operator
import warnings

from .. import backend
from ..autograd_saved_writes import note_tensor_write
from ..backend import xp
from ..function import no_grad
from ..ops.elementwise import not_implemented_for
from ..random_fill_checks import check_normal, check_uniform_bounds
from ..tensor import Tensor

_GAINS = {
    "linear": 1,  # an int, as torch's: the linear layers, convolutions and sigmoid gain 1
    "conv1d": 1,
    "conv2d": 1,
    "conv3d": 1,
    "conv_transpose1d": 1,
    "conv_transpose2d": 1,
    "conv_transpose3d": 1,
    "sigmoid": 1,
    "tanh": 5.0 / 3,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4,
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain torch recommends for ``nonlinearity``: 1 for the linear and convolution
    layers and sigmoid, 5/3 for tanh, √2 for ReLU, √(2/(1 + a²)) for leaky ReLU of slope a
    (``param``, default 0.01), 3/4 for SELU; any other name is torch's ValueError."""
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    # compared by ==, not hashed: a list or other unhashable name is a ValueError too
    gain = next((g for name, g in _GAINS.items() if nonlinearity == name), None)
    if gain is None:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; known: {sorted(_GAINS)}")
    return gain


def _calculate_fan_in_and_fan_out(tensor: Tensor):
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dims, got {tensor.shape}")
    receptive = 1
    for n in tensor.shape[2:]:
        receptive *= n
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    """fan_in or fan_out by ``mode``, in any letter case (torch lowers it first)."""
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values) -> Tensor:
    with no_grad():
        tensor.array[...] = values.astype(tensor.array.dtype, copy=False)
    note_tensor_write(tensor)
    return tensor


def _random_values_for(tensor: Tensor, kernel: str) -> None:
    """torch's refusal of random real values for an integer or bool tensor (NumPy would cast
    them to zeros and small integers without a word)."""
    if tensor.array.dtype.kind not in "fc":
        raise not_implemented_for(kernel, tensor.array.dtype)


def _number(x, name: str):
    """A float argument as torch's parser reads it: a number, or a 0-d tensor that does not
    require grad (what xavier's and kaiming's arithmetic makes of a tensor gain)."""
    if not isinstance(x, Tensor):
        return x
    if x.ndim or x.requires_grad:
        raise TypeError(
            f"{name} must be a float or a 0-d tensor that does not require grad, got {x!r}"
        )
    return x.item()


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    a, b = _number(a, "uniform_(): argument 'from'"), _number(b, "uniform_(): argument 'to'")
    check_uniform_bounds(tensor.array, a, b)
    gen = backend.generator_or_default(generator)
    return _fill(tensor, gen.uniform(a, b, tensor.shape, tensor.dtype))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    mean = _number(mean, "normal_(): argument 'mean'")
    std = _number(std, "normal_(): argument 'std'")
    check_normal(tensor.array, std)
    gen = backend.generator_or_default(generator)
    return _fill(tensor, gen.normal(mean, std, tensor.shape, tensor.dtype))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val`` (a number or a 0-d tensor), refused as torch's fill_ refuses it: a
    value the dtype cannot hold (NaN into an integer tensor, 2⁴⁰ into float16), a tensor of
    more than 0 dims (NumPy would broadcast it)."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    if _no_elements(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    if _no_elements(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def _no_elements(tensor: Tensor) -> bool:
    """torch's no-op, with its warning, for a tensor with no elements (Linear(0, n)'s weight),
    whose fan of 0 would divide by zero."""
    if tensor.array.size:
        return False
    warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
    return True


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix: rows or columns orthonormal, times ``gain``.
    Refused, as torch refuses it, for integer tensors (no normal draws), float16 (no QR)
    and complex ones (no sign of a complex diagonal)."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_ needs at least 2 dims, got shape {tensor.shape}")
    if tensor.array.size == 0:  # nothing to fill (torch's no-op)
        return tensor
    dtype = tensor.array.dtype
    _random_values_for(tensor, "normal_kernel_cpu")
    if dtype == xp.float16:
        raise not_implemented_for("geqrf_cpu", dtype)
    if dtype.kind == "c":
        raise NotImplementedError(
            "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use"
            " torch.sgn instead."
        )
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = backend.generator_or_default(generator).standard_normal((rows, cols), xp.float64)
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q *= xp.sign(xp.diag(r))  # make the decomposition unique, as torch does
    if rows < cols:
        q = q.T
    if isinstance(gain, Tensor):  # torch multiplies by it in place: it broadcasts
        gain = gain.detach().array
    return _fill(tensor, gain * q.reshape(tensor.shape))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator=None,
) -> Tensor:
    """Fill from N(mean, std²) truncated to [a, b], by rejection, as torch 2.13:

    p = Φ(β) − Φ(α)   (α = (a − mean)/std, β = (b − mean)/std: the mass inside [a, b])
    p > 0.3:  draw W ~ N(mean, std²), redraw the W outside [a, b] until none is left
    else:     draw W ~ U(a, b), keep it with probability exp(−½((W − mean)/std)²) / peak
              (peak the density's top within [a, b]), redraw the rest

    The second branch stays exact far in the tails, where the mass is too small for the
    normal draws to land in [a, b] (or for Φ to tell α from β in floating point)."""

    def cdf(x):  # Φ, the standard normal CDF
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    names = ("mean", "std", "a", "b")
    mean, std, a, b = (_number(v, n) for v, n in zip((mean, std, a, b), names))
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of"
            " values may be incorrect.",
            stacklevel=2,
        )
    array = tensor.array
    gen = backend.generator_or_default(generator)
    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        check_normal(array, std)
        _no_complex_bounds(array, "lt_cpu")  # torch compares the draws with a and b
        # a and b as the dtype holds them: a draw in [a, b] never rounds out of that range
        lo, hi = (xp.asarray(v, dtype=array.dtype).item() for v in (a, b))
        w = gen.normal(mean, std, array.size, xp.float64)  # flat: a 0-d tensor too
        out = (w < lo) | (w > hi)
        while out.any():
            w[out] = gen.normal(mean, std, int(out.sum()), xp.float64)
            out = (w < lo) | (w > hi)
        return _fill(tensor, w.reshape(tensor.shape))
    check_uniform_bounds(array, a, b)  # torch's uniform_: a > b and integer tensors refused
    _no_complex_bounds(array, "gt_cpu")
    mode = max(a, min(mean, b))  # where the density peaks within [a, b]
    log_peak = -0.5 * ((mode - mean) / std) ** 2

    def draw(n):
        """n uniform candidates, and whether each is still to be redrawn."""
        w = gen.uniform(a, b, n, xp.float64)
        log_density = -0.5 * ((w - mean) / std) ** 2 - log_peak
        return w, xp.log(gen.random(n, xp.float64)) > log_density

    w, redraw = draw(array.size)
    while redraw.any():
        w[redraw], redraw[redraw] = draw(int(redraw.sum()))
    return _fill(tensor, w.reshape(tensor.shape))


def _no_complex_bounds(array, kernel: str) -> None:
    if array.dtype.kind == "c":  # torch: no ordering of complex numbers to reject by
        raise not_implemented_for(kernel, array.dtype)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal, zeros elsewhere)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_ supports only 2-D tensors, got shape {tensor.shape}")
    return _fill(tensor, xp.eye(*tensor.shape, dtype=xp.float64))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a {3, 4, 5}-D convolution weight with the Dirac delta: each of the first
    min(out/groups, in) output channels of every group copies its input channel, so the
    convolution is the identity on those channels."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_ supports only 3, 4 or 5-D tensors, got shape {tensor.shape}")
    groups = operator.index(groups)  # torch loops over range(groups): 2.0 is a TypeError
    out_channels, in_channels = tensor.shape[0], tensor.shape[1]
    if out_channels % groups != 0:
        raise ValueError(f"dim 0 ({out_channels}) must be divisible by groups ({groups})")
    per_group = out_channels // groups
    centre = tuple(n // 2 for n in tensor.shape[2:])
    d = xp.arange(min(per_group, in_channels))  # input channel d feeds output g·per_group + d
    out = (xp.arange(groups)[:, None] * per_group + d).reshape(-1)
    w = xp.zeros(tensor.shape, dtype=xp.float64)
    if out.size:  # none to set (groups < 0 in torch's loops): only the zeros
        w[(out, xp.tile(d, groups)) + centre] = 1.0
    return _fill(tensor, w)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fill a 2-D tensor from N(0, std²), then zero ⌈sparsity·rows⌉ random entries of each
    column (Martens 2010, as torch's sparse_; a complex tensor's parts each N(0, std²/2))."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_ supports only 2-D tensors, got shape {tensor.shape}")
    check_normal(tensor.array, std)
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    gen = backend.generator_or_default(generator)
    if tensor.array.dtype.kind == "c":
        w = gen.normal(0.0, std, tensor.shape, tensor.array.dtype)
    else:
        w = std * gen.standard_normal(tensor.shape, xp.float64)
    # each column's own random rows: the first num_zeros of a random order per column (the
    # order of uniform keys), all columns at once
    zero_rows = xp.argsort(gen.random((rows, cols), xp.float64), axis=0)[:num_zeros]
    w[zero_rows, xp.arange(cols)] = 0.0
    return _fill(tensor, w)


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
