"""The benchmark harness: alternating blocks, medians and spreads, the ratio, the table, the
results file; and bench_core's two workloads compute the same thing in ember and torch."""

from __future__ import annotations

import json
import time

import numpy as np

from benchmarks import bench_core
from benchmarks.harness import compare, markdown, save


def test_compare_reports_medians_spread_and_ratio(tmp_path):
    calls = []

    def slow():
        calls.append("e")
        time.sleep(0.002)

    def fast():
        calls.append("t")
        time.sleep(0.001)

    r = compare("toy", slow, fast, warmup=1, block=3, rounds=2, pause=0.0)
    assert r.samples == 6 and calls.count("e") == 7 and calls.count("t") == 7
    # blocks alternate and the first side swaps between rounds
    assert calls[2:8] == ["e"] * 3 + ["t"] * 3 and calls[8:14] == ["t"] * 3 + ["e"] * 3
    assert r.ember_p10 <= r.ember_median <= r.ember_p90
    assert 0.2 < r.ratio < 0.9  # torch side is twice as fast here
    table = markdown([r])
    assert "| toy |" in table and f"**{r.ratio:.2f}**" in table
    path = tmp_path / "results.json"
    save([r], path)
    save([r], path)
    entries = json.loads(path.read_text())
    assert len(entries) == 2 and entries[0]["name"] == "toy" and "time" in entries[0]


def test_bench_core_workloads_agree_with_torch(torch):
    e_step, t_step = bench_core.mlp_steps(torch, batch=16)
    for _ in range(3):
        le, lt = e_step(), t_step()
        np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-4)
    e_chain, t_chain, n = bench_core.chain_steps(torch, n_ops=30)
    assert n == 31  # 10 × (mul, add, tanh) + the final sum
    e_chain()
    t_chain()
