"""``autocast``: regions where chosen ops run in float16, as torch.autocast.

    with ember.autocast(device_type="cuda", dtype=ember.float16):
        loss = model(x)          # matmuls and convolutions in float16, losses in float32
    loss.backward()              # float32 parameters get float32 gradients

Inside an enabled region ``apply`` (tensor.py) hands each op's inputs to
``autocast_inputs``, which casts them by the op's policy (policies.py): matmul-like ops get
float16 inputs, precision-hungry ops float32, ops joining tensors their widest dtype. Every
cast is an ``Astype`` op, so autograd carries the gradient back in the input's own dtype.

State is per thread, as torch's: a region opened in one thread casts nothing in another.
``apply`` pays one truth test per op for all this: ``autocast_threads`` is empty unless some
thread is inside an enabled region for the device this process runs on. ember runs each
process on one device (ember.cuda); a region for the other device casts nothing, as
torch's autocast for another device leaves these tensors alone. NumPy has no bfloat16, so
ember's autocast dtype is float16 (torch's CPU default, bfloat16, is refused when enabled).
"""

from __future__ import annotations

import functools
import threading
import warnings

from .. import backend
from ..function import _grad_state
from . import policies as P

_float16 = backend.xp.dtype("float16")
_float32 = backend.xp.dtype("float32")
_float64 = backend.xp.dtype("float64")
DEVICE = "cuda" if backend.ON_GPU else "cpu"  # the device this process runs on
_DEVICES = ("cpu", "cuda")


class _Bfloat16:
    """torch's default CPU autocast dtype, named so that ``get_autocast_dtype("cpu")`` can
    answer as torch does; NumPy has no bfloat16, so no region runs with it."""

    def __repr__(self) -> str:
        return "bfloat16"


bfloat16 = _Bfloat16()

#: Idents of the threads inside an enabled region for DEVICE: ``apply``'s fast-path test.
autocast_threads: set = set()
_policy: dict = {}  # Function class → policy, built on the first enabled region
_composite: dict = {}  # torch op name → policy of the ops as_one_op marks, built with it
_Tensor = None


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": bfloat16, "cuda": _float16}
        self.cache_enabled = True
        self.nesting = 0
        self.cache: dict = {}  # id(parameter) → (parameter, its cast): torch's weight cache


_state = _State()


def _device(device_type) -> str:
    if device_type not in _DEVICES:
        raise RuntimeError(
            f"User specified an unsupported autocast device_type '{device_type}' (ember"
            " supports 'cpu' and 'cuda')"
        )
    return device_type


def _dtype(dtype):
    if dtype is bfloat16 or (isinstance(dtype, str) and dtype.endswith("bfloat16")):
        return bfloat16
    return backend.xp.dtype(dtype)


def is_autocast_available(device_type: str) -> bool:
    """Whether ``device_type`` names a device autocast knows: "cpu" or "cuda"."""
    return device_type in _DEVICES


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether this thread is in an enabled region for ``device_type`` (torch: no argument
    means "cuda")."""
    return _state.enabled[_device("cuda" if device_type is None else device_type)]


def set_autocast_enabled(device_type, enabled=None) -> None:
    """torch.set_autocast_enabled(device_type, enabled), or (enabled) for "cuda"."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    if enabled and _state.dtype[_device(device_type)] is bfloat16:
        raise TypeError(_NO_BF16)
    _state.enabled[device_type] = bool(enabled)
    if device_type == DEVICE:
        _sync_thread()


def get_autocast_dtype(device_type: str):
    """The dtype a region for ``device_type`` casts to (float16 for "cuda", torch's bfloat16
    for "cpu" until set)."""
    return _state.dtype[_device(device_type)]


def set_autocast_dtype(device_type: str, dtype) -> None:
    dtype = _dtype(dtype)
    if dtype is bfloat16 and _state.enabled[_device(device_type)]:
        raise TypeError(_NO_BF16)
    _state.dtype[device_type] = dtype


def is_autocast_cache_enabled() -> bool:
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    _state.cache.clear()


def autocast_increment_nesting() -> int:
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting() -> int:
    _state.nesting -= 1
    return _state.nesting


# torch's older per-device names
def is_autocast_cpu_enabled() -> bool:
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype():
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype) -> None:
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype():
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype) -> None:
    set_autocast_dtype("cuda", dtype)


def _sync_thread() -> None:
    """Keep ``autocast_threads`` in step with this thread's state for DEVICE."""
    global _Tensor
    me = threading.get_ident()
    if _state.enabled[DEVICE]:
        if not _policy:
            from ..tensor import Tensor

            _Tensor = Tensor
            _policy.update(P.build(DEVICE))
            _composite.update(P.composite(DEVICE))
        autocast_threads.add(me)
    else:
        autocast_threads.discard(me)


_NO_BF16 = (
    "autocast: NumPy (and so ember) has no bfloat16; ember's autocast runs in float16: pass"
    " dtype=ember.float16 (torch's CPU autocast defaults to bfloat16)"
)


