"""The one place that knows which array library runs underneath.

Ops and layers never import numpy or cupy: they ask for ``xp`` (or
``get_array_module(array)``) here, and every difference between NumPy and
CuPy (scatter-add, host copies, random generators, special functions) is one
named helper in this file; the calls into NumPy's own BLAS live beside it in
``backend_blas.py`` and are re-exported here.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import threading

import numpy

from .backend_blas import matmul_into, split_run  # noqa: F401 - NumPy's own BLAS, by ctypes
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


def strided_view(a, shape, strides, writeable: bool = False):
    """A view of ``a`` with the given shape and byte strides (no copy), read-only unless
    ``writeable`` (only for views whose elements do not overlap).

    Convolution and pooling read their sliding windows through such views
    (im2col without a Python loop); the caller guarantees every index stays
    inside ``a``. CuPy has the same function under the same name.
    """
    return numpy.lib.stride_tricks.as_strided(a, shape=shape, strides=strides,
                                              writeable=writeable)  # fmt: skip


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

try:  # log Γ and its derivatives (lgamma, digamma; the Gamma and Beta distributions), the
    # regularised incomplete gamma P, Q = 1 − P (the gamma draws' reparameterisation), the
    # regularised incomplete beta (the binomial CDF, for inverse-transform draws), and
    # the normal quantile and log-CDF, accurate in the tails where erf-based forms cancel
    from scipy.special import (
        betainc,
        erfc,
        gammainc,
        gammaincc,
        gammaln,
        log_ndtr,
        ndtri,
        polygamma,
        psi,
    )
except ImportError:  # pragma: no cover - SciPy ships with the default install
    erfc = gammainc = gammaincc = gammaln = log_ndtr = ndtri = polygamma = psi = _needs_scipy
    betainc = _needs_scipy


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
