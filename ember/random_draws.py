"""torch.normal, torch.bernoulli and torch.multinomial: draws whose parameters are tensors,
with torch's dtypes, shapes and refusals (re-exported by torch_creation.py).

A draw is not a differentiable function of its parameters, but torch records one anyway: the
result of ``normal(mean)`` or ``bernoulli(p)`` requires grad when a parameter does, and sends
it zeros (torch's derivatives of these ops are zeros). ``zero_gradient`` records that.
"""

from __future__ import annotations

import math
import numbers

from . import backend
from .backend import errstate, xp
from .creation import _shape
from .creation_random import _floating, int_argument
from .errors import InputError
from .function import is_grad_enabled
from .ops.elementwise import not_implemented_for
from .ops.index_put import broadcast_shape
from .ops.step_value import StepValue
from .promotion import torch_dtype_name
from .random_fill_checks import check_bernoulli_p
from .tensor import Tensor, apply
from .tensor_aliases import require_tensor


def zero_gradient(value, *params) -> Tensor:
    """``value`` (an array) as a tensor that requires grad where a tensor of ``params`` does,
    sending each of them a gradient of exactly 0, whatever it holds (no 0·inf = NaN)."""
    needing = [p for p in params if isinstance(p, Tensor) and p.requires_grad]
    if needing and is_grad_enabled():
        return apply(StepValue, *needing, value=value)
    return Tensor(value)


def _check_std(std) -> None:
    """torch's std checks: not complex, ≥ 0 (NaN refused)."""
    if isinstance(std, Tensor):
        a = std.array
        if a.dtype.kind == "c":
            raise InputError("normal expects standard deviation to be non-complex")
        if a.size and not bool(xp.all(a >= 0)):
            raise InputError("normal expects all elements of std >= 0.0")
    elif not std >= 0.0:
        raise InputError(f"normal expects std >= 0.0, but found std {std:g}")


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False) -> Tensor:  # fmt: skip
    """torch.normal: N(mean, std²) draws. Its four forms: tensor mean and std (their broadcast
    shape, mean's dtype), a tensor and a number (the tensor's shape and dtype), two numbers
    with ``size`` (and ``dtype``, the default float one unless given). A complex mean draws
    complex normals (each part with variance std²/2)."""
    backend.check_device(device)
    if size is not None:  # the float-and-float form: a 0-d tensor is read as its number
        mean, std = (_number(v) for v in (mean, std))
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors and (size is not None or dtype is not None or requires_grad):
        raise TypeError(
            "normal() received an invalid combination of arguments: size, dtype and"
            " requires_grad go with a float mean and a float std only"
        )
    if not tensors and size is None:
        raise TypeError("normal(): with a float mean and a float std, size is needed")
    _check_std(std)
    m, s = (v.array if isinstance(v, Tensor) else v for v in (mean, std))
    if tensors:
        shape = tuple(tensors[0].shape)
        if len(tensors) == 2:
            shape = broadcast_shape(mean.shape, std.shape)
        dt = tensors[0].array.dtype  # the output is like mean (like std if mean is a number)
    else:
        shape = _shape((size,), "normal", position=3, as_tuple=True)
        dt = xp.dtype(backend.DEFAULT_DTYPE if dtype is None else dtype)
    dt = _floating(dt, "normal_kernel_cpu", empty=not math.prod(shape))  # randn's check
    if dt.kind not in "fc":
        return Tensor(xp.empty(shape, dtype=dt), requires_grad=requires_grad)
    draw = xp.float32 if dt == xp.float16 else dt  # half: m + s·z in float32, rounded once
    z = backend.generator_or_default(generator).standard_normal(shape, draw)
    with errstate(invalid="ignore", over="ignore"):
        value = (m + s * z).astype(dt, copy=False)
    out = zero_gradient(xp.asarray(value), mean, std)
    return out.requires_grad_() if requires_grad else out


def _number(value):
    """A 0-d tensor as the Python number it holds (torch's parser reads one where it wants a
    number); anything else as it is."""
    return value.item() if isinstance(value, Tensor) and value.ndim == 0 else value