class autocast:
    """Run the ops of a region (``with``) or of a function (decorator) in mixed precision.

    ``device_type`` "cpu" or "cuda"; ``dtype`` the lower precision (default: float16 for
    "cuda", torch's bfloat16 for "cpu", which ember cannot run: pass float16);
    ``enabled=False`` opens a region that casts nothing (and switches off an outer one);
    ``cache_enabled`` keeps each parameter's cast for the outermost region's lifetime.
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = _device(device_type)
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else _dtype(dtype)
        self._cache_enabled = (
            is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        )
        if enabled:
            if device_type == "cuda" and not backend.ON_GPU:  # torch's words and behaviour
                warnings.warn(
                    "CUDA is not available or torch_xla is imported. Disabling autocast.",
                    stacklevel=2,
                )
                enabled = False
            elif self.fast_dtype is bfloat16:
                raise TypeError(_NO_BF16)
            elif self.fast_dtype != _float16:
                name = self.device.upper()
                warnings.warn(
                    f"In {name} autocast, but the target dtype is not supported. Disabling"
                    f" autocast.\n{name} Autocast only supports dtypes of float16 currently"
                    " (torch's bfloat16 has no NumPy dtype).",
                    stacklevel=2,
                )
                enabled = False
        self._enabled = bool(enabled)

    def __enter__(self):
        s = _state
        self.prev_cache_enabled = s.cache_enabled
        self.prev = s.enabled[self.device]
        self.prev_fastdtype = s.dtype[self.device]
        s.enabled[self.device] = self._enabled
        s.dtype[self.device] = self.fast_dtype
        s.nesting += 1
        s.cache_enabled = self._cache_enabled
        if self.device == DEVICE:
            _sync_thread()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        s = _state
        s.nesting -= 1
        if s.nesting == 0:
            s.cache.clear()
        s.enabled[self.device] = self.prev
        s.dtype[self.device] = self.prev_fastdtype
        s.cache_enabled = self.prev_cache_enabled
        if self.device == DEVICE:
            _sync_thread()
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. Did you"
                " mean to use autocast as a context manager? For example:\n"
                "    with ember.autocast(device_type=...):\n        output = model(input)"
            )

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return decorate_autocast


def autocast_active() -> bool:
    """Whether this thread is in an enabled autocast region: layers that refuse an input whose
    dtype differs from their weights' let it through then, since the op's policy casts both."""
    return bool(autocast_threads) and threading.get_ident() in autocast_threads


def autocast_inputs(cls, inputs: tuple) -> tuple:
    """``inputs`` of op ``cls`` cast by its policy; called by ``apply`` only while some thread
    is in an enabled region, so the first test is whether this thread is."""
    s = _state
    if not s.enabled[DEVICE]:
        return inputs
    policy = _policy.get(cls)
    if policy is None:
        return inputs
    return autocast_by(policy, inputs)


def autocast_by(policy, inputs: tuple) -> tuple:
    """``inputs`` cast by ``policy`` in this thread's enabled region."""
    s = _state
    if policy is P.LOWER:
        to = s.dtype[DEVICE]
        return tuple(_lower(x, to, s) for x in inputs)
    if policy is P.FP32:
        return tuple(_cast(x, _float32) if _dtype_of(x) == _float16 else x for x in inputs)
    if policy is P.PROMOTE:
        if any(_dtype_of(x) == _float32 for x in inputs):
            return tuple(_cast(x, _float32) if _dtype_of(x) == _float16 else x for x in inputs)
        return inputs
    raise RuntimeError(P.BCE_BANNED)


def _dtype_of(x):
    a = x.array if isinstance(x, _Tensor) else x
    return getattr(a, "dtype", None)


def _cast(x, dtype):
    return x.astype(dtype)  # a Tensor's astype is the Astype op; an array's, a plain copy


def _lower(x, to, s):
    """x in the autocast dtype if it is float32 (float64 and non-floats pass, as torch's)."""
    if _dtype_of(x) != _float32:
        return x
    if not (isinstance(x, _Tensor) and s.cache_enabled and x.requires_grad and x._ctx is None):
        return _cast(x, to)
    if not _grad_state.enabled:  # a cast made without a graph must not serve a later backward
        return _cast(x, to)
    hit = s.cache.get(id(x))
    if hit is not None and hit[0] is x:
        return hit[1]
    y = x.astype(to)
    s.cache[id(x)] = (x, y)
    return y


def _cast_args(value, device_type, dtype):
    """torch.amp's ``_cast``: floating Tensors (not float64) to ``dtype``, in nested args."""
    if isinstance(value, _tensor_class()):
        k = value.array.dtype
        return value.astype(dtype) if k.kind == "f" and k != _float64 else value
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, dict):
        return {_cast_args(k, device_type, dtype): _cast_args(v, device_type, dtype)
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, (list, tuple, set)):
        out = (_cast_args(v, device_type, dtype) for v in value)
        return type(value)(out) if not hasattr(value, "_fields") else type(value)(*out)
    return value


def _tensor_class():
    from ..tensor import Tensor

    return Tensor


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorate a custom ``ember.autograd.Function``'s ``forward``: with ``cast_inputs`` set,
    inside an enabled region its floating Tensor arguments are cast to that dtype and it runs
    with autocast off; without, it runs under the current state, which ``custom_bwd`` then
    restores for ``backward``."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_context = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if autocast_context:
            with autocast(device_type=device_type, enabled=False):
                return fwd(
                    *_cast_args(args, device_type, cast_inputs),
                    **_cast_args(kwargs, device_type, cast_inputs),
                )
        return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorate a custom Function's ``backward`` to run under the autocast state its
    ``forward`` (decorated with ``custom_fwd``) ran under."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
