"""The one place that knows which array library runs underneath.

Ops and layers never import numpy or cupy: they ask for ``xp`` (or
``get_array_module(array)``) here, and every difference between NumPy and
CuPy (scatter-add, host copies, random generators, special functions) is one
named helper in this file.
"""

from __future__ import annotations

import ctypes
import glob
import math
import os
import sys
import threading

import numpy

from .threads import parallel_for, parallel_parts  # noqa: F401

xp = numpy

float32 = numpy.float32
float64 = numpy.float64
int64 = numpy.int64
bool_ = numpy.bool_

DEFAULT_DTYPE = numpy.float32

#: Why a CUDA device cannot be had: ember runs on NumPy (the CPU) only in this version.
CUDA_UNAVAILABLE = (
    "ember runs on the CPU only in this version (its CuPy backend for NVIDIA GPUs is not built"
    " yet); ember.cuda.is_available() says whether CUDA can be used"
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


def check_device(where) -> str:
    """The canonical name of a device this build can place tensors on ("cpu"), or a clear
    error: RuntimeError for a CUDA device (not available), ValueError for an unknown name.

    Accepts what torch does for the CPU: None, "cpu", "cpu:0"; and names "cuda", "cuda:N".
    """
    name = "cpu" if where is None else str(where)
    d = device(name)  # parses the name, or raises the ValueError for an unknown one
    if d.type == "cuda":
        raise RuntimeError(f"device {name!r} was asked for, but {CUDA_UNAVAILABLE}")
    if d.index not in (None, 0):
        raise ValueError(f"unknown device {name!r}: expected 'cpu', 'cuda' or 'cuda:N'")
    return "cpu"


def check_cuda(device=None) -> None:
    """What ``.cuda(device)`` asks for (None, an index or a name), checked as check_device does:
    in this CPU-only version, always a clear RuntimeError."""
    name = "cuda" if device is None else device if isinstance(device, str) else f"cuda:{device}"
    check_device(name)


def _tune_malloc() -> None:
    """Keep glibc from returning freed memory to the OS after every step.

    An autograd graph allocates and frees the same arrays every step; with
    glibc's defaults large blocks are served by mmap and trimmed back, so
    every step page-faults its memory in again (PERFORMANCE.md measured
    14 µs per op before, 3 µs after). M_TRIM_THRESHOLD=-3, M_TOP_PAD=-2,
    M_MMAP_THRESHOLD=-4 are glibc's mallopt parameter numbers.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_TRIM_THRESHOLD
        libc.mallopt(-2, 64 << 20)  # M_TOP_PAD
        libc.mallopt(-4, 1 << 30)  # M_MMAP_THRESHOLD (glibc caps it at 32 MiB)
    except (OSError, AttributeError):
        pass


_tune_malloc()


def get_array_module(*arrays):
    """The array module (numpy now, cupy later) that owns ``arrays``."""
    return numpy


def is_array(obj) -> bool:
    return isinstance(obj, numpy.ndarray)


def asarray(obj, dtype=None):
    return numpy.asarray(obj, dtype=dtype)


def to_numpy(a):
    """A host (NumPy) copy or view of an array from any backend."""
    return numpy.asarray(a)


def scatter_add(target, indices, values) -> None:
    """``target[indices] += values`` with repeated indices accumulating."""
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
        target[sorted_idx[starts]] += numpy.add.reduceat(rows[order], starts, axis=0)
        return
    numpy.add.at(target, indices, values)


def strided_view(a, shape, strides):
    """A read-only view of ``a`` with the given shape and byte strides (no copy).

    Convolution and pooling read their sliding windows through such views
    (im2col without a Python loop); the caller guarantees every index stays
    inside ``a``. CuPy has the same function under the same name.
    """
    return numpy.lib.stride_tricks.as_strided(a, shape=shape, strides=strides, writeable=False)


def _numpy_cblas_gemm() -> dict:
    """cblas_sgemm/dgemm of the OpenBLAS that NumPy itself links (wheels bundle it in
    numpy.libs with prefixed symbols), as ctypes functions keyed by dtype; empty when not
    found. The same library and thread pool as numpy.matmul: a second BLAS (SciPy's) would
    keep its own threads spinning beside NumPy's on a 2-core machine."""
    libs = glob.glob(os.path.join(os.path.dirname(numpy.__file__), os.pardir, "numpy.libs",
                                  "*openblas*"))  # fmt: skip
    for path in libs:
        try:
            lib = ctypes.CDLL(path)  # already loaded by NumPy: the same handle
        except OSError:
            continue
        for prefix, suffix, index in (("scipy_cblas_", "64_", ctypes.c_int64),
                                      ("scipy_cblas_", "", ctypes.c_int),
                                      ("cblas_", "", ctypes.c_int)):  # fmt: skip
            found = {}
            for kind, dtype, scalar in (("s", float32, ctypes.c_float),
                                        ("d", float64, ctypes.c_double)):  # fmt: skip
                gemm = getattr(lib, f"{prefix}{kind}gemm{suffix}", None)
                if gemm is None:
                    break
                # order, transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc
                i, e, p = index, ctypes.c_int, ctypes.c_void_p
                gemm.argtypes = [e, e, e, i, i, i, scalar, p, i, p, i, scalar, p, i]
                gemm.restype = None
                found[numpy.dtype(dtype)] = gemm
            if len(found) == 2:
                lib_prefix = prefix[: -len("cblas_")]  # "scipy_" or ""
                get = getattr(lib, f"{lib_prefix}openblas_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{lib_prefix}openblas_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.argtypes, get.restype = [], ctypes.c_int
                    set_.argtypes, set_.restype = [ctypes.c_int], None
                    found["threads"] = (get, set_)
                return found
    return {}


_gemm_functions: dict | None = None
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # the CBLAS enum values


def _blas() -> dict:
    """NumPy's own CBLAS functions (see _numpy_cblas_gemm), looked up on first use."""
    global _gemm_functions
    if _gemm_functions is None:
        _gemm_functions = _numpy_cblas_gemm()
    return _gemm_functions


def _blas_operand(m, itemsize: int):
    """(trans, ld) under which row-major CBLAS reads m (r, c) as it lies, or None when m is
    not a strided matrix with one unit stride."""
    r, c = m.shape
    s0, s1 = m.strides
    if s1 == itemsize and s0 % itemsize == 0 and s0 // itemsize >= c:
        return _NO_TRANS, s0 // itemsize  # rows of c values, s0 apart
    if s0 == itemsize and s1 % itemsize == 0 and s1 // itemsize >= r:
        return _TRANS, s1 // itemsize  # mᵀ is the row-major one
    return None


def matmul_into(a, b, out, accumulate: bool = False) -> None:
    """out = a @ b, or out += a @ b with ``accumulate``; a (…, M, K), b (…, K, N), out (…, M, N).

    Views are welcome: any matrix with one unit stride goes to BLAS as it lies. Accumulation
    is BLAS's β = 1, adding the product into out during the product itself: NumPy's matmul
    has no β, and ``out += a @ b`` costs one more pass over out (for a sum of many shifted
    products, as in a convolution, a fifth of the time). Falls back to NumPy where BLAS
    cannot read the operands (other dtypes, NumPy without a bundled OpenBLAS, degenerate
    shapes).
    """
    if out.ndim == 3:  # a batch (convolution groups): one product per matrix
        for i in range(out.shape[0]):
            matmul_into(a[i], b[i], out[i], accumulate)
        return
    gemm = _blas().get(out.dtype) if a.dtype == b.dtype == out.dtype else None
    e = out.itemsize
    (M, K), N = a.shape, out.shape[1]
    if gemm is not None and min(M, N, K) > 1:
        op_a, op_b = _blas_operand(a, e), _blas_operand(b, e)
        if op_a and op_b and out.strides[1] == e and out.strides[0] >= N * e:
            gemm(_ROW_MAJOR, op_a[0], op_b[0], M, N, K, 1.0, a.ctypes.data, op_a[1],
                 b.ctypes.data, op_b[1], 1.0 if accumulate else 0.0, out.ctypes.data,
                 out.strides[0] // e)  # fmt: skip
            return
    if accumulate:
        out += numpy.matmul(a, b)
    else:
        numpy.matmul(a, b, out=out)


#: Parts for split_run; None: one per BLAS thread (the threads it stands in for). Tests set it.
SPLIT_WORKERS: int | None = None
_blas_hold = threading.Lock()  # held while split_run keeps BLAS at one thread


def split_run(fn, n: int, min_part: int = 4096) -> int:
    """Run fn(part, lo, hi) over [0, n) cut into one contiguous range per thread, in
    parallel (ember.threads), with BLAS held to one thread meanwhile; returns the number of
    parts (1: fn(0, 0, n) ran alone, here).

    For a sum of many GEMMs (a shifted convolution makes 9 per pass): BLAS's own threads
    sync once per GEMM, and on a loaded 2-core machine every sync can wait a scheduler
    slice for a descheduled thread (nine shifted 64×64×35k products took 218 ms through
    OpenBLAS's 2 threads at load 5, 36 ms split in two ranges of single-threaded GEMMs,
    which sync once). Runs alone where the BLAS thread count cannot be read and set, and
    while another thread holds BLAS to one thread (its restore must not be overtaken).
    """
    threads = _blas().get("threads")
    if SPLIT_WORKERS is None:
        workers = min(threads[0]() if threads else 1, n // min_part)
    else:
        workers = min(SPLIT_WORKERS, n)
    if workers < 2 or threads is None or not _blas_hold.acquire(blocking=False):
        fn(0, 0, n)
        return 1
    get_blas_threads, set_blas_threads = threads
    before = get_blas_threads()
    cuts = [n * i // workers for i in range(workers + 1)]
    set_blas_threads(1)
    try:
        parallel_parts(lambda i: fn(i, cuts[i], cuts[i + 1]), workers)
    finally:
        set_blas_threads(before)
        _blas_hold.release()
    return workers


def _erf_fallback(x):
    # math.erf element by element: exact but slow; used only without SciPy.
    f = numpy.frompyfunc(math.erf, 1, 1)
    return f(x).astype(x.dtype)


def _expit_fallback(x):
    # σ(x) = ½(1 + tanh(x/2)): no overflow, at some relative precision for x ≪ 0.
    y = numpy.tanh(x * 0.5)
    y += 1
    y *= 0.5
    return y


def _needs_scipy(*args):  # pragma: no cover - SciPy ships with the default install
    raise ImportError("special functions (erfinv, gammaln, psi …) need SciPy: pip install scipy")


try:  # SciPy's erf, erfinv and expit are vectorised and stable; NumPy has none of them.
    from scipy.special import erf, erfinv, expit
except ImportError:  # pragma: no cover - SciPy ships with the default install
    erf, erfinv, expit = _erf_fallback, _needs_scipy, _expit_fallback

try:  # log Γ and its derivatives (lgamma, digamma; the Gamma and Beta distributions), and
    # the normal quantile and log-CDF, accurate in the tails where erf-based forms cancel
    from scipy.special import erfc, gammaln, log_ndtr, ndtri, polygamma, psi
except ImportError:  # pragma: no cover - SciPy ships with the default install
    erfc = gammaln = log_ndtr = ndtri = polygamma = psi = _needs_scipy


class Generator:
    """torch.Generator: a seeded source of random draws (``ember.Generator``).

    ``Generator(device="cpu")`` starts from torch's seed for a fresh generator, so two fresh
    generators draw alike; ``manual_seed(s)`` (returns the generator, as torch's) reseeds,
    ``seed()`` reseeds from the OS and returns the seed, ``initial_seed()`` says the seed,
    ``get_state()``/``set_state()`` save and restore the stream. Every random maker and
    initialiser takes one as ``generator=``; without it they draw from ``default_generator``,
    which ``ember.manual_seed`` seeds. The draws come from NumPy's PCG64, so a seed gives other
    numbers than torch's Mersenne Twister would; what repeats is ember's own stream.
    """

    #: the seed torch gives a fresh Generator()
    DEFAULT_SEED = 67280421310721

    def __init__(self, device="cpu"):
        self.device = check_device(device)
        self.manual_seed(self.DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        if isinstance(seed, bool) or not isinstance(seed, (int, numpy.integer)):
            raise TypeError(f"manual_seed expects an integer seed, got {seed!r}")
        self._initial = int(seed)
        self._rng = numpy.random.Generator(numpy.random.PCG64(int(seed) % 2**64))
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._initial

    def get_state(self) -> dict:
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self._rng.bit_generator.state = state
        return self

    def __repr__(self) -> str:
        return f"ember.Generator(device={self.device!r}, initial_seed={self._initial})"

    def standard_normal(self, shape, dtype):
        return self._rng.standard_normal(shape, dtype=dtype)

    def random(self, shape, dtype):
        return self._rng.random(shape, dtype=dtype)

    def uniform(self, low, high, shape, dtype):
        out = self._rng.random(shape, dtype=numpy.float64)
        return (low + (high - low) * out).astype(dtype, copy=False)

    def integers(self, low, high, shape):
        return self._rng.integers(low, high, size=shape, dtype=numpy.int64)

    def permutation(self, n: int):
        return self._rng.permutation(n)

    def bernoulli_mask(self, p_keep: float, shape, dtype):
        return (self._rng.random(shape, dtype=numpy.float32) < p_keep).astype(dtype)


_worker_streams = threading.local()


class _DefaultGenerator(Generator):
    """``default_generator``: in a DataLoader worker thread, that worker's own stream (see
    ``use_worker_stream``), as each of torch's worker processes has a default generator of its
    own; in every other thread, the process's stream."""

    def _slot(self) -> dict:
        slot = getattr(_worker_streams, "slot", None)
        return slot if slot is not None else self.__dict__.setdefault("_process_slot", {})

    _rng = property(lambda g: g._slot()["rng"], lambda g, v: g._slot().__setitem__("rng", v))
    _initial = property(
        lambda g: g._slot()["initial"], lambda g, v: g._slot().__setitem__("initial", v)
    )


def use_worker_stream(seed: int) -> None:
    """Give the calling thread (a DataLoader worker) a default-generator stream of its own,
    seeded with ``seed``: its draws neither take from nor depend on the other threads', so a
    seeded run repeats whatever the threads' timing."""
    _worker_streams.slot = {}
    default_generator.manual_seed(seed)


default_generator = _DefaultGenerator().manual_seed(0)


def generator_or_default(generator) -> Generator:
    """``generator`` if one was passed (checked), else ``default_generator``."""
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an ember.Generator, got {type(generator).__name__}")
    return generator