def bernoulli(input, p=None, *, generator=None) -> Tensor:  # noqa: A002 - torch's name
    """torch.bernoulli: 1 with probability input[i] (or the number ``p``) elementwise, else
    0, in input's shape and dtype. Probabilities outside [0, 1] (and NaN) are refused; input
    must be floating unless ``p`` is given (then any real dtype, bool included)."""
    require_tensor("bernoulli", input, "input")
    a, p = input.array, _number(p)
    if isinstance(p, numbers.Real):  # NumPy's scalars too, as torch's parser reads them
        p = p.item() if hasattr(p, "item") else p
    elif p is not None:
        raise TypeError(f"bernoulli(): argument 'p' must be float, not {type(p).__name__}")
    if p is None:
        if a.dtype.kind not in "f":
            raise not_implemented_for(
                "bernoulli_tensor_cpu_self_" if a.dtype.kind == "c" else
                "bernoulli_tensor_cpu_p_", a.dtype)  # fmt: skip
        bad = a[~((a >= 0) & (a <= 1))]
        if bad.size:
            raise InputError(f"bernoulli expects probabilities in [0, 1], but got {bad[0]}")
        q = a
    else:
        check_bernoulli_p(p, a)  # bernoulli_'s checks of a number p
        q = p
    u = backend.generator_or_default(generator).random(a.shape, xp.float64)
    return zero_gradient((u < q).astype(a.dtype), input)


#: torch's largest number of categories for multinomial
_MAX_CATEGORIES = 2**24


def multinomial(  # noqa: A002 - torch's argument name
    input, num_samples: int, replacement: bool = False, *, generator=None
) -> Tensor:
    """torch.multinomial: num_samples int64 indices per row of a 1-D or 2-D tensor of
    weights, drawn in proportion to them. Without replacement a row may have fewer positive
    weights than draws: the zero-weight categories come last, as in torch."""
    require_tensor("multinomial", input, "input")
    k = int_argument(num_samples, "multinomial", "num_samples", 2)
    a = input.array
    if a.dtype.kind != "f":
        raise InputError(
            "multinomial only supports floating-point dtypes for input, got:"
            f" {torch_dtype_name(a.dtype)}"
        )
    if a.ndim not in (1, 2):
        raise InputError("prob_dist must be 1 or 2 dim")
    c = a.shape[-1]
    if c > _MAX_CATEGORIES:
        raise InputError("number of categories cannot exceed 2^24")
    if k <= 0:
        raise InputError("cannot sample n_sample <= 0 samples")
    if not replacement and k > c:
        raise InputError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rows = a.astype(xp.float64).reshape(-1, c)
    if not bool(xp.all(xp.isfinite(rows))) or bool(xp.any(rows < 0)):
        raise InputError(
            "multinomial: the weights (probability tensor) contain either `inf`, `nan` or an"
            " element < 0"
        )
    if bool(xp.any(rows.sum(-1) <= 0)):
        raise InputError(
            "invalid multinomial distribution (sum of probabilities <= 0): a row of weights"
            " sums to 0"
        )
    n = rows.shape[0]
    u = backend.generator_or_default(generator).random((n, k if replacement else c), xp.float64)
    if replacement:  # inverse of the cumulative distribution, row by row
        # (each row's CDF normalised to end at 1 and shifted by its row index, so one sorted
        # search over all rows at once finds every row's draws in that row's own stretch)
        cdf = xp.cumsum(rows, axis=-1)
        cdf /= cdf[:, -1:]
        shift = xp.arange(n)[:, None]
        hits = xp.searchsorted((cdf + shift).reshape(-1), (u + shift).reshape(-1), side="right")
        out = xp.minimum(hits.reshape(n, k) - shift * c, c - 1)
    else:  # exponential race: the k smallest E/w (E ~ Exp(1)) are a draw without replacement
        with errstate(divide="ignore", invalid="ignore"):
            keys = xp.where(rows > 0, -xp.log1p(-u) / rows, xp.inf)
        out = xp.argsort(keys, axis=-1, kind="stable")[:, :k]
    return Tensor(out.astype(xp.int64).reshape(a.shape[:-1] + (k,)))
