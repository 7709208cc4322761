"""What ember.profiler records: one FunctionEvent per op or range, their averages, and the
Recorder that makes them while a trace runs.

An event is an interval on one thread's clock, [start, end] from ``time.perf_counter_ns``
(kept in nanoseconds, reported in microseconds as torch reports them):

    cpu_time_total      = end − start                         (µs)
    self_cpu_time_total = cpu_time_total − Σ cpu_time_total(child)

where the children are the events that started and ended inside it on the same thread
(nested ops, record_function ranges). ``key_averages`` groups events by name (and, when
asked, by input shapes or by the first n source lines) and sums both totals and the calls:

    cpu_time (avg) = cpu_time_total / count

With ``profile_memory`` an op's ``self_cpu_memory_usage`` is the size in bytes of what it
returned (its outputs' nbytes: a view counts in full, and nothing freed is subtracted, so
this is the outputs' size, not the allocator's view); ``cpu_memory_usage`` adds the
children's.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from time import perf_counter_ns

from . import autograd, autograd_grad, function
from .profiler_flops import backward_flops, forward_flops
from .profiler_table import build_table, write_stacks, write_trace


class Interval:
    """An event's [start, end] in µs since the trace started (torch's ``time_range``)."""

    __slots__ = ("start", "end")

    def __init__(self, start: float, end: float):
        self.start, self.end = start, end

    def elapsed_us(self) -> float:
        return self.end - self.start

    def __repr__(self) -> str:
        return f"Interval(start={self.start:.3f}, end={self.end:.3f})"


class FunctionEvent:
    """One op's forward or backward, or one ``record_function`` range, as it happened.

    ``kind`` is "forward", "backward" or "user" (a record_function range; torch's
    ``is_user_annotation``). Times in µs; ``input_shapes`` is filled with ``record_shapes``
    (one list per array input, [] for a non-array), ``stack`` with ``with_stack``, ``flops``
    with ``with_flops`` (the matrix-product ops only, profiler_flops.py; 0 for the rest).
    """

    count = 1

    def __init__(self, id, name, kind, thread, start_ns, end_ns, children,
                 input_shapes=(), stack=(), self_memory=0, flops=0):  # fmt: skip
        self.id, self.name, self.kind, self.thread = id, name, kind, thread
        self.start_ns, self.end_ns = start_ns, end_ns
        self.cpu_children: list[FunctionEvent] = children
        self.cpu_parent: FunctionEvent | None = None
        self.input_shapes = list(input_shapes)
        self.stack = list(stack)
        self.self_cpu_memory_usage = self_memory
        self.flops = flops  # with_flops: the op's own products (profiler_flops.py)

    key = property(lambda self: self.name)
    is_user_annotation = property(lambda self: self.kind == "user")

    @property
    def time_range(self) -> Interval:
        return Interval(self.start_ns / 1000, self.end_ns / 1000)

    @property
    def cpu_time_total(self) -> float:
        return (self.end_ns - self.start_ns) / 1000

    cpu_time = cpu_time_total  # one call: the average is the total

    @property
    def self_cpu_time_total(self) -> float:
        child_ns = sum(c.end_ns - c.start_ns for c in self.cpu_children)
        return (self.end_ns - self.start_ns - child_ns) / 1000

    @property
    def cpu_memory_usage(self) -> int:
        return self.self_cpu_memory_usage + sum(c.cpu_memory_usage for c in self.cpu_children)

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name!r} kind={self.kind}"
                f" cpu_time_total={self.cpu_time_total:.3f}us"
                f" self_cpu_time_total={self.self_cpu_time_total:.3f}us"
                f" input_shapes={self.input_shapes}>")  # fmt: skip


class FunctionEventAvg:
    """The events of one key summed: ``count`` calls, total and self time (µs), memory."""

    def __init__(self, key: str):
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.flops = 0
        self.input_shapes: list | None = None
        self.stack: list[str] = []
        self.is_user_annotation = False
        self.cpu_parent = None  # set if any of the events had a parent (top_level_events_only)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def add(self, evt) -> FunctionEventAvg:
        if self.count == 0:  # torch keeps the first event's shapes
            self.input_shapes = evt.input_shapes
            self.is_user_annotation = evt.is_user_annotation
        self.count += evt.count
        self.cpu_time_total += evt.cpu_time_total
        self.self_cpu_time_total += evt.self_cpu_time_total
        self.cpu_memory_usage += evt.cpu_memory_usage
        self.self_cpu_memory_usage += evt.self_cpu_memory_usage
        self.flops += evt.flops
        if self.cpu_parent is None:
            self.cpu_parent = evt.cpu_parent
        return self

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key!r} count={self.count}"
                f" cpu_time_total={self.cpu_time_total:.3f}us"
                f" self_cpu_time_total={self.self_cpu_time_total:.3f}us"
                f" cpu_time={self.cpu_time:.3f}us input_shapes={self.input_shapes}>")  # fmt: skip


def _wildcard(name: str) -> str:
    """The schedule's step ranges ProfilerStep#3, #4 … average as one row, as in torch."""
    return "ProfilerStep*" if name.startswith("ProfilerStep#") else name


