"""The profiler's outputs: the text table, the Chrome trace, folded stacks.

The table is laid out as torch's ``key_averages().table()``:

    Name  Self CPU %  Self CPU  CPU total %  CPU total  CPU time avg  [CPU Mem  Self CPU Mem]
          # of Calls  [Total MFLOPs]  [Input Shapes]  [Source Location]

    Self CPU % = self_cpu_time_total / Σ self_cpu_time_total over every row
    CPU total % = cpu_time_total / the same sum

The sum of self times is the profiled time counted once (every µs belongs to exactly one
event's self time), so the Self CPU % column adds up to 100 % before the row limit.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import threading

from .profiler_flops import flops_unit

#: the attributes ``sort_by`` may name: what ember records (host time, outputs' bytes, calls)
SORT_KEYS = (
    "cpu_time_total",
    "self_cpu_time_total",
    "cpu_time",
    "count",
    "cpu_memory_usage",
    "self_cpu_memory_usage",
)
_COLUMN = 12  # torch's width for the numeric columns
_GAP = "  "


def format_time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def format_share(us: float, total_us: float) -> str:
    return "NaN" if total_us == 0 else f"{us * 100.0 / total_us:.2f}%"


def format_memory(nbytes: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def check_sort_by(sort_by) -> None:
    """A clear error for a column ember does not record (torch's device columns included)."""
    if sort_by is None or sort_by in SORT_KEYS:
        return
    hint = ""
    if isinstance(sort_by, str) and any(d in sort_by for d in ("cuda", "device", "xpu")):
        hint = " (ember records host time only, so there is no device column; use cpu_time_total)"
    raise ValueError(
        f"sort_by={sort_by!r} is not a column of the profiler table{hint}; expected None or"
        f" one of: {', '.join(SORT_KEYS)}"
    )


def _trim(text: str, width: int, keep_end: bool = False) -> str:
    if len(text) <= width:
        return text
    return "..." + text[len(text) - width + 3 :] if keep_end else text[: width - 3] + "..."


def build_table(events, *, sort_by=None, row_limit=100, header=None, max_name_column_width=55,
                max_shapes_column_width=80, top_level_events_only=False, profile_memory=False,
                with_shapes=False) -> str:  # fmt: skip
    """The table of ``events`` (FunctionEvents or FunctionEventAvgs) as one string."""
    check_sort_by(sort_by)
    if not isinstance(row_limit, int) or isinstance(row_limit, bool):
        raise TypeError(f"row_limit must be an int (negative for no limit), got {row_limit!r}")
    if len(events) == 0:
        return ""
    total_self = sum(e.self_cpu_time_total for e in events)  # before the row limit, as torch
    rows = list(events)
    if sort_by is not None:
        rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
    if top_level_events_only:
        rows = [e for e in rows if e.cpu_parent is None]
    if row_limit >= 0:
        rows = rows[:row_limit]

    name_w = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_w = min(name_w, max_name_column_width)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    has_flops = any(getattr(e, "flops", 0) > 0 for e in events)
    if has_flops:  # torch's unit: that of the smallest count
        flops_scale, flops_header = flops_unit([e.flops for e in events])
        headers.append(f"Total {flops_header}")
    widths = [name_w] + [_COLUMN] * (len(headers) - 1)
    aligns = [">"] * len(headers)
    if with_shapes:
        shapes_w = max(len(str(e.input_shapes)) for e in events) + 4
        if max_shapes_column_width is not None:
            shapes_w = min(shapes_w, max_shapes_column_width)
        headers.append("Input Shapes")
        widths.append(shapes_w)
        aligns.append(">")
    has_stack = any(e.stack for e in events)
    if has_stack:
        headers.append("Source Location")
        widths.append(min(max(len(s) for e in events for s in e.stack) + 4, 75))
        aligns.append("<")

    def line(values) -> str:
        cells = [f"{v:{a}{w}}" for v, a, w in zip(values, aligns, widths)]
        return _GAP.join(cells) + _GAP

    sep = _GAP.join("-" * w for w in widths) + _GAP
    out = []
    if header is not None:
        out += ["=" * len(sep), header]
    if top_level_events_only:
        out += ["=" * len(sep), "This report only display top-level ops statistics"]
    out += [sep, line(headers), sep]
    for e in rows:
        name = e.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[: max_name_column_width - 3] + "..."
        values = [
            name,
            format_share(e.self_cpu_time_total, total_self),
            format_time(e.self_cpu_time_total),
            format_share(e.cpu_time_total, total_self),
            format_time(e.cpu_time_total),
            format_time(e.cpu_time),
        ]
        if profile_memory:
            values += [format_memory(e.cpu_memory_usage), format_memory(e.self_cpu_memory_usage)]
        values.append(e.count)
        if has_flops:
            values.append(f"{e.flops * flops_scale:8.3f}" if e.flops > 0 else "--")
        if with_shapes:
            values.append(str(e.input_shapes)[: widths[len(values)]])
        if has_stack:
            w = widths[-1]
            values.append(_trim(e.stack[0], w, keep_end=True) if e.stack else "")
            out.append(line(values))
            blank = [""] * (len(headers) - 1)
            out += [line([*blank, _trim(s, w, keep_end=True)]) for s in e.stack[1:]]
            out.append(line([*blank, ""]))
        else:
            out.append(line(values))
    out += [sep, f"Self CPU time total: {format_time(total_self)}"]
    return "\n".join(out) + "\n"


def write_trace(events, path: str | os.PathLike, profile_memory: bool) -> None:
    """Chrome trace JSON (chrome://tracing, ui.perfetto.dev) of raw events.

    One complete event (``"ph": "X"``) per op or range with ``ts`` and ``dur`` in µs since
    the trace started, ``pid`` this process and ``tid`` the thread; nesting is by
    containment on a thread, which is how the viewers draw it. A path ending ".gz" is
    gzipped.
    """
    pid = os.getpid()
    trace = [{"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
              "args": {"name": "ember"}}]  # fmt: skip
    names = {t.ident: t.name for t in threading.enumerate()}
    for tid in dict.fromkeys(e.thread for e in events):
        trace.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                      "args": {"name": names.get(tid, f"thread {tid}")}})  # fmt: skip
    for e in events:
        args = {"External id": e.id, "kind": e.kind}
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
        if profile_memory:
            args["cpu memory (bytes)"] = e.self_cpu_memory_usage
        if e.flops:
            args["flops"] = e.flops
        if e.stack:
            args["Call stack"] = ";".join(e.stack)
        trace.append({
            "ph": "X", "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
            "name": e.name, "pid": pid, "tid": e.thread,
            "ts": round(e.start_ns / 1000, 3), "dur": round((e.end_ns - e.start_ns) / 1000, 3),
            "args": args,
        })  # fmt: skip
    data = json.dumps({"traceEvents": trace, "displayTimeUnit": "ms"}).encode()
    if os.fspath(path).endswith(".gz"):
        data = gzip.compress(data)
    write_atomically(path, data)


def write_stacks(events, path: str | os.PathLike, metric: str) -> None:
    """Folded stacks, one line per event that has one: "outermost;…;innermost;op µs"."""
    if metric not in ("self_cpu_time_total", "cpu_time_total"):
        raise ValueError(
            f"metric must be 'self_cpu_time_total' or 'cpu_time_total', got {metric!r}"
            " (ember records host time only)"
        )
    lines = []
    for e in events:
        if e.stack:
            value = int(getattr(e, metric))
            lines.append(";".join([*reversed(e.stack), e.name]) + f" {value}\n")
    if not lines and len(events):
        raise RuntimeError("no stacks were recorded: use profile(with_stack=True)")
    write_atomically(path, "".join(lines).encode())


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a temporary file in ``path``'s folder, then os.replace it over
    ``path`` (atomic on POSIX and Windows): a failed write leaves the old file intact."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
