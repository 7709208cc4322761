"""backend._tune_malloc: memory freed by one step is reused by the next without page faults."""

import mmap
import sys

import pytest

from ember.backend import xp

resource = pytest.importorskip("resource")


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _fill_faults(n_bytes: int) -> int:
    """Minor page faults taken while allocating and writing an array of n_bytes."""
    before = _faults()
    a = xp.empty(n_bytes // 8, dtype=xp.float64)
    a.fill(1.0)
    after = _faults()
    del a
    return after - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_a_freed_large_block_is_reused_without_faulting_it_in_again():
    # the measurement itself: writing fresh anonymous memory faults its pages in
    with mmap.mmap(-1, 8 << 20) as fresh:
        before = _faults()
        fresh.write(b"\1" * (8 << 20))
        assert _faults() - before > 100, "page faults are not being counted"
    # 160 MB: more than the heap's 64 MB top pad, so glibc's default trim threshold would give
    # the freed top back to the OS, and every later fill would fault its pages in again: a
    # few hundred faults per fill here (NumPy asks for 2 MB pages), ~7,500 per lstm_large step
    size = 160 << 20
    _fill_faults(size)  # faults in once (unless an earlier test left the heap this large)
    again = [_fill_faults(size) for _ in range(3)]
    assert max(again) < 50, f"freed memory was faulted in again: {again} faults per fill"
