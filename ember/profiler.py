"""ember.profiler: where a training step's time goes, op by op, forward and backward.

The counterpart of ``torch.profiler``; a script that uses it runs with either import:

    from ember.profiler import profile, record_function, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("train_step"):
            loss = loss_fn(model(x), y)
            loss.backward()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")          # chrome://tracing or ui.perfetto.dev

Every op ember runs is an event: the forward of each Function, named by its class
(``Linear``, ``Conv2d``, ``LSTMLayer``), and its backward (``LinearBackward``), timed with
``time.perf_counter_ns`` from just before the op to just after it. ``record_function`` adds
a named range; what runs inside it are its children, so its total includes them and its
self time does not (profiler_events.py has the equations).

How it listens: while a trace records, a ``Recorder`` (profiler_events.py) sits in
``function.observers``, which ``apply`` and the backward engine call around every op
(``on_forward_start`` … ``on_forward``, ``on_backward_start`` … ``on_backward``). Outside a
trace nothing is registered, so the only cost is the engine's truth test per op.
"""

from __future__ import annotations

import contextlib
import enum
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterable
from time import perf_counter_ns

from .function import observers
from .mistakes import EmberWarning
from .profiler_events import EventList, FunctionEvent, FunctionEventAvg, Recorder

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "ProfilerAction",
           "ProfilerActivity", "profile", "record_function", "schedule",
           "tensorboard_trace_handler"]  # fmt: skip


class ProfilerActivity(enum.Enum):
    """What to profile. ``CPU``: host time of every op and range, which is all ember records.

    ``CUDA`` is accepted so torch scripts run unchanged, but it records host time only:
    ember's GPU backend is CuPy, whose kernels run asynchronously, so an op's time is the
    time to launch it, not to run it. Call ``ember.cuda.synchronize()`` inside a range (or
    time whole steps) to see GPU time.
    """

    CPU = "CPU"
    CUDA = "CUDA"


