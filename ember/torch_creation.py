"""torch's top-level makers, dtypes, grad modes and random draws on ``ember.*``.

Re-exported by torch_functions.py (see there). Random draws come from ember's seeded generator
(``backend.default_generator``), so ``ember.manual_seed`` repeats them bit for bit; they carry
no gradient, as in torch.
"""

from __future__ import annotations

from . import backend
from .autograd_inference import enter_region, inference_enabled, leave_region
from .backend import xp
from .creation import check_array_dtype, tensor
from .function import context_decorator, is_grad_enabled, set_grad_enabled
from .tensor import Tensor

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
        check_array_dtype(data)
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


def is_inference_mode_enabled() -> bool:
    """torch.is_inference_mode_enabled: whether this thread is inside an enabled
    inference_mode region (the innermost region decides)."""
    return inference_enabled()


class inference_mode:  # noqa: N801 - torch's name
    """torch.inference_mode, as a context manager or decorator (called or bare): grad mode
    off, as no_grad, and every tensor made inside an inference tensor, which torch's rules
    then guard outside (autograd_inference.py)."""

    def __new__(cls, mode=True):
        if callable(mode):  # used bare as a decorator: mode is the function
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self._prev: list[bool] = []

    def __enter__(self) -> None:
        self._prev.append(is_grad_enabled())
        enter_region(self.mode)
        if self.mode:
            set_grad_enabled(False)

    def __exit__(self, *exc) -> None:
        leave_region()
        set_grad_enabled(self._prev.pop())

    def __call__(self, fn):
        # a fresh region per call (a generator's each resume), as torch's decorator runs it
        return context_decorator(lambda: inference_mode(self.mode), fn)


# normal, bernoulli and multinomial: random_draws.py
from .random_draws import bernoulli, multinomial, normal  # noqa: E402, F401
