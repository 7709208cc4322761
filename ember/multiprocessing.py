"""torch.multiprocessing for ember: Python's ``multiprocessing`` (every name of it is here too,
``Process``, ``Queue``, ``get_context`` …) plus torch's ``spawn``/``start_processes``, which run
``fn(i, *args)`` in N processes and turn a failure in any of them into an exception in the
parent that carries the child's traceback, and the sharing-strategy calls.

Tensors sent through a Queue are pickled with their arrays (a copy); a tensor that should be
one memory for several processes is made so with ``share_memory_()`` before the processes
start (``backend_memory.py``), as in a Hogwild run.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import tempfile
import time
import traceback
from multiprocessing import *  # noqa: F403 - torch.multiprocessing re-exports them too

_STRATEGIES = ("file_descriptor", "file_system")
_strategy = ["file_descriptor"]


def get_all_sharing_strategies() -> set:
    """torch's: the strategies this platform offers (ember shares memory by one mechanism,
    backend_memory.py, whichever is chosen)."""
    return set(_STRATEGIES)


def get_sharing_strategy() -> str:
    return _strategy[0]


def set_sharing_strategy(new_strategy: str) -> None:
    if new_strategy not in _STRATEGIES:
        raise ValueError(
            f"set_sharing_strategy: {new_strategy!r} is not one of {sorted(_STRATEGIES)}"
        )
    _strategy[0] = new_strategy


class ProcessException(Exception):
    """A spawned process failed: ``error_index`` is its index i, ``pid`` its process id."""

    def __init__(self, msg: str, error_index: int, pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """The function raised in process ``error_index``; the message ends with its traceback."""


class ProcessExitedException(ProcessException):
    """Process ``error_index`` ended with a non-zero exit code or a signal, without a Python
    exception (``exit_code``; ``signal_name`` when a signal ended it)."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        args = (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)
        return type(self), args


def _wrap(fn, i: int, args: tuple, error_file: str) -> None:
    """The child's entry point: fn(i, *args); an exception's traceback goes to error_file."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent stops the others; SIGINT is not an error of this process
    except Exception:  # noqa: BLE001 - every error reaches the parent with its traceback
        with open(error_file, "w") as f:
            f.write(traceback.format_exc())
        raise SystemExit(1) from None


class ProcessContext:
    """The processes ``start_processes`` started; ``join`` waits for them (torch's)."""

    def __init__(self, processes: list, error_files: list, folder: str | None = None) -> None:
        self.processes, self.error_files, self.folder = processes, error_files, folder
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self) -> list[int]:
        return [int(p.pid) for p in self.processes]

    def join(self, timeout: float | None = None, grace_period: float | None = None) -> bool:
        """Wait up to ``timeout`` s for a process to end. True when all have ended well;
        False while some still run. When one fails, the others are terminated (SIGTERM,
        then SIGKILL after ``grace_period``) and the failure is raised here."""
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(list(self.sentinels), timeout=timeout)
        failed = None
        for sentinel in ready:
            i = self.sentinels.pop(sentinel)
            p = self.processes[i]
            p.join()
            if p.exitcode != 0:
                failed = i
                break
        if failed is None:
            if not self.sentinels:
                self._clean()
            return not self.sentinels
        self._stop_others(grace_period)
        error = self._failure(failed)
        self._clean()
        raise error

    def _clean(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _stop_others(self, grace_period: float | None) -> None:
        for p in self.processes:
            if p.is_alive():
                p.terminate()
        deadline = time.monotonic() + (grace_period or 0)
        for p in self.processes:
            p.join(max(0.0, deadline - time.monotonic()) if grace_period else None)
            if p.is_alive():
                p.kill()
                p.join()
        self.sentinels.clear()

    def _failure(self, i: int) -> ProcessException:
        p, path = self.processes[i], self.error_files[i]
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                original = f.read()
            msg = f"\n\n-- Process {i} terminated with the following error:\n{original}"
            return ProcessRaisedException(msg, i, p.pid)
        if p.exitcode < 0:
            name = signal.Signals(-p.exitcode).name
            msg = f"process {i} terminated with signal {name}"
            return ProcessExitedException(msg, i, p.pid, p.exitcode, name)
        msg = f"process {i} terminated with exit code {p.exitcode}"
        return ProcessExitedException(msg, i, p.pid, p.exitcode)


def start_processes(
    fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
    start_method: str = "spawn",
):  # fmt: skip
    """torch's: start ``nprocs`` processes running ``fn(i, *args)`` (i = 0 … nprocs − 1) by
    ``start_method``; with ``join`` wait for all (raising a failure of any, with its
    traceback), else return their ProcessContext. ``fn`` must be importable by name (a
    module-level function) for the "spawn" and "forkserver" methods."""
    ctx = multiprocessing.get_context(start_method)
    errors = tempfile.mkdtemp(prefix="ember-spawn-")
    processes, files = [], []
    for i in range(nprocs):
        path = os.path.join(errors, f"{i}.err")
        p = ctx.Process(target=_wrap, args=(fn, i, tuple(args), path), daemon=daemon)
        p.start()
        processes.append(p)
        files.append(path)
    context = ProcessContext(processes, files, errors)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn"):  # fmt: skip
    """torch.multiprocessing.spawn: start_processes with the "spawn" method by default."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
