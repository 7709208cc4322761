"""torch.utils.benchmark for ember: ``Timer`` times a statement as torch's does (``timeit``,
``blocked_autorange``, ``adaptive_autorange``), ``Measurement`` holds the times with their
median, IQR and significant figures, and ``Compare`` prints several measurements as one table
(rows: sub_label, columns: description, one table per label).

``num_threads`` (1 by default, as torch) holds NumPy's BLAS and ember's own thread pool to that
many threads while the statement runs, so a measurement says how many cores it used. Not here:
callgrind instruction counts, the fuzzers, C++ statements.
"""

from __future__ import annotations

import contextlib
import enum
import math
import statistics
import textwrap
import time
import timeit
from collections.abc import Callable

from .. import threads as _threads
from ..backend_blas import blas_thread_controls

__all__ = [
    "Compare", "Language", "Measurement", "TaskSpec", "Timer", "ordered_unique",
    "select_unit", "trim_sigfig", "unit_to_english",
]  # fmt: skip

_UNITS = (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1.0))
_ENGLISH = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}
_MIN_CONFIDENCE_INTERVAL = 25e-9  # below this a time's digits are noise of the timer itself
_MAX_SIGNIFICANT_FIGURES = 4
_IQR_WARN, _IQR_GROSS_WARN = 0.1, 0.25  # IQR / median above which a measurement is noisy


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


def select_unit(t: float) -> tuple[str, float]:
    """The largest unit in which ``t`` seconds is at least 1 (ns … s), and its scale."""
    unit, scale = _UNITS[0]
    for u, s in _UNITS:
        if t >= s:
            unit, scale = u, s
    return unit, scale


def unit_to_english(u: str) -> str:
    return _ENGLISH[u]


def trim_sigfig(x: float, n: int) -> float:
    """``x`` rounded to ``n`` significant figures."""
    if x == 0:
        return 0.0
    magnitude = int(math.floor(math.log10(abs(x))))
    return round(x, n - 1 - magnitude)


def ordered_unique(elements) -> list:
    return list(dict.fromkeys(elements))


class TaskSpec:
    """What was timed: the statement, its setup and labels, the thread count."""

    def __init__(self, stmt, setup="pass", global_setup="", label=None, sub_label=None,
                 description=None, env=None, num_threads=1):  # fmt: skip
        self.stmt, self.setup, self.global_setup = stmt, setup, global_setup
        self.label, self.sub_label, self.description = label, sub_label, description
        self.env, self.num_threads = env, num_threads

    @property
    def title(self) -> str:
        stmt = self.stmt if isinstance(self.stmt, str) else self.stmt.__name__
        sub = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + sub
        if "\n" not in stmt:
            return stmt + sub
        return f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n" + textwrap.indent(
            stmt, "  "
        )

    def setup_str(self) -> str:
        if self.setup in ("pass", "", None):
            return ""
        if "\n" in self.setup:
            return "setup:\n" + textwrap.indent(self.setup, "  ")
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        """The title, description and setup lines of a Measurement's repr."""
        parts = [self.title, self.description or "", self.setup_str()]
        return "\n".join(f"{p}\n" if "\n" in p else p for p in parts if p)

    def _key(self) -> tuple:
        return (str(self.stmt), self.setup, self.global_setup, self.label, self.sub_label,
                self.description, self.env, self.num_threads)  # fmt: skip

    def __eq__(self, other) -> bool:
        return isinstance(other, TaskSpec) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


