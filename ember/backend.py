"""The one place that knows which array library runs underneath.

Ops and layers never import numpy or cupy: they ask for ``xp`` (or
``get_array_module(array)``) here, and every difference between NumPy and
CuPy (scatter-add, host copies, random generators, special functions) is one
named helper in this file; the calls into NumPy's own BLAS live beside it in
``backend_blas.py`` and are re-exported here.
"""

from __future__ import annotations

import ctypes
import os
import sys

import numpy

from .backend_blas import blas_corename  # noqa: F401 - which OpenBLAS kernels run
from .backend_blas import matmul_into as _cpu_matmul_into
from .backend_blas import split_run as _cpu_split_run
from .backend_scans import doubling_scan, segmented_reduce_at  # the GPU's scans
from .threads import parallel_for as _cpu_parallel_for
from .threads import parallel_parts as _cpu_parallel_parts

#: What == and != take besides tensors: numbers and arrays (else NotImplemented, as torch's)
EQ_OPERANDS = (int, float, complex, numpy.generic, numpy.ndarray)


def python_scalar(value):
    """A NumPy scalar as the Python number it holds; anything else unchanged. torch treats
    both as weak scalars (a float32 tensor times np.float64(0.5) stays float32), where NumPy 2
    lets a NumPy scalar widen an array (NEP 50)."""
    return value.item() if isinstance(value, numpy.generic) else value


def _choose_device() -> str:
    """The process's device from EMBER_DEVICE: "cpu" (the default) or "cuda" (CuPy)."""
    name = os.environ.get("EMBER_DEVICE", "cpu").strip().lower() or "cpu"
    if name.partition(":")[0] not in ("cpu", "cuda"):
        raise ValueError(f"EMBER_DEVICE={name!r}: expected 'cpu' or 'cuda'")
    return "cuda" if name.startswith("cuda") else "cpu"


def _load_cupy():
    """CuPy, or a RuntimeError that says why the GPU cannot be used."""
    try:
        import cupy
        import cupyx
        import cupyx.scipy.special
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise RuntimeError(
            f"EMBER_DEVICE=cuda needs CuPy (pip install cupy-cuda12x or -cuda13x): {e}"
        ) from e
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # pragma: no cover - CuPy without a driver
        raise RuntimeError(f"EMBER_DEVICE=cuda, but CUDA has no device here: {e}") from e
    if count < 1:  # pragma: no cover
        raise RuntimeError("EMBER_DEVICE=cuda, but CUDA reports no device")
    return cupy, cupyx


def cuda_unavailable_reason() -> str:
    """Why a process started with EMBER_DEVICE=cuda could not run here ("" when it could):
    CuPy missing, or no GPU that it sees. Asked without switching this process's device."""
    try:
        _load_cupy()
    except RuntimeError as e:
        return str(e)
    return ""


#: "cpu" (NumPy) or "cuda" (CuPy): one device per process in this version, chosen by the
#: environment variable EMBER_DEVICE before ember is imported.
DEVICE_TYPE = _choose_device()
ON_GPU = DEVICE_TYPE == "cuda"

if ON_GPU:
    _cupy, _cupyx = _load_cupy()
    xp = _cupy
    # a singular or indefinite matrix raises LinAlgError as NumPy's does (CuPy's default is
    # to return NaNs silently); it costs one synchronisation per factorisation
    _cupyx.seterr(linalg="raise")
    EQ_OPERANDS += (_cupy.ndarray,)  # device arrays compare elementwise too
else:
    _cupy = _cupyx = None
    xp = numpy

float32 = numpy.float32
float64 = numpy.float64
int64 = numpy.int64
bool_ = numpy.bool_

DEFAULT_DTYPE = numpy.float32

#: Why a CUDA device cannot be had in a process that runs on the CPU.
CUDA_UNAVAILABLE = (
    "ember runs on the CPU only in this process (NumPy); to run on an NVIDIA GPU through CuPy,"
    " set the environment variable EMBER_DEVICE=cuda before importing ember (one device per"
    " process in this version); ember.cuda.is_available() says whether CUDA can be used"
)

