"""Time ember against PyTorch in one process, the way PERFORMANCE.md says not to fool yourself.

Calling NumPy and torch alternately one call at a time ruins both timings (their thread pools
keep spinning and fight over the cores), so the harness warms both up and then alternates
*blocks* of runs: ``block`` ember steps, a short pause, ``block`` torch steps, a pause, and so
on for ``rounds`` rounds. Each step is timed alone; the report gives the median, the p10–p90
spread and the ratio torch/ember of the medians (> 1 means ember is faster).

Use from any benchmark file::

    from benchmarks.harness import compare, report
    result = compare("mlp", ember_step, torch_step)     # two closures, one training step each
    report([result])                                     # markdown table on stdout

``compare(..., per=n)`` divides every time by ``n`` (e.g. the number of ops in a chain) and
``unit`` names what the numbers are (ms by default, µs/op for the chain).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"

TORCH_THREADS = 2


@dataclass
class Result:
    name: str
    unit: str
    ember_median: float
    ember_p10: float
    ember_p90: float
    torch_median: float
    torch_p10: float
    torch_p90: float
    ratio: float  # torch / ember: > 1 means ember is faster
    samples: int
    note: str = ""
    extra: dict = field(default_factory=dict)


def _quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _time_block(step: Callable[[], object], n: int, out: list[float], scale: float) -> None:
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        out.append((time.perf_counter() - t0) * scale)


def setup_torch(threads: int = TORCH_THREADS):
    """Import torch with the thread count PERFORMANCE.md's anchors were taken with."""
    import torch

    torch.set_num_threads(threads)
    return torch


def compare(
    name: str,
    ember_step: Callable[[], object],
    torch_step: Callable[[], object],
    *,
    warmup: int = 10,
    block: int = 20,
    rounds: int = 5,
    pause: float = 0.05,
    per: int = 1,
    unit: str = "ms",
    note: str = "",
) -> Result:
    """Time two step closures in alternating blocks; return medians, spreads and the ratio.

    ``per`` divides each time (e.g. ops in a chain); ``unit`` is "ms" or "µs" (per ``per``).
    """
    scale = (1e3 if unit.startswith("ms") else 1e6) / per
    for _ in range(warmup):
        ember_step()
    for _ in range(warmup):
        torch_step()
    te: list[float] = []
    tt: list[float] = []
    for r in range(rounds):
        # alternate which side goes first so slow drift does not favour one
        first, second = (
            ((ember_step, te), (torch_step, tt))
            if r % 2 == 0
            else (
                (torch_step, tt),
                (ember_step, te),
            )
        )
        _time_block(first[0], block, first[1], scale)
        time.sleep(pause)
        _time_block(second[0], block, second[1], scale)
        time.sleep(pause)
    em, tm = statistics.median(te), statistics.median(tt)
    return Result(
        name=name,
        unit=unit,
        ember_median=em,
        ember_p10=_quantile(te, 0.1),
        ember_p90=_quantile(te, 0.9),
        torch_median=tm,
        torch_p10=_quantile(tt, 0.1),
        torch_p90=_quantile(tt, 0.9),
        ratio=tm / em,
        samples=len(te),
        note=note,
    )


def markdown(results: list[Result]) -> str:
    """The results as a markdown table."""
    lines = [
        "| benchmark | ember median (p10–p90) | torch median (p10–p90) | torch/ember |",
        "|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.ember_median:.3g} {r.unit} ({r.ember_p10:.3g}–{r.ember_p90:.3g})"
            f" | {r.torch_median:.3g} {r.unit} ({r.torch_p10:.3g}–{r.torch_p90:.3g})"
            f" | **{r.ratio:.2f}** |"
        )
    return "\n".join(lines)


def save(results: list[Result], path: Path = RESULTS) -> None:
    """Append the results (with time and machine load) to ``benchmarks/results.json``."""
    entries = json.loads(path.read_text()) if path.exists() else []
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    for r in results:
        entries.append({"time": stamp, "loadavg_1min": load, **asdict(r)})
    path.write_text(json.dumps(entries, indent=1) + "\n")


def report(results: list[Result], save_to: Path | None = RESULTS) -> str:
    """Print the markdown table (and append to results.json unless ``save_to`` is None)."""
    text = markdown(results)
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        text += f"\n\n(1-minute load average {load:.1f} on {os.cpu_count()} cores when measured)"
    print(text)
    if save_to is not None:
        save(results, save_to)
    return text
