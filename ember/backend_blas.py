"""NumPy's own OpenBLAS, called through ctypes where NumPy's matmul cannot say what is needed.

Part of the backend seam (``backend.py`` re-exports ``matmul_into`` and ``split_run``): BLAS's
β = 1 (accumulate into the output during the product) and BLAS's thread count (held to one
while ember's threads split a sum of GEMMs). CuPy's cuBLAS would stand behind the same two
names.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading

import numpy

from .threads import parallel_parts

float32, float64 = numpy.float32, numpy.float64


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


def blas_thread_controls():
    """(get, set) of the thread count of the OpenBLAS NumPy bundles, or None where that
    OpenBLAS cannot be asked (another BLAS, a device backend)."""
    return _blas().get("threads")


def blas_corename() -> str | None:
    """The kernels NumPy's OpenBLAS runs ("Haswell", "SkylakeX" …; see blas_setup.py), or
    None where that OpenBLAS cannot be asked."""
    for path in glob.glob(os.path.join(os.path.dirname(numpy.__file__), os.pardir, "numpy.libs",
                                       "*openblas*")):  # fmt: skip
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                     "openblas_get_corename64_", "openblas_get_corename"):  # fmt: skip
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


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
