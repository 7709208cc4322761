"""Intra-op threads: split one large elementwise or row-wise job over the CPU cores.

NumPy runs every ufunc on one core, while BLAS (and torch, for everything) uses all of
them. NumPy releases the GIL inside its loops, so two Python threads calling ufuncs on
disjoint halves of an array do run on two cores at once. `parallel_for(fn, n, grain)`
cuts range(n) into contiguous chunks, gives all but the last to persistent worker
threads and runs the last itself, then waits. A hand-off costs tens of microseconds (waking
an idle core), and the threads share the GIL between ufunc calls, so a job pays only when
each chunk holds at least `grain` units and its ufunc calls each run ≳ 20 µs (on 32k-element
blocks two threads were slower than one; on 64k-element blocks 1.5× faster).

Results never depend on the number of threads: work is only ever split along
independent elements or rows, so every value is computed by the same operations in the
same order whichever thread computes it (runs repeat bit for bit). (The shifted
convolution's ∂L/∂W adds one partial sum per BLAS thread: same bits for the same BLAS
thread count.)

The thread count is `set_num_threads(n)` / `get_num_threads()`: EMBER_NUM_THREADS if set,
else 1. One by default because of what was measured on the 2-core machine: NumPy's
OpenBLAS keeps its idle worker busy-waiting on the second core for a while after every
GEMM, so an elementwise half handed to that core waits its turn, and a whole GPT step got
4 % slower with 2 threads (56 → 58 ms) even though GELU (3.1 → 2.4 ms) and attention
(2.2 → 1.6 ms) alone got faster. With BLAS on one thread (OPENBLAS_NUM_THREADS=1) the
same step gains (68 → 63 ms). Work that replaces BLAS's threads instead of competing with
them (the shifted convolution's GEMMs: `backend.split_run`) uses `parallel_parts`, which
always gets one thread per part.
"""

from __future__ import annotations

import os
import queue
import threading


def _default_threads() -> int:
    value = os.environ.get("EMBER_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else 1


class _Pool:
    """Persistent daemon workers, each with its own inbox; each job brings its own 'done'
    queue, so a job abandoned midway (an interrupt while waiting) can never hand a stale
    result to the next one."""

    def __init__(self, n_threads: int):
        self.n_threads = max(1, int(n_threads))
        self.inboxes: list[queue.SimpleQueue] = []
        self.busy = threading.Lock()  # one split job at a time; a nested or concurrent call
        # (a worker's fn splitting again, or a second user thread) runs inline instead

    def _start_workers(self, n_workers: int) -> None:
        while len(self.inboxes) < n_workers:
            inbox: queue.SimpleQueue = queue.SimpleQueue()
            threading.Thread(target=self._work, args=(inbox,), daemon=True).start()
            self.inboxes.append(inbox)

    def _work(self, inbox: queue.SimpleQueue) -> None:
        while True:
            job = inbox.get()
            if job is None:  # the pool was replaced (set_num_threads): end this thread
                return
            fn, lo, hi, done = job
            try:
                fn(lo, hi)
                done.put(None)
            except BaseException as e:  # handed to the caller, re-raised there
                done.put(e)

    def run(self, fn, n: int, grain: int, align: int, chunks: int | None = None) -> None:
        if chunks is None:
            chunks = min(self.n_threads, n // max(1, grain, align))
        if chunks < 2 or not self.busy.acquire(blocking=False):
            fn(0, n)
            return
        try:
            self._start_workers(chunks - 1)
            bounds = [n * i // chunks // align * align for i in range(chunks)] + [n]
            done: queue.SimpleQueue = queue.SimpleQueue()
            for i in range(chunks - 1):
                self.inboxes[i].put((fn, bounds[i], bounds[i + 1], done))
            error = None
            try:
                fn(bounds[-2], bounds[-1])
            except BaseException as e:
                error = e
            for _ in range(chunks - 1):  # always collect every worker before returning
                result = done.get()
                if error is None and result is not None:
                    error = result
            if error is not None:
                raise error
        finally:
            self.busy.release()


_pool = _Pool(_default_threads())


def _reset_after_fork() -> None:
    # a forked child has none of the parent's threads: start afresh (workers made lazily)
    global _pool
    _pool = _Pool(_pool.n_threads)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def set_num_threads(n: int) -> None:
    """Use n threads (n ≥ 1) for ember's own elementwise and row-wise work."""
    global _pool
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects an integer ≥ 1, got {n!r}")
    with _pool.busy:
        old, _pool = _pool, _Pool(n)
        for inbox in old.inboxes:
            inbox.put(None)


def get_num_threads() -> int:
    """The number of threads ember splits its own elementwise work over."""
    return _pool.n_threads


def parallel_for(fn, n: int, grain: int, align: int = 1) -> None:
    """Call fn(lo, hi) over contiguous chunks covering range(n), concurrently.

    Each chunk spans at least `grain` units (fewer units than 2·grain: one call, inline),
    and every chunk but the last starts and ends on a multiple of `align`. Row-wise BLAS
    calls want align = 16: a BLAS kernel takes rows in groups, and chunks that keep the
    groups where the whole array has them give every row the same bits as one call would.
    fn must only write where its own chunk says (disjoint outputs), and release the GIL
    for the bulk of its work (NumPy ufuncs and BLAS do).
    """
    _pool.run(fn, n, grain, align)


def parallel_parts(fn, parts: int) -> None:
    """Call fn(i) for i in range(parts), each part in its own thread (the caller's included).

    For work cut by its owner (e.g. one column range per core, each with its own scratch):
    parts beyond the thread count still get a thread each. A nested or concurrent call runs
    the parts one after another in the calling thread.
    """

    def each(lo, hi):
        for i in range(lo, hi):
            fn(i)

    _pool.run(each, parts, 1, 1, chunks=parts)