class EventList(list):
    """A list of FunctionEvents (``prof.events()``) or of their averages (``key_averages()``).

    ``str()`` of it is ``table()``.
    """

    def __init__(self, events=(), *, profile_memory=False, with_shapes=None):
        super().__init__(events)
        self.profile_memory = profile_memory
        # the Input Shapes column: raw events show theirs; averages only when grouped by them
        self.with_shapes = with_shapes

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0):
        """One FunctionEventAvg per name (and input shapes / first n stack lines if asked),
        in order of first appearance."""
        if not isinstance(group_by_stack_n, int) or group_by_stack_n < 0:
            raise ValueError(f"group_by_stack_n must be an int >= 0, got {group_by_stack_n!r}")
        stats: dict[tuple, FunctionEventAvg] = {}
        for evt in self:
            key = _wildcard(evt.key)
            group = (key, evt.is_user_annotation)
            if group_by_input_shapes:
                group += (str(evt.input_shapes),)
            if group_by_stack_n:
                group += tuple(evt.stack[:group_by_stack_n])
            avg = stats.get(group)
            if avg is None:
                avg = stats[group] = FunctionEventAvg(key)
                avg.stack = list(evt.stack[:group_by_stack_n])
            avg.add(evt)
        return EventList(stats.values(), profile_memory=self.profile_memory,
                         with_shapes=bool(group_by_input_shapes))  # fmt: skip

    def total_average(self) -> FunctionEventAvg:
        """All events summed into one row keyed "Total"."""
        total = FunctionEventAvg("Total")
        for evt in self:
            total.add(evt)
        total.input_shapes, total.cpu_parent = None, None
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80,
              header: str | None = None, top_level_events_only: bool = False) -> str:  # fmt: skip
        """A text table like torch's: Name, Self CPU %, Self CPU, CPU total %, CPU total,
        CPU time avg, (CPU Mem, Self CPU Mem,) # of Calls, (Input Shapes, Source Location).

        ``sort_by`` is one of the columns' attributes, largest first ("cpu_time_total",
        "self_cpu_time_total", "cpu_time", "count", "cpu_memory_usage",
        "self_cpu_memory_usage"); None keeps the order of first appearance. ``row_limit``
        rows at most (a negative limit shows all). Percentages are of the sum of every
        row's self time, which the last line prints.
        """
        with_shapes = self.with_shapes
        if with_shapes is None:  # raw events: show shapes if any were recorded
            with_shapes = any(e.input_shapes for e in self)
        return build_table(
            self, sort_by=sort_by, row_limit=row_limit, header=header,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width,
            top_level_events_only=top_level_events_only,
            profile_memory=self.profile_memory, with_shapes=with_shapes,
        )  # fmt: skip

    def __str__(self) -> str:
        return self.table()

    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        """Write the events as Chrome trace JSON (chrome://tracing, ui.perfetto.dev); see
        profiler_table.write_trace."""
        for evt in self:
            if not isinstance(evt, FunctionEvent):
                raise TypeError(
                    "export_chrome_trace needs the raw events (prof.events() or the profiler"
                    f" itself), not averages: got a {type(evt).__name__}"
                )
        write_trace(self, path, self.profile_memory)

    def export_stacks(self, path: str | os.PathLike, metric: str = "self_cpu_time_total"):
        """Write one line per event with a stack, "outermost;…;innermost;op value" (value in
        µs of ``metric``): the folded format flamegraph.pl and speedscope read. Needs
        ``profile(with_stack=True)``."""
        write_stacks(self, path, metric)


#: frames of the engine, of the Tensor methods (torch's C++ bindings) and of the profiler,
#: left off the top of a recorded stack, so it starts at the line that called the op
_HERE = os.path.dirname(__file__)
_ENGINE_FILES = frozenset(
    [m.__file__ for m in (function, autograd, autograd_grad)]
    + [os.path.join(_HERE, f) for f in os.listdir(_HERE) if re.fullmatch(r"tensor\w*\.py", f)]
    + [__file__, os.path.join(_HERE, "profiler.py")]
)