#: Why the CPU cannot be had in a process that runs on the GPU.
CPU_UNAVAILABLE = (
    "this process runs ember on the GPU (EMBER_DEVICE=cuda, CuPy): one device per process in"
    " this version, so tensors cannot be placed on the CPU; .numpy() copies data to the host"
)


class device:  # noqa: N801 - torch's name
    """Where a tensor lives, as torch.device: ``device("cpu")``, ``device("cuda", 0)``.

    ``type`` and ``index`` as torch's; equal to its name as a string (``x.device == "cpu"``), so
    code comparing either way works. Making one for CUDA is fine; placing a tensor there is the
    clear error of ``check_device``.
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str, index: int | None = None) -> None:  # noqa: A002
        name = str(type)
        kind, _, idx = name.partition(":")
        if idx:
            if index is not None:
                raise ValueError(f"device {name!r} already names an index; got index={index}")
            index = int(idx) if idx.isdigit() else idx
        if kind not in ("cpu", "cuda") or (index is not None and not isinstance(index, int)):
            raise ValueError(f"unknown device {name!r}: expected 'cpu', 'cuda' or 'cuda:N'")
        self.type, self.index = kind, index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{extra})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:  # not a device name: simply not equal
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")
CUDA = device("cuda", 0)
#: Where every tensor of this process lives (one device per process in this version).
DEVICE = CUDA if ON_GPU else CPU


def check_device(where) -> str:
    """The canonical name ("cpu" or "cuda") of a device this process can place tensors on,
    or a clear error: RuntimeError for a device of the other kind (this process runs on one),
    ValueError for an unknown name or an index this machine lacks.

    Accepts what torch does: None (the process's device), "cpu", "cpu:0", "cuda", "cuda:N",
    a ``device``. A process runs on the CPU unless EMBER_DEVICE=cuda was set before import.
    """
    name = DEVICE_TYPE if where is None else str(where)
    d = device(name)  # parses the name, or raises the ValueError for an unknown one
    if d.type != DEVICE_TYPE:
        why = CUDA_UNAVAILABLE if d.type == "cuda" else CPU_UNAVAILABLE
        raise RuntimeError(f"device {name!r} was asked for, but {why}")
    if d.index not in (None, 0):
        raise ValueError(
            f"unknown device {name!r}: expected 'cpu', 'cuda' or 'cuda:N' with N = 0 (ember uses"
            " one device per process; pick the GPU with CUDA_VISIBLE_DEVICES)"
        )
    return DEVICE_TYPE


def check_cuda(device=None) -> None:
    """What ``.cuda(device)`` asks for (None, an index or a name), checked as check_device
    does: fine in a process on the GPU, a clear RuntimeError in one on the CPU."""
    name = "cuda" if device is None else device if isinstance(device, str) else f"cuda:{device}"
    check_device(name)


def synchronize() -> None:
    """Wait until the GPU has finished the work queued so far (nothing to wait for on the CPU)."""
    if ON_GPU:
        _cupy.cuda.Device().synchronize()


def device_name() -> str:
    """The GPU's name (as torch.cuda.get_device_name) or "cpu"."""
    if not ON_GPU:
        return "cpu"
    name = _cupy.cuda.runtime.getDeviceProperties(0)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def _tune_malloc() -> None:
    """Keep glibc from returning freed memory to the OS after every step.

    An autograd graph allocates and frees the same arrays every step; with
    glibc's defaults large blocks are served by mmap, and the heap's free top
    is trimmed back, so every step page-faults its memory in again
    (PERFORMANCE.md measured 14 µs per op before, 3 µs after; lstm_large
    faulted 7,500 pages a step, 405 → 376 ms, while the trim threshold was
    left at its default). The numbers are glibc's mallopt parameters
    (malloc.h): M_TRIM_THRESHOLD -1, M_TOP_PAD -2, M_MMAP_THRESHOLD -3.
    The cost: the heap keeps its peak size until the process ends, as a
    caching allocator does.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: never give the heap's top back
        libc.mallopt(-2, 64 << 20)  # M_TOP_PAD: grow the heap in large steps
        if not libc.mallopt(-3, 1 << 30):  # M_MMAP_THRESHOLD: large blocks from the heap
            libc.mallopt(-3, 32 << 20)  # some glibc versions refuse more than 32 MiB
    except (OSError, AttributeError):
        pass


_tune_malloc()


def get_array_module(*arrays):
    """The array module (numpy, or cupy in a process on the GPU) that owns ``arrays``."""
    return xp


def is_array(obj) -> bool:
    """Whether ``obj`` is an array of this process's device (a NumPy array on the GPU is not)."""
    return isinstance(obj, xp.ndarray)


def is_host_or_device_array(obj) -> bool:
    """Whether ``obj`` is an array with a dtype of its own, on the host (NumPy) or the device."""
    return isinstance(obj, (numpy.ndarray, xp.ndarray))


def subtract_c(a, b):
    """a − b as a fresh row-major array (NumPy writes it so in one pass, order="C"; CuPy's
    elementwise results are row-major already, and it has no order argument)."""
    if ON_GPU:
        return _cupy.ascontiguousarray(a - b)
    return numpy.subtract(a, b, order="C")


def asarray(obj, dtype=None):
    """``obj`` as an array on this process's device (host data is copied to the GPU there)."""
    return xp.asarray(obj, dtype=dtype)


def host_frombuffer(buffer, dtype, count=-1, offset=0):
    """A host (NumPy) array sharing ``buffer``'s memory (a Python buffer lives on the host)."""
    return numpy.frombuffer(buffer, dtype=dtype, count=count, offset=offset)


def to_numpy(a):
    """A host (NumPy) copy or view of an array from any backend."""
    if ON_GPU and isinstance(a, _cupy.ndarray):
        return _cupy.asnumpy(a)
    return numpy.asarray(a)


def vecdot(a, b):
    """Σ over the last axis of a·b (numpy.vecdot: no product array; CuPy lacks it)."""
    if ON_GPU:
        return _cupy.einsum("...i,...i->...", a, b)
    return numpy.vecdot(a, b)


def scatter_add(target, indices, values) -> None:
    """``target[indices] += values`` with repeated indices accumulating."""
    if ON_GPU:  # atomic adds on the GPU: no sort needed
        _cupyx.scatter_add(target, indices, values)
        return
    if isinstance(indices, numpy.ndarray) and indices.dtype.kind in "iu" and indices.size > 32:
        # Rows of a table (Embedding's backward, x[idx]): sort the indices and sum each run
        # of equal ones with reduceat. numpy.add.at loops element by element: 2048 rows of
        # 128 took 2.1 ms that way, 0.5 ms this way.
        idx = indices.reshape(-1)
        idx = numpy.where(idx < 0, idx + target.shape[0], idx)
        rows = values.reshape((idx.size,) + target.shape[1:])
        order = numpy.argsort(idx, kind="stable")
        sorted_idx = idx[order]
        starts = numpy.flatnonzero(numpy.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
        acc = numpy.float32 if rows.dtype == numpy.float16 else None  # half: float32 sums
        sums = numpy.add.reduceat(rows[order], starts, axis=0, dtype=acc)
        target[sorted_idx[starts]] += sums.astype(rows.dtype, copy=False)
        return
    numpy.add.at(target, indices, values)


def accumulate(ufunc: str, a, axis: int):
    """The running ``ufunc`` ("maximum", "minimum", "logaddexp") of ``a`` along ``axis``, as
    numpy.<ufunc>.accumulate. CuPy has no accumulate for these: there it is a doubling scan
    (Hillis–Steele), ⌈log₂ n⌉ whole-array passes, each combining every element with the one
    2^k places before it."""
    if not ON_GPU:
        return getattr(numpy, ufunc).accumulate(a, axis=axis)
    return doubling_scan(_cupy, ufunc, a, axis)


def ufunc_at(ufunc: str, target, indices, values) -> None:
    """numpy.<ufunc>.at: ``target[indices] = ufunc(target[indices], values)`` in place, each
    repeated index applied in turn ("multiply", "maximum", "minimum"). On the GPU a segmented
    doubling scan (``segmented_reduce_at``): CuPy's ufunc.at has no multiply, and its maximum
    was measured rounding float64 values to float32."""
    if ON_GPU:
        segmented_reduce_at(_cupy, ufunc, target, indices, values)
        return
    getattr(xp, ufunc).at(target, indices, values)


def matmul_into(a, b, out, accumulate: bool = False) -> None:
    """out = a @ b, or out += a @ b with ``accumulate`` (see backend_blas.matmul_into); on the
    GPU through cuBLAS by CuPy's matmul."""
    if not ON_GPU:
        return _cpu_matmul_into(a, b, out, accumulate)
    if accumulate:
        out += _cupy.matmul(a, b)
    else:
        _cupy.matmul(a, b, out=out)


def lstsq_gelsy(a, b, rcond: float):
    """X of min ‖AX − B‖ by LAPACK's gelsy (QR with column pivoting, rank cut at ``rcond``)
    for one matrix A (m, n) and B (m, k), through SciPy: torch's default CPU driver, whose
    solution differs from an SVD cut where A is numerically rank-deficient. None on the GPU
    (CuPy has no gelsy), where callers keep their SVD solution."""
    if ON_GPU:
        return None
    import scipy.linalg

    return scipy.linalg.lstsq(a, b, cond=rcond, lapack_driver="gelsy", check_finite=False)[0]


def split_run(fn, n: int, min_part: int = 4096) -> int:
    """backend_blas.split_run on the CPU; on the GPU the whole range at once (the device runs
    each product in parallel itself)."""
    if ON_GPU:
        fn(0, 0, n)
        return 1
    return _cpu_split_run(fn, n, min_part)


def parallel_for(fn, n: int, grain: int, align: int = 1) -> None:
    """threads.parallel_for on the CPU; on the GPU one call over the whole range (host
    threads only add launches there)."""
    if ON_GPU:
        if n > 0:
            fn(0, n)
        return
    _cpu_parallel_for(fn, n, grain, align)


def parallel_parts(fn, parts: int) -> None:
    """threads.parallel_parts on the CPU; on the GPU the parts one after another."""
    if ON_GPU:
        for i in range(parts):
            fn(i)
        return
    _cpu_parallel_parts(fn, parts)


def strided_view(a, shape, strides, writeable: bool = False):
    """A view of ``a`` with the given shape and byte strides (no copy), read-only unless
    ``writeable`` (only for views whose elements do not overlap).

    Convolution and pooling read their sliding windows through such views
    (im2col without a Python loop); the caller guarantees every index stays
    inside ``a``. CuPy has the same function under the same name.
    """
    if ON_GPU:
        return _cupy.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)
    return numpy.lib.stride_tricks.as_strided(a, shape=shape, strides=strides,
                                              writeable=writeable)  # fmt: skip


# erf, erfinv, expit, log Γ and the other special functions NumPy lacks: in
# backend_special.py (SciPy's on the CPU, CuPy's on the GPU), re-exported here
# torch.Generator and the default stream: in backend_random.py, re-exported here (it imports the
# device checks above, so it comes last)
# NumPy's floating-point errors: errstate, silent casts, and the warnings filter for ember's
# own code: backend_errors.py
from .backend_errors import cast, errstate  # noqa: E402, F401

# files mapped into memory and memory shared with forked processes: backend_memory.py
from .backend_memory import is_shared, map_file, shared_copy  # noqa: E402, F401
from .backend_random import (  # noqa: E402, F401
    Generator,
    default_generator,
    generator_or_default,
    use_worker_stream,
)
from .backend_special import (  # noqa: E402, F401
    betainc,
    erf,
    erfc,
    erfcx,
    erfinv,
    expit,
    gammainc,
    gammaincc,
    gammaln,
    log_ndtr,
    ndtri,
    polygamma,
    psi,
)
