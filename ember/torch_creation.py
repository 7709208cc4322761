"""torch's top-level makers, dtypes, grad modes and random draws on ``ember.*``.

Re-exported by torch_functions.py (see there). Random draws come from ember's seeded generator
(``backend.default_generator``), so ``ember.manual_seed`` repeats them bit for bit; they carry
no gradient, as in torch.
"""

from __future__ import annotations

import threading

from . import backend
from .backend import errstate, xp
from .creation import tensor
from .errors import InputError
from .function import context_decorator, is_grad_enabled, set_grad_enabled
from .tensor import Tensor, as_array

float16 = half = xp.float16
int8, int16, int32, uint8 = xp.int8, xp.int16, xp.int32, xp.uint8
# torch's barebones unsigned types (few torch ops take them; NumPy's arithmetic does)
uint16, uint32, uint64 = xp.uint16, xp.uint32, xp.uint64


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """torch.as_tensor: shares memory with a Tensor or NumPy array when the dtype allows."""
    backend.check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    if backend.is_array(data):
        return Tensor(backend.asarray(data, dtype=dtype))
    return tensor(data, dtype=dtype)


def is_tensor(obj) -> bool:
    """torch.is_tensor: whether obj is an ember Tensor."""
    return isinstance(obj, Tensor)


def get_default_dtype():
    """torch.get_default_dtype: the dtype of floats made without a dtype (float32 at start)."""
    return backend.DEFAULT_DTYPE


def set_default_dtype(d) -> None:
    """torch.set_default_dtype: float32 or float64, for every maker from now on."""
    if not isinstance(d, (type, xp.dtype)) or d not in (backend.float32, backend.float64):
        raise TypeError(
            f"set_default_dtype: only ember.float32 and ember.float64 can be the default, got {d!r}"
        )
    backend.DEFAULT_DTYPE = xp.dtype(d).type


_inference_state = threading.local()


def _inference_modes() -> list[bool]:
    """This thread's stack of inference_mode regions (each one's mode), innermost last."""
    stack = getattr(_inference_state, "modes", None)
    if stack is None:
        stack = _inference_state.modes = []
    return stack


def is_inference_mode_enabled() -> bool:
    """torch.is_inference_mode_enabled: whether this thread is inside an enabled
    inference_mode region (the innermost region decides)."""
    stack = _inference_modes()
    return bool(stack and stack[-1])


class inference_mode:  # noqa: N801 - torch's name
    """torch.inference_mode: no_grad as a context manager or decorator (called or bare)."""

    def __new__(cls, mode=True):
        if callable(mode):  # used bare as a decorator: mode is the function
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self._prev: list[bool] = []

    def __enter__(self) -> None:
        self._prev.append(is_grad_enabled())
        _inference_modes().append(self.mode)
        if self.mode:
            set_grad_enabled(False)

    def __exit__(self, *exc) -> None:
        _inference_modes().pop()
        set_grad_enabled(self._prev.pop())

    def __call__(self, fn):
        # a fresh region per call (a generator's each resume), as torch's decorator runs it
        return context_decorator(lambda: inference_mode(self.mode), fn)


def _float(*values):
    """The floating dtype of a result: the tensors' and arrays' (promoted), else the default."""
    kinds = [v.dtype for v in values if hasattr(v, "dtype") and v.dtype.kind == "f"]
    return xp.result_type(*kinds) if kinds else backend.DEFAULT_DTYPE


def normal(mean, std=1.0, size=None, *, generator=None, device=None) -> Tensor:
    """torch.normal: N(mean, std²) draws; numbers need size, tensors give their broadcast shape."""
    backend.check_device(device)
    m, s = as_array(mean), as_array(std)
    if size is None:
        if m.ndim == 0 and s.ndim == 0 and not isinstance(mean, Tensor):
            raise TypeError("normal: with a number for both mean and std, size is needed")
        size = xp.broadcast_shapes(m.shape, s.shape)
    if xp.any(s < 0):
        raise InputError("normal: std must be ≥ 0")
    dtype = _float(mean, std)
    z = backend.generator_or_default(generator).standard_normal(tuple(size), dtype)
    return Tensor((m + s * z).astype(dtype, copy=False))


def bernoulli(input, p=None, *, generator=None) -> Tensor:  # noqa: A002 - torch's name
    """torch.bernoulli: 1 with probability input (or p) elementwise, else 0; input's shape."""
    probs = as_array(input)
    q = probs if p is None else xp.asarray(p)
    if xp.any((q < 0) | (q > 1)) or xp.any(xp.isnan(q)):
        raise InputError("bernoulli: probabilities must lie in [0, 1]")
    dtype = probs.dtype if probs.dtype.kind == "f" else backend.DEFAULT_DTYPE
    u = backend.generator_or_default(generator).random(probs.shape, xp.float64)
    return Tensor((u < q).astype(dtype))


def multinomial(  # noqa: A002 - torch's argument name
    input, num_samples: int, replacement: bool = False, *, generator=None
) -> Tensor:
    """torch.multinomial: num_samples int64 indices per row, drawn in proportion to weights."""
    w = as_array(input).astype(xp.float64)
    if w.ndim not in (1, 2):
        raise InputError(f"multinomial: input must be 1-D or 2-D, got shape {w.shape}")
    rows = w.reshape(-1, w.shape[-1])
    if not xp.all(xp.isfinite(rows)) or xp.any(rows < 0) or xp.any(rows.sum(-1) <= 0):
        raise InputError("multinomial: weights must be finite, ≥ 0, with a positive sum per row")
    n, c = rows.shape
    k = int(num_samples)
    if k <= 0:
        raise ValueError(f"multinomial: num_samples must be positive, got {k}")
    if not replacement and k > int((rows > 0).sum(-1).min()):
        raise ValueError(
            f"multinomial: cannot draw {k} samples without replacement from a row with fewer"
            " categories of positive weight"
        )
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
    return Tensor(out.astype(xp.int64).reshape(w.shape[:-1] + (k,)))