class ProfilerAction(enum.Enum):
    """What the profiler does during a step (torch's names): nothing, warm up unrecorded,
    record, or record and then hand the trace to ``on_trace_ready`` (the cycle's last step)."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:  # fmt: skip
    """The step → action function for ``profile(schedule=...)``, as torch's.

    After ``skip_first`` steps, cycles of ``wait`` idle steps, ``warmup`` steps run without
    recording (first-iteration effects stay out of the trace), and ``active`` recorded steps,
    the last of which saves (``on_trace_ready``); ``repeat`` cycles (0: until the profiler
    stops). ``skip_first_wait`` non-zero skips the first cycle's wait.
    """
    given = dict(wait=wait, warmup=warmup, active=active, repeat=repeat, skip_first=skip_first,
                 skip_first_wait=skip_first_wait)  # fmt: skip
    for name, value in given.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"schedule: {name} must be an int >= 0, got {value!r}")
    if active == 0:
        raise ValueError("schedule: active must be > 0 (the number of recorded steps), got 0")
    cycle = wait + warmup + active

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise ValueError(f"schedule: step must be >= 0, got {step}")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        if repeat > 0 and step >= repeat * cycle:
            return ProfilerAction.NONE
        k = step % cycle
        if k < wait:
            return ProfilerAction.NONE
        if k < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if k < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


#: the recorders of the traces recording now (several when profilers are nested)
_recording: list[Recorder] = []


class record_function(contextlib.ContextDecorator):
    """A named range: ``with record_function("data"): ...`` or ``@record_function("step")``.

    The range is its own event; the ops and ranges inside it are its children, so its
    CPU total includes their time and its self time is what is left. Outside a profiler
    it costs one truth test. ``args`` is accepted for torch's signature and not recorded.
    """

    def __init__(self, name: str, args: str | None = None):
        if not isinstance(name, str):
            raise TypeError(f"record_function: name must be a str, got {type(name).__name__}")
        self.name, self.args = name, args
        self._opened: list[list] = []  # per entry: the (recorder, frame) pairs it opened

    def _recreate_cm(self) -> record_function:
        return record_function(self.name, self.args)  # each decorated call: its own range

    def __enter__(self) -> record_function:
        self._opened.append([(rec, rec._open(self)) for rec in _recording] if _recording else [])
        return self

    def __exit__(self, *exc) -> bool:
        t1 = perf_counter_ns()
        if self._opened:
            for rec, _frame in self._opened.pop():
                rec._close(self, t1, self.name, "user", stack=[])
        return False


class profile:
    """Record every op (forward and backward) and record_function range while active.

    As torch.profiler.profile: a context manager (or ``start()``/``stop()``); ``step()``
    marks the end of a training step; with a ``schedule`` only its active steps are
    recorded, each active cycle ending in ``on_trace_ready(prof)``; without one everything
    between start and stop is one trace, handed to ``on_trace_ready`` at stop.

    record_shapes: keep each op's input shapes (``key_averages(group_by_input_shape=True)``).
    profile_memory: keep the bytes each op's outputs take (``cpu_memory_usage``): the
        outputs' size, not the allocator's view (views count in full, frees are not seen).
    with_stack: keep the Python stack that called each op (``group_by_stack_n``,
        ``export_stacks``).
    with_flops: count each matrix-product op's floating-point operations (``evt.flops``, the
        table's "Total …FLOPs" column), as torch counts mm/bmm/conv: Linear, MatMul, the
        convolutions, attention, the fused RNN layers, linear + cross-entropy, forward and
        backward (profiler_flops.py has the formulas); elementwise ops count 0.
    """

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[[profile], object] | None = None,
                 record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False):  # fmt: skip
        acts = [ProfilerActivity.CPU] if activities is None else list(activities)
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError("profile: activities must be ProfilerActivity members"
                                f" (ProfilerActivity.CPU, .CUDA), got {a!r}")  # fmt: skip
        for name, f in (("schedule", schedule), ("on_trace_ready", on_trace_ready)):
            if f is not None and not callable(f):
                raise TypeError(f"profile: {name} must be callable or None, got {f!r}")
        if with_modules:
            warnings.warn("ember.profiler does not record modules; with_modules is ignored",
                          EmberWarning, stacklevel=2)  # fmt: skip
        self.activities = set(acts)
        self.record_steps = schedule is not None  # ProfilerStep#N ranges, as torch
        self.schedule = schedule if schedule is not None else _always_record
        self.on_trace_ready = on_trace_ready
        self.record_shapes, self.profile_memory = bool(record_shapes), bool(profile_memory)
        self.with_stack, self.with_flops = bool(with_stack), bool(with_flops)
        self.step_num = 0
        self.current_action: ProfilerAction | None = None
        self._recorder: Recorder | None = None
        self._last: EventList | None = None
        self._step_range: record_function | None = None

    def _action(self, step: int) -> ProfilerAction:
        action = self.schedule(step)
        if not isinstance(action, ProfilerAction):
            raise TypeError(f"profile: schedule({step}) must return a ProfilerAction, got"
                            f" {action!r}")  # fmt: skip
        return action

    # --------------------------------------------------------------- lifecycle
    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False

    def start(self) -> None:
        if self.current_action is not None:
            raise RuntimeError("profile.start(): this profiler is already running")
        self.step_num = 0
        self.current_action = self._action(0)
        self._transit(ProfilerAction.NONE, self.current_action)
        self._enter_step_range()

    def stop(self) -> None:
        if self.current_action is None:
            raise RuntimeError("profile.stop(): the profiler is not running (call start())")
        self._exit_step_range()
        prev, self.current_action = self.current_action, None
        self._transit(prev, None)

    def step(self) -> None:
        """Signal that the next step starts; the schedule decides whether it is recorded."""
        if self.current_action is None:
            raise RuntimeError("profile.step(): the profiler is not running (use it as a"
                               " context manager or call start() first)")  # fmt: skip
        self._exit_step_range()
        prev = self.current_action
        self.step_num += 1
        self.current_action = self._action(self.step_num)
        self._transit(prev, self.current_action)
        self._enter_step_range()

    def _enter_step_range(self) -> None:
        if self.record_steps:
            self._step_range = record_function(f"ProfilerStep#{self.step_num}")
            self._step_range.__enter__()

    def _exit_step_range(self) -> None:
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None

    def _transit(self, prev: ProfilerAction, cur: ProfilerAction | None) -> None:
        """torch's action map: a trace starts on entering RECORD(_AND_SAVE); it stops on
        leaving the recorded steps or after RECORD_AND_SAVE, and is handed to
        on_trace_ready after RECORD_AND_SAVE or when the profiler stops while recording."""
        recording = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        saved = prev is ProfilerAction.RECORD_AND_SAVE
        if prev in recording and (saved or cur not in recording):
            if prev is ProfilerAction.RECORD and cur is not None:
                warnings.warn(f"Incorrect schedule: RECORD followed by {cur.name}", stacklevel=3)
            self._stop_trace()
            if saved or cur is None:
                self._trace_ready()
        elif prev is ProfilerAction.WARMUP and cur is ProfilerAction.NONE:
            warnings.warn("Incorrect schedule: WARMUP followed by NONE", stacklevel=3)
        if cur in recording and (prev not in recording or saved):
            self._start_trace()

    def _start_trace(self) -> None:
        rec = Recorder(self.record_shapes, self.profile_memory, self.with_stack, self.with_flops)
        self._recorder = rec
        # first in line: its end hook runs before other observers' work, which stays out
        # of the op's time
        observers.insert(0, rec)
        _recording.append(rec)

    def _stop_trace(self) -> None:
        rec, self._recorder = self._recorder, None
        observers.remove(rec)
        _recording.remove(rec)
        self._last = rec.finish()

    def _trace_ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # ----------------------------------------------------------------- results
    def events(self) -> EventList:
        """The events of the trace recording now, else of the last one (empty if none)."""
        if self._recorder is not None:
            return self._recorder.events()
        return self._last if self._last is not None else EventList()

    def key_averages(self, group_by_input_shape: bool = False,
                     group_by_stack_n: int = 0) -> EventList:  # fmt: skip
        """The events averaged per op name (and per input shapes / first n stack lines)."""
        if group_by_input_shape and not self.record_shapes:
            raise ValueError("key_averages(group_by_input_shape=True) needs the shapes:"
                             " profile(record_shapes=True)")  # fmt: skip
        if group_by_stack_n and not self.with_stack:
            raise ValueError("key_averages(group_by_stack_n=...) needs the stacks:"
                             " profile(with_stack=True)")  # fmt: skip
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        """Write the trace as Chrome trace JSON (see EventList.export_chrome_trace)."""
        self.events().export_chrome_trace(path)

    def export_stacks(self, path: str | os.PathLike, metric: str = "self_cpu_time_total"):
        """Write folded stacks for a flame graph; needs ``with_stack=True``."""
        if not self.with_stack:
            raise RuntimeError("export_stacks needs the stacks: profile(with_stack=True)")
        self.events().export_stacks(path, metric)


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[[profile], None]:  # fmt: skip
    """An ``on_trace_ready`` that writes each trace to ``dir_name`` as
    ``{worker}.{ms}.pt.trace.json[.gz]`` (torch's names, which TensorBoard's profiler
    plugin and Perfetto read)."""

    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json"
        prof.export_chrome_trace(os.path.join(dir_name, name + (".gz" if use_gzip else "")))

    return handler
