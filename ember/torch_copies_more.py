"""torch's remaining top-level conveniences and switches: randint_like, empty_permuted,
typename, the anomaly-detection and warn-always switches, get_device, set_flush_denormal,
DLPack exchange, frombuffer, conv_transpose3d, max_pool1d_with_indices and is_inference.
Star-imported by torch_copies.py; ``__all__`` lists them.
"""

from __future__ import annotations

import warnings

from . import backend
from . import memory_formats as MF
from .backend import xp
from .creation_random import check_random_bounds, int_argument
from .diagnose import anomaly
from .errors import InputError
from .function import observers
from .memory_formats import preserve_format
from .nn import functional as F
from .promotion import default_float
from .tensor import Tensor
from .tensor_aliases import require_tensor

__all__ = [
    "randint_like",
    "empty_permuted",
    "typename",
    "is_anomaly_enabled",
    "set_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
    "set_warn_always",
    "is_warn_always_enabled",
    "get_device",
    "set_flush_denormal",
    "from_dlpack",
    "to_dlpack",
    "frombuffer",
    "conv_transpose3d",
    "max_pool1d_with_indices",
    "is_inference",
]


# ------------------------------------------------------------ random integers like a tensor
def randint_like(input, low=None, high=None, *, generator=None, dtype=None,  # noqa: A002
                 layout=None, device=None, requires_grad: bool = False,
                 memory_format=preserve_format) -> Tensor:  # fmt: skip
    """torch.randint_like: a tensor of input's shape (and dtype, unless ``dtype``) of integers
    drawn uniformly from [low, high), laid out as input (or as ``memory_format`` says). Called
    as randint_like(input, high) low is 0; ``high`` may be a 0-d tensor."""
    require_tensor("randint_like", input, "input")
    backend.check_device(device)
    if high is None:
        low, high = 0, low
        if isinstance(high, Tensor) and high.ndim:  # torch's overload for a lone tensor high
            raise InputError("high must be a scalar tensor and on CPU")
    low = 0 if low is None else low
    if high is None:
        raise TypeError("randint_like() missing required argument 'high'")
    low, high = int_argument(low, "randint_like", "low"), int_argument(high, "randint_like", "high")
    dt = xp.dtype(input.dtype if dtype is None else dtype)
    check_random_bounds(low, high, dt)  # randint's checks (creation_random.py)
    a = backend.generator_or_default(generator).integers(low, high, tuple(input.shape))
    a = MF.like(input.array, a.astype(dt), memory_format, "randint_like")
    return Tensor(a, requires_grad=requires_grad)


# ------------------------------------------------------------ memory laid out in an order
def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad: bool = False, pin_memory: bool = False) -> Tensor:  # fmt: skip
    """torch.empty_permuted: an uninitialised tensor of ``size`` whose memory holds the dims in
    the order ``physical_layout`` (outermost first): empty(size[p] for p in layout) permuted
    back, so stride[layout[-1]] = 1, stride[layout[k]] = Π_{j>k} size[layout[j]]. (0, 1, …)
    is row-major; (0, 2, 3, 1) on NCHW is channels-last."""
    backend.check_device(device)
    size, order = tuple(int(n) for n in size), tuple(int(p) for p in physical_layout)
    if len(size) != len(order):
        raise RuntimeError(
            "Number of dimensions in size does not match the length of the physical_layout;"
            f" i.e. len(size) = {len(size)} is not equal to len(physical_layout) = {len(order)}"
        )
    for i, p in enumerate(order):
        if not 0 <= p < len(size):
            raise RuntimeError(
                f"Dimension out of range (expected to be between 0 and {len(size) - 1}, but got"
                f" {p} at index {i}).  NB: negative dims not currently supported; file an issue"
                " if you want it."
            )
    if len(set(order)) != len(order):
        raise RuntimeError("Duplicate dim not allowed")
    dt = xp.dtype(default_float() if dtype is None else dtype)
    memory = xp.empty(tuple(size[p] for p in order), dtype=dt)
    inverse = sorted(range(len(order)), key=order.__getitem__)
    return Tensor(memory.transpose(inverse), requires_grad=requires_grad)


# ------------------------------------------------------------ names
_TENSOR_TYPES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                 "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
                 "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}  # fmt: skip


def typename(obj, /) -> str:
    """torch.typename: a tensor's legacy type name, torch's own string ('torch.FloatTensor'
    for float32, 'torch.cuda.FloatTensor' on the GPU), so code comparing against torch's names
    keeps working; any other object's 'module.QualifiedName' ('int' for builtins)."""
    if isinstance(obj, Tensor):
        cuda = "cuda." if backend.ON_GPU else ""
        return f"torch.{cuda}{_TENSOR_TYPES.get(obj.dtype.name, obj.dtype.name)}Tensor"
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


# ------------------------------------------------------------ anomaly detection
is_anomaly_enabled = anomaly.is_anomaly_enabled
_check_nan = [True]  # torch's flag outside any block: the check_nan last set


def set_anomaly_enabled(mode: bool, check_nan: bool = True) -> None:
    """torch.set_anomaly_enabled: torch.autograd.set_detect_anomaly's process-wide switch, on
    (each op's backward gradients checked for NaN/Inf when ``check_nan``) or off."""
    anomaly.set_detect_anomaly(bool(mode), bool(check_nan))
    _check_nan[0] = bool(check_nan)


def is_anomaly_check_nan_enabled() -> bool:
    """torch.is_anomaly_check_nan_enabled: while anomaly detection is on, whether a gradient
    check is running (some open detect_anomaly block checks backward gradients: in ember every
    open block checks, so an outer check_nan=True still checks inside an inner False); while
    it is off, the check_nan last given to set_anomaly_enabled (True at start), as torch."""
    if is_anomaly_enabled():
        return any(isinstance(o, anomaly._AnomalyObserver) and o.check_backward for o in observers)
    return _check_nan[0]


