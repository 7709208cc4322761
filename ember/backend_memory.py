"""Host memory beyond plain arrays: a file mapped into memory (``map_file``) and memory shared
with forked processes (``shared_copy``, ``is_shared``). Re-exported by backend.py, the one
place that knows NumPy and CuPy.
"""

from __future__ import annotations

import mmap

import numpy

from .backend import ON_GPU, xp


def map_file(filename, dtype, count: int, shared: bool):
    """The first ``count`` items of a file as an array mapped onto it: writes go into the file
    (``shared``) or stay private (copy on write). On the GPU, a device copy of it."""
    mapped = numpy.memmap(filename, dtype=dtype, mode="r+" if shared else "c", shape=(count,))
    host = mapped.view(numpy.ndarray)
    return xp.asarray(host) if ON_GPU else host


def shared_copy(a):
    """A copy of host array ``a`` in shared memory: an anonymous shared mapping, which child
    processes started by fork see and write into, as torch's share_memory_ (the mapping lives
    as long as the array does). On the GPU the array itself (torch leaves CUDA tensors be)."""
    if ON_GPU:
        return a
    block = mmap.mmap(-1, max(a.nbytes, 1))
    out = numpy.frombuffer(block, dtype=a.dtype, count=a.size).reshape(a.shape)
    out[...] = a
    return out


def is_shared(a) -> bool:
    """Whether host array ``a`` lives in a shared mapping (``shared_copy``)."""
    while a is not None and not isinstance(a, mmap.mmap):
        a = getattr(a, "base", None) if not isinstance(a, memoryview) else a.obj
    return a is not None