class Measurement:
    """The times of ``number_per_run`` runs each (``raw_times``, seconds) of ``task_spec``;
    ``times`` are per run. torch's statistics: median, mean, IQR, and significant figures
    from a 90% confidence interval of the median over the interquartile points."""

    def __init__(self, number_per_run: int, raw_times: list, task_spec: TaskSpec,
                 metadata: dict | None = None):  # fmt: skip
        self.number_per_run, self.raw_times = int(number_per_run), list(raw_times)
        self.task_spec, self.metadata = task_spec, metadata

    def __getattr__(self, name):  # label, sub_label, description, env, num_threads, stmt …
        spec = self.__dict__.get("task_spec")
        if spec is not None and hasattr(spec, name):
            return getattr(spec, name)
        raise AttributeError(name)

    @property
    def times(self) -> list[float]:
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    def _quartiles(self) -> tuple[float, float]:
        ts = sorted(self.times)
        if len(ts) < 2:
            return ts[0], ts[0]
        q = statistics.quantiles(ts, n=4, method="inclusive")
        return q[0], q[2]

    @property
    def iqr(self) -> float:
        lo, hi = self._quartiles()
        return hi - lo

    @property
    def significant_figures(self) -> int:
        ts = sorted(self.times)
        n = len(ts)
        middle = ts[n // 4 : math.ceil(3 * n / 4)]
        spread = statistics.stdev(middle) if len(middle) > 1 else 0.0
        interval = max(1.645 * spread / math.sqrt(len(middle)), _MIN_CONFIDENCE_INTERVAL)
        figures = int(math.floor(math.log10(self.median / interval)))
        return min(max(figures, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self) -> bool:
        return bool(self._warnings())

    def meets_confidence(self, threshold: float = _IQR_WARN) -> bool:
        return self.iqr / self.median < threshold

    def _warnings(self) -> list[str]:
        for threshold, meaning in (
            (_IQR_GROSS_WARN, "This suggests significant environmental influence."),
            (_IQR_WARN, "This could indicate system fluctuation."),
        ):
            if not self.meets_confidence(threshold):
                share = 100 * self.iqr / self.median
                return [
                    f"  WARNING: Interquartile range is {share:.1f}% of the median"
                    f" measurement.\n           {meaning}"
                ]
        return []

    def __repr__(self) -> str:
        unit, scale = select_unit(self.median)
        lo, hi = self._quartiles()
        n, threads = len(self.times), self.task_spec.num_threads
        lines = [super().__repr__(), self.task_spec.summarize()]
        lines.append(f"  {'Median: ' if n > 1 else ''}{self.median / scale:.2f} {unit}")
        if n >= 4:
            lines.append(
                f"  IQR:    {self.iqr / scale:.2f} {unit} ({lo / scale:.2f} to {hi / scale:.2f})"
            )
        lines.append(
            f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs"
            f" {'per measurement,' if n > 1 else ','} {threads} thread{'s' if threads > 1 else ''}"
        )
        return "\n".join(lines + self._warnings())

    @staticmethod
    def merge(measurements) -> list[Measurement]:
        """One Measurement per task (same stmt, labels and threads), raw times pooled."""
        groups: dict = {}
        for m in measurements:
            groups.setdefault(m.task_spec, []).append(m)
        return [Measurement(1, [t for m in ms for t in m.times], spec)
                for spec, ms in groups.items()]  # fmt: skip


@contextlib.contextmanager
def _held_to(n: int):
    """BLAS and ember's own pool held to ``n`` threads inside the block."""
    controls = blas_thread_controls()
    blas_before = controls[0]() if controls else None
    pool_before = _threads.get_num_threads()
    if controls:
        controls[1](n)
    if pool_before != n:
        _threads.set_num_threads(n)
    try:
        yield
    finally:
        if controls:
            controls[1](blas_before)
        if _threads.get_num_threads() != pool_before:
            _threads.set_num_threads(pool_before)


class Timer:
    """torch.utils.benchmark.Timer: times ``stmt`` (a string run with ``globals``, or a
    callable) after ``setup``, with ``num_threads`` threads."""

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=time.perf_counter,
                 globals=None, label=None, sub_label=None, description=None, env=None,
                 num_threads: int = 1, language=Language.PYTHON):  # fmt: skip  # noqa: A002
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError("ember's Timer runs Python statements only (language=PYTHON)")
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be an integer ≥ 1, got {num_threads!r}")
        run_setup = setup if not global_setup else f"{global_setup}\n{setup}"
        self._timer = timeit.Timer(stmt, run_setup, timer, dict(globals or {}))
        self._task_spec = TaskSpec(stmt, setup, global_setup, label, sub_label, description,
                                   env, num_threads)  # fmt: skip

    def _timeit(self, number: int) -> float:
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> Measurement:
        """One measurement of ``number`` runs (after a warm-up of up to 100 runs)."""
        with _held_to(self._task_spec.num_threads):
            self._timeit(max(int(number // 100), 2))
            return Measurement(number, [self._timeit(number)], self._task_spec)

    def _block_size(self, min_run_time: float) -> int:
        """Runs per block: enough that the timer's own overhead is ≤ 1e-4 of a block."""
        overhead = statistics.median(self._timeit(0) for _ in range(5))
        number = 1
        while True:
            taken = self._timeit(number)
            if (overhead / taken <= 1e-4 and taken >= min_run_time / 1000) or (
                taken > min_run_time or number * 10 > 2147483647
            ):
                return number
            number *= 10

    def _loop(self, number, stop: Callable[[list], bool], min_run_time, max_run_time, callback):
        times, total = [], 0.0
        while total < min_run_time or not stop(times):
            t = self._timeit(number)
            total += t
            times.append(t)
            if callback is not None:
                callback(number, t)
            if max_run_time is not None and total > max_run_time:
                break
        return times

    def blocked_autorange(self, callback=None, min_run_time: float = 0.2) -> Measurement:
        """Blocks of runs, sized so timing overhead is negligible, until ``min_run_time``
        seconds of runs are measured."""
        with _held_to(self._task_spec.num_threads):
            number = self._block_size(0.05)
            times = self._loop(number, lambda ts: True, min_run_time, None, callback)
        return Measurement(number, times, self._task_spec)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0, callback=None) -> Measurement:  # fmt: skip
        """Blocks until the IQR is within ``threshold`` of the median (at least 3 blocks and
        ``min_run_time`` s), or ``max_run_time`` s have passed."""

        def stable(times):
            if len(times) < 3:
                return False
            m = Measurement(number, times, self._task_spec)
            return m.iqr / m.median < threshold

        with _held_to(self._task_spec.num_threads):
            number = self._block_size(0.05)
            times = self._loop(number, stable, min_run_time, max_run_time, callback)
        return Measurement(number, times, self._task_spec)

    def repeat(self, repeat: int = -1, number: int = -1):
        raise NotImplementedError(
            "Timer.repeat: use timeit, blocked_autorange or adaptive_autorange"
        )


from .benchmark_compare import Compare  # noqa: E402 - the table; it builds on Measurement