# ------------------------------------------------------------ warn-always
_warn_always = [False]


def set_warn_always(b: bool) -> None:
    """torch.set_warn_always: when True, warnings torch gives once per process are given every
    time. In ember frombuffer's non-writable-buffer warning reads it."""
    _warn_always[0] = bool(b)


def is_warn_always_enabled() -> bool:
    """torch.is_warn_always_enabled: the flag set_warn_always sets (False at start)."""
    return _warn_always[0]


# ------------------------------------------------------------ device and denormals
def get_device(input) -> int:  # noqa: A002
    """torch.get_device: input's device index, −1 for the CPU."""
    require_tensor("get_device", input, "input")
    return input.get_device()


def set_flush_denormal(mode: bool) -> bool:
    """torch.set_flush_denormal: turn flushing denormal floats to zero on or off, returning
    whether the platform could. NumPy (and so ember) has no control of the CPU's FTZ/DAZ
    flags, so this changes nothing and returns False, as torch does where unsupported."""
    return False


# ------------------------------------------------------------ DLPack and buffers
class _Capsule:
    """A bare DLPack capsule (torch.to_dlpack's result) dressed as an object with __dlpack__,
    the form NumPy's and CuPy's from_dlpack take."""

    def __init__(self, capsule, device) -> None:
        self.capsule, self.device = capsule, device

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return self.device


def from_dlpack(ext_tensor, *, device=None, copy: bool | None = None) -> Tensor:
    """torch.from_dlpack: a tensor over another library's array (a torch tensor, a NumPy or
    CuPy array, anything with __dlpack__, or a DLPack capsule), sharing its memory unless
    ``copy`` is True. An ember Tensor gives a tensor over the same array."""
    backend.check_device(device)
    if isinstance(ext_tensor, Tensor):
        a = ext_tensor.array
        return Tensor(a.copy() if copy else a)
    if type(ext_tensor).__name__ == "PyCapsule":
        ext_tensor = _Capsule(ext_tensor, (2, 0) if backend.ON_GPU else (1, 0))
    if not hasattr(ext_tensor, "__dlpack__"):
        raise RuntimeError(
            "from_dlpack received an invalid capsule. Note that DLTensor capsules can be"
            " consumed only once, so you might have already constructed a tensor from it once."
        )
    return Tensor(xp.from_dlpack(ext_tensor) if copy is None else
                  xp.from_dlpack(ext_tensor, copy=copy))  # fmt: skip


def to_dlpack(tensor) -> object:
    """torch.to_dlpack: a DLPack capsule over the tensor's memory (consumed once, by any
    library's from_dlpack)."""
    require_tensor("to_dlpack", tensor, "tensor")
    return tensor.array.__dlpack__()


_warned_readonly = [False]


def frombuffer(buffer, *, dtype, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:  # fmt: skip
    """torch.frombuffer: a 1-D tensor over the bytes of an object with the buffer protocol
    (bytearray, array.array, memoryview, mmap …), skipping ``offset`` bytes and reading
    ``count`` elements (−1: all the rest). It shares the buffer's memory: writing one changes
    the other. A non-writable buffer (bytes) gives a warning, as in torch, and - unlike torch,
    which writes into it anyway - a read-only tensor: in-place ops on it raise. On the GPU the
    bytes are copied to the device."""
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    if not view.c_contiguous:
        raise RuntimeError("could not retrieve buffer from object")
    dt, n = xp.dtype(dtype), view.nbytes
    if n == 0 or count == 0:
        raise ValueError(f"both buffer length ({n}) and count ({count}) must not be 0")
    if not 0 <= offset < n:
        raise ValueError(
            f"offset ({offset} bytes) must be non-negative and no greater than buffer length"
            f" ({n} bytes) minus 1"
        )
    if count < 0 and (n - offset) % dt.itemsize:
        raise ValueError(
            f"buffer length ({n - offset} bytes) after offset ({offset} bytes) must be a"
            f" multiple of element size ({dt.itemsize})"
        )
    if count > 0 and count * dt.itemsize > n - offset:
        raise ValueError(
            f"requested buffer length ({count} * {dt.itemsize} bytes) after offset ({offset}"
            f" bytes) must not be greater than actual buffer length ({n} bytes)"
        )
    if requires_grad and dt.kind not in "fc":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    if view.readonly and (_warn_always[0] or not _warned_readonly[0]):
        _warned_readonly[0] = True
        warnings.warn(
            "The given buffer is not writable; ember's tensor shares it read-only, so in-place"
            " operations on it raise. You may want to copy the buffer to protect its data or"
            " make it writable before converting it to a tensor. This type of warning will be"
            " suppressed for the rest of this program.",
            UserWarning,
            stacklevel=2,
        )
    a = backend.host_frombuffer(view.cast("B"), dt, count, offset)
    return Tensor(backend.asarray(a), requires_grad=requires_grad)


# ------------------------------------------------------------ nn ops at top level
conv_transpose3d = F.conv_transpose3d


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
                            ceil_mode: bool = False) -> tuple:  # fmt: skip
    """torch.max_pool1d_with_indices: F.max_pool1d's (values, indices), the indices (int64)
    counting along the last dim of the input. ``stride`` None or [] is the kernel size."""
    stride = None if stride is None or stride == [] or stride == () else stride
    return F.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode,
                        return_indices=True)  # fmt: skip


def is_inference(input) -> bool:  # noqa: A002
    """torch.is_inference: whether input is an inference tensor (Tensor.is_inference)."""
    require_tensor("is_inference", input, "input")
    return input.is_inference()