class _Frame:
    """An op or range that has started and not yet ended on one thread."""

    __slots__ = ("key", "t0", "children")

    def __init__(self, key):
        self.key = key  # the op's class (forward), its Function (backward), the range object
        self.children: list[FunctionEvent] = []


def _shapes(arrays) -> list:
    return [list(a.shape) if hasattr(a, "shape") else [] for a in arrays]


def _nbytes(out) -> int:
    if isinstance(out, tuple | list):
        return sum(getattr(o, "nbytes", 0) for o in out)
    return getattr(out, "nbytes", 0)


def _python_stack() -> list[str]:
    """The caller's Python stack, innermost first, without the engine's own frames."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename in _ENGINE_FILES:
        f = f.f_back
    out = []
    while f is not None and len(out) < 64:
        out.append(f"{f.f_code.co_filename}({f.f_lineno}): {f.f_code.co_name}")
        f = f.f_back
    return out


class Recorder:
    """The observer registered in ``function.observers`` while one trace records.

    Each thread has its own stack of open frames; an event closes into its parent frame's
    children. An op whose forward raised never reports its end: its frame is dropped when an
    enclosing frame closes (or the trace ends), so one failed op cannot derail the rest.
    """

    def __init__(self, record_shapes: bool, profile_memory: bool, with_stack: bool,
                 with_flops: bool = False):  # fmt: skip
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.with_stack, self.with_flops = with_stack, with_flops
        self.stacks: dict[int, list[_Frame]] = {}
        self.closed: list[FunctionEvent] = []
        self.finished = False
        self.t_origin = perf_counter_ns()

    def _stack(self) -> list[_Frame]:
        tid = threading.get_ident()
        stack = self.stacks.get(tid)
        if stack is None:
            stack = self.stacks[tid] = []
        return stack

    def _open(self, key) -> _Frame:
        frame = _Frame(key)
        self._stack().append(frame)
        frame.t0 = perf_counter_ns()  # last, so the bookkeeping above is not the op's time
        return frame

    def _close(self, key, t1, name, kind, inputs=(), outputs=None, stack=None, flops=0) -> None:
        frames = self.stacks.get(threading.get_ident())
        if not frames or self.finished:
            return
        i = len(frames) - 1
        while i >= 0 and frames[i].key is not key:
            i -= 1
        if i < 0:  # began before this trace did: no start time to measure from
            return
        frame = frames[i]
        for dead in frames[i + 1 :]:  # left open by an op that raised: drop the frame, keep
            frame.children += dead.children  # what ran after it as this frame's children
        del frames[i:]
        evt = FunctionEvent(
            len(self.closed), name, kind, threading.get_ident(),
            frame.t0 - self.t_origin, t1 - self.t_origin, frame.children,
            _shapes(inputs) if self.record_shapes else (),
            (stack if stack is not None else _python_stack()) if self.with_stack else (),
            _nbytes(outputs) if self.profile_memory else 0, flops,
        )  # fmt: skip
        for child in frame.children:
            child.cpu_parent = evt
        if frames:
            frames[-1].children.append(evt)
        self.closed.append(evt)

    # the observer protocol (function.py)
    def on_forward_start(self, cls, inputs=(), constants=None) -> None:
        self._open(cls)  # the inputs and constants are the ONNX tracer's; a timer needs none

    def on_forward(self, fn, inputs, out) -> None:
        t1 = perf_counter_ns()
        flops = forward_flops(fn, inputs, out) if self.with_flops else 0
        self._close(type(fn), t1, fn.name, "forward", inputs, out, flops=flops)

    def on_backward_start(self, fn) -> None:
        self._open(fn)

    def on_backward(self, fn, grad_outputs, grad_inputs) -> None:
        t1 = perf_counter_ns()
        flops = backward_flops(fn, grad_inputs) if self.with_flops else 0
        self._close(fn, t1, f"{fn.name}Backward", "backward", grad_outputs, grad_inputs,
                    flops=flops)  # fmt: skip

    def events(self) -> EventList:
        """The closed events, parents before their children (by start, then longest)."""
        ordered = sorted(self.closed, key=lambda e: (e.start_ns, -e.end_ns))
        return EventList(ordered, profile_memory=self.profile_memory)

    def finish(self) -> EventList:
        self.finished = True
        self.stacks.clear()  # ranges and ops still open are not part of the trace
        return self.events()
