"""torch.utils.benchmark's ``Compare``: several Measurements as torch's table (benchmark.py has
the Timer and the Measurement)."""

from __future__ import annotations

import math

from .benchmark import Measurement, ordered_unique, select_unit, trim_sigfig, unit_to_english

_BEST, _GOOD, _BAD, _VERY_BAD = "\033[92m", "\033[34m", "\033[2m\033[91m", "\033[31m"
_BOLD, _END = "\033[1m", "\033[0m"


def _row_name(m: Measurement) -> str:
    spec = m.task_spec
    return spec.sub_label or (spec.stmt if isinstance(spec.stmt, str) else None) or "[Unknown]"


def _column_template(results, scale: float, trim: bool, warn: bool) -> str:
    """One format for a column's entries: as many integer digits as its largest entry, one
    decimal, or with trimming as many as its least precise entry's significant figures
    allow; room for a " (! N%)" variance note when one of its entries is noisy."""
    digits = [int(math.ceil(math.log10(m.median / scale))) for m in results]
    decimals = (
        min(max(m.significant_figures - d, 0) for d, m in zip(digits, results)) if trim else 1
    )
    width = max(digits) + decimals + (1 if decimals else 0)
    return f"{{:>{width}.{decimals}f}}{{:>{7 if warn else 0}}}"


class Compare:
    """torch's table of measurements: one table per label, a row per sub_label (grouped by
    thread count, and by ``env`` where several appear), a column per description; the unit
    is the one of the table's fastest median. ``trim_significant_figures`` rounds entries to
    their measurements' significant figures; ``colorize`` marks entries against the fastest
    of their column (or row): green within 1 %, blue within 10 %, red from 2× on;
    ``highlight_warnings`` notes " (! N%)" on entries whose IQR is over 10 % of the median."""

    def __init__(self, results) -> None:
        self._results: list[Measurement] = []
        self._trim = self._warnings = False
        self._colorize: str | None = None
        self.extend_results(results)

    def extend_results(self, results) -> None:
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        self._trim = True

    def colorize(self, rowwise: bool = False) -> None:
        self._colorize = "row" if rowwise else "column"

    def highlight_warnings(self) -> None:
        self._warnings = True

    def print(self) -> None:
        print(str(self))

    def __str__(self) -> str:
        merged = Measurement.merge(self._results)
        labels = ordered_unique(m.task_spec.label for m in merged)
        return "\n".join(self._table([m for m in merged if m.task_spec.label == label])
                         for label in labels)  # fmt: skip

    def _colored(self, text: str, value: float, best: float) -> str:
        if value <= best * 1.01 or value <= best + 100e-9:
            return _BEST + _BOLD + text + _END * 2
        if value <= best * 1.1:
            return _GOOD + _BOLD + text + _END * 2
        if value >= best * 5:
            return _VERY_BAD + _BOLD + text + _END * 2
        if value >= best * 2:
            return _BAD + text + _END * 2
        return text

    def _table(self, results: list[Measurement]) -> str:
        unit, scale = select_unit(min(m.median for m in results))
        envs = ordered_unique(m.task_spec.env for m in results)
        show_env = len(envs) > 1
        env_width = max(len(str(e)) for e in envs) if show_env else 0

        def row_key(m):
            return m.task_spec.num_threads, str(m.task_spec.env), _row_name(m)

        rows = sorted(ordered_unique(row_key(m) for m in results), key=lambda k: k[:2])
        columns = ordered_unique(m.task_spec.description for m in results)
        at = {(row_key(m), m.task_spec.description): m for m in results}
        templates = [
            _column_template([at[r, c] for r in rows if (r, c) in at], scale, self._trim,
                             self._warnings and any(at[r, c].has_warnings
                                                    for r in rows if (r, c) in at))
            for c in columns
        ]  # fmt: skip
        cells = [["", *[str(c) if c is not None else "" for c in columns]]]
        prior = None  # (threads, env) of the row above: an env is named where it changes
        for r in rows:
            env = f"({r[1]})" if show_env and (prior is None or prior != r[:2]) else ""
            prior = r[:2]
            line = ["  " + env.ljust(env_width + 4) + r[2]]
            for c, template in zip(columns, templates):
                m = at.get((r, c))
                if m is None:
                    line.append(" " * len(template.format(1.0, "")))
                    continue
                value = m.median / scale
                if self._trim:
                    value = trim_sigfig(value, m.significant_figures)
                note = f" (! {100 * m.iqr / m.median:.0f}%)" if m.has_warnings else ""
                line.append(template.format(value, note if "7" in template[-4:] else ""))
            cells.append(line)
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        header = "  |  ".join(text.center(w) for text, w in zip(cells[0], widths))
        lines, previous = [header], None
        for r, line in zip(rows, cells[1:]):
            if r[0] != previous:
                lines.append(f"{r[0]} threads: ".ljust(len(header), "-"))
                previous = r[0]
            parts = [line[0].ljust(widths[0])]
            for c, text, w in zip(columns, line[1:], widths[1:]):
                text = text.center(w)
                m = at.get((r, c))
                if self._colorize and m is not None:
                    group = (
                        [at[r, x] for x in columns if (r, x) in at]
                        if self._colorize == "row"
                        else [at[y, c] for y in rows if (y, c) in at and y[0] == r[0]]
                    )
                    text = self._colored(text, m.median, min(g.median for g in group))
                parts.append(text)
            lines.append("  |  ".join(parts))
        label = results[0].task_spec.label
        title = f"[{(' ' + (label or '') + ' ').center(len(header) - 2, '-')}]"
        noisy = self._warnings and any(m.has_warnings for m in results)
        note = (
            "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n"
            if noisy else ""
        )  # fmt: skip
        return "\n".join([title, *lines, "", f"Times are in {unit_to_english(unit)}s ({unit}).",
                          note])  # fmt: skip
