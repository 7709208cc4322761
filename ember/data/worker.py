"""DataLoader workers: threads that load batches ahead, and torch's get_worker_info().

Workers are threads, not processes: NumPy releases the GIL in its copies and ufuncs, so
batch gathering overlaps with the training step, and nothing (datasets, generators) has to be
pickled to a child process. Each worker has its own task and result queue; results are read
back in the order the tasks were handed out, so batches leave in order whatever the timing.
"""

from __future__ import annotations

import collections
import multiprocessing
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..backend import use_worker_stream

if TYPE_CHECKING:
    from .dataloader import DataLoader


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What ``get_worker_info()`` answers inside a worker: its ``id`` (0 … num_workers − 1),
    ``num_workers``, ``seed`` (differs per worker and per epoch; the worker's own stream of
    ember's default generator starts from it, so ``ember.initial_seed()`` there answers it,
    as in torch) and the ``dataset`` (the loader's own object: threads share it, there is no
    per-worker copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any
    worker_method: str = "thread"


_local = threading.local()


def get_worker_info() -> WorkerInfo | None:
    """The calling DataLoader worker's WorkerInfo; None outside a worker (torch's function).
    A dataset uses it to give each worker its own shard of a stream, or its own seed."""
    return getattr(_local, "info", None)


_END = object()  # no more tasks
_EXHAUSTED = object()  # a worker's pass over an IterableDataset has ended
_STOP = object()  # tells a worker thread to return


class _Failure:
    def __init__(self, error: BaseException, worker: int) -> None:
        self.error, self.worker = error, worker


class _Workers:
    """``num_workers`` threads, each with its own task and result queue. Results are read back
    in the order the tasks were handed out, so batches leave in order whatever the timing."""

    def __init__(self, loader: DataLoader, make_work: Callable, seed: int) -> None:
        n, self.timeout = loader.num_workers, loader.timeout
        init_fn = loader.worker_init_fn
        if loader.persistent_workers and loader._workers_started:
            init_fn = None  # torch's persistent workers are initialised once, not every epoch
        loader._workers_started = True
        self.tasks = [queue.SimpleQueue() for _ in range(n)]
        self.results = [queue.SimpleQueue() for _ in range(n)]
        self.order: collections.deque[int] = collections.deque()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(
                target=self._run,
                args=(w, WorkerInfo(w, n, seed + w, loader.dataset), make_work, init_fn),
                name=f"ember-DataLoader-worker-{w}",
                daemon=True,
            )
            for w in range(n)
        ]
        for t in self.threads:
            t.start()

    def _run(self, wid: int, info: WorkerInfo, make_work: Callable, init_fn) -> None:
        _local.info = info
        use_worker_stream(info.seed)  # ember's default generator, as in a torch worker
        failure = None
        try:
            if init_fn is not None:
                init_fn(wid)
            work = make_work()
        except BaseException as e:  # reported with the worker's first result
            failure = e
        while (task := self.tasks[wid].get()) is not _STOP and not self.stop.is_set():
            try:
                if failure is not None:
                    raise failure
                out = work(task)
            except BaseException as e:
                out = _Failure(e, wid)
            self.results[wid].put(out)

    def put(self, wid: int, task: Any) -> None:
        self.tasks[wid].put(task)
        self.order.append(wid)

    def get(self) -> tuple[int, Any]:
        wid = self.order.popleft()
        try:
            out = self.results[wid].get(timeout=self.timeout or None)
        except queue.Empty:
            raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds") from None
        if isinstance(out, _Failure):
            out.error.add_note(f"(raised in DataLoader worker {out.worker})")
            raise out.error
        return wid, out

    def close(self) -> None:
        self.stop.set()
        for q in self.tasks:
            q.put(_STOP)
        for t in self.threads:
            t.join()


def _check_context(context, num_workers: int) -> None:
    if context is None:
        return
    if num_workers == 0:
        raise ValueError(
            "multiprocessing_context can only be used with multi-process loading "
            f"(num_workers > 0), but got num_workers={num_workers}"
        )
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(
                f"multiprocessing_context option should specify a valid start method in "
                f"{methods!r}, but got multiprocessing_context={context!r}"
            )
    elif not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(
            "multiprocessing_context option should be a valid context object or a string "
            f"specifying the start method, but got multiprocessing_context={context!r}"
        )
