"""Asynchronous collectives: torch's ``Work`` handle, and the group's communication thread.

``all_reduce(t, async_op=True)`` (and every other collective called with ``async_op=True``)
puts the exchange on its group's queue and returns a ``Work`` at once; one thread per
group takes the queue's operations one at a time, first in first out. Every rank calls its
collectives in the same order, so every rank's thread runs them in that same order, and
the wire sees exactly the sequence a synchronous program would produce. A synchronous
call first waits for the queue to empty, then runs on the caller's thread, so it too takes
its place in that order without a thread hand-off.

``work.wait()`` blocks until the operation is done and its result written into the tensor
(torch: "the tensor must not be read or written until then"), and re-raises what made it
fail there: a peer's mismatch (``DistBackendError``), a peer that exited or stayed silent
(``DistNetworkError``). A failure that breaks the group makes the operations queued after
it fail too, each with the group's reason. The queue expects one calling thread per group,
as torch's does (collectives from two threads at once have no order the ranks agree on).

``isend``/``irecv`` return a ``Work`` too (p2p.py): it completes when the message has been
handed to the connection, or copied into the receiving tensor (mailbox.py); the same
``Worker`` class runs the group's point-to-point sends, and the ring's.
"""

from __future__ import annotations

import datetime
import queue
import threading
from collections.abc import Callable

from .wire import DistBackendError


class Work:
    """torch.distributed.Work: the handle of a collective called with ``async_op=True``, or
    of an ``isend``/``irecv`` (p2p.py): it completes when the transfer has.
    """

    def __init__(self, result=None, completed: bool = True) -> None:
        self._result = result
        self._error: BaseException | None = None
        self._source = -1  # irecv: the global rank the message came from
        self._done = threading.Event()
        if completed:
            self._done.set()

    def wait(self, timeout: datetime.timedelta | float | None = None) -> bool:
        """Block until the operation has finished; True, or its error raised again here.
        ``timeout`` (seconds or a timedelta) bounds the wait; the group's own timeout
        bounds every operation anyway."""
        if isinstance(timeout, datetime.timedelta):
            timeout = timeout.total_seconds()
        if not self._done.wait(timeout):
            raise DistBackendError(f"Work.wait() timed out after {timeout:g} s")
        if self._error is not None:
            raise self._error
        return True

    def is_completed(self) -> bool:
        """Whether the operation has finished (successfully or not); never blocks."""
        return self._done.is_set()

    def is_success(self) -> bool:
        """Whether the operation has finished without an error; never blocks."""
        return self._done.is_set() and self._error is None

    def exception(self) -> BaseException | None:
        """The error the operation failed with (None while running or after a success)."""
        return self._error

    def result(self) -> list:
        """The tensors the operation wrote into (its output)."""
        return list(self._result or [])

    def _source_rank(self) -> int:
        """irecv's sender (global rank) once completed, as torch's ``Work._source_rank()``."""
        return self._source

    def _finish(self, error: BaseException | None = None) -> None:
        self._error = error
        self._done.set()


class Worker:
    """A group's communication thread: runs queued operations one at a time, in order.

    The thread starts with the first asynchronous call (a program that never asks for one
    never has it) and is a daemon, so a process that exits with work queued does not hang.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._last: Work | None = None  # the newest queued operation

    def submit(self, run: Callable[[], None], result=None, work: Work | None = None) -> Work:
        """Queue ``run``; its Work (``work``, or a new one) completes when it has returned (or
        raised)."""
        work = Work(result, completed=False) if work is None else work
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()
        self._last = work
        self._queue.put((run, work))
        return work

    def drain(self) -> None:
        """Wait until every queued operation has finished (their errors stay in their Work)."""
        last = self._last
        if last is not None:
            last._done.wait()
            self._last = None

    def pending(self) -> bool:
        return self._last is not None and not self._last.is_completed()

    def stop(self) -> None:
        """Finish the queue, then end the thread."""
        self.drain()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            run, work = item
            try:
                run()
            except BaseException as e:  # noqa: BLE001 - handed to whoever waits on the Work
                work._finish(e)
            else:
                work._finish()
            del run, work, item  # drop the tensors of a finished operation now
