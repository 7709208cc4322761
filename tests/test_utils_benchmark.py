"""ember.utils.benchmark against torch.utils.benchmark: the same Measurements give the same
statistics and the same Compare tables, character for character (trimmed, colorized, with
variance notes, several labels, thread counts and envs); Timer measures what it is given,
with BLAS held to num_threads."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch.utils.benchmark as tb

import ember.utils.benchmark as eb
from ember.backend_blas import blas_thread_controls

RNG = np.random.default_rng(0)
CELLS = [  # label, sub_label, description, threads, env, per-run times (s)
    ("ops", "int", "add", 1, None, [7.6e-7] * 5),
    ("ops", "int", "mul", 1, None, [8.71e-7, 8.69e-7, 8.7e-7]),
    ("ops", "float", "add", 1, None, list(1.84e-5 + 3e-6 * RNG.random(9))),  # noisy
    ("ops", "float", "mul", 1, None, [1.88e-6]),
    ("ops", "int", "add", 2, None, [7.7e-7] * 4),
    ("big", "a", "x", 1, "env1", [2.5e-3, 2.6e-3, 2.4e-3]),
    ("big", "a", "x", 1, "env2", [1.1e-2, 1.2e-2]),
    ("big", None, "y", 1, "env1", [3.3e-1]),
]


def _measurements(lib):
    spec = eb.TaskSpec if lib is eb else tb.utils.common.TaskSpec
    out = []
    for label, sub, desc, threads, env, times in CELLS:
        task = spec("x + 1", "pass", label=label, sub_label=sub, description=desc,
                    env=env, num_threads=threads)  # fmt: skip
        out.append(lib.Measurement(10, [t * 10 for t in times], task))
    return out


@pytest.mark.parametrize("options", [(), ("trim",), ("color",), ("rowcolor", "warn"),
                                     ("trim", "warn", "color")])  # fmt: skip
def test_compare_tables_are_torchs(options):
    tables = []
    for lib in (eb, tb):
        c = lib.Compare(_measurements(lib))
        if "trim" in options:
            c.trim_significant_figures()
        if "color" in options or "rowcolor" in options:
            c.colorize(rowwise="rowcolor" in options)
        if "warn" in options:
            c.highlight_warnings()
        tables.append(str(c))
    assert tables[0] == tables[1]


def test_measurement_statistics_are_torchs():
    for mine, theirs in zip(_measurements(eb), _measurements(tb)):
        for stat in ("median", "mean", "iqr"):
            assert math.isclose(getattr(mine, stat), getattr(theirs, stat), rel_tol=1e-12), stat
        assert mine.significant_figures == theirs.significant_figures
        assert mine.has_warnings == theirs.has_warnings
        assert mine.times == pytest.approx(theirs.times)
        assert repr(mine).splitlines()[1:] == repr(theirs).splitlines()[1:]  # but the address
    assert eb.select_unit(2.5e-4) == tb.select_unit(2.5e-4)
    assert eb.trim_sigfig(123.456, 2) == tb.trim_sigfig(123.456, 2)


def test_timer_measures_the_statement_with_blas_held_to_num_threads():
    controls = blas_thread_controls()
    seen = []

    def work():
        seen.append(controls[0]() if controls else None)

    before = controls[0]() if controls else None
    m = eb.Timer("work()", globals={"work": work}, num_threads=1, label="w").timeit(50)
    assert m.number_per_run == 50 and len(m.times) == 1 and m.median > 0
    if controls:
        assert set(seen) == {1} and controls[0]() == before
    m = eb.Timer("sum(range(50))", setup="pass").blocked_autorange(min_run_time=0.05)
    assert sum(m.raw_times) >= 0.05 and m.number_per_run >= 1
    m = eb.Timer("sum(range(50))").adaptive_autorange(threshold=0.5, max_run_time=1.0)
    assert len(m.times) >= 3
    assert "Median:" in repr(m) and "\nsum(range(50))\n" in repr(m)
    with pytest.raises(ValueError, match="num_threads"):
        eb.Timer("pass", num_threads=0)
