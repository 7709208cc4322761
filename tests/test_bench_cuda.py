"""benchmarks/bench_cuda.py in its CPU mode (ember on NumPy against torch on the CPU).

The GPU run is one-shot on a borrowed machine, so the script's whole path (building the
workloads with a device, synchronised timing, the JSON, the table, a failing workload that
does not stop the run) is exercised here on the smallest settings.
"""

from __future__ import annotations

import json

from benchmarks import bench_cuda

FAST = ["--device", "cpu", "--threads", "1", "--rounds", "1", "--warmup", "1", "--block-s", "0.01"]


def test_cpu_mode_writes_rows_with_positive_times(tmp_path, capsys):
    out = tmp_path / "r.json"
    args = FAST + ["--only", "mlp", "charlstm", "--scales", "1", "--out", str(out)]
    assert bench_cuda.main(args) == 0
    data = json.loads(out.read_text())
    assert data["device"] == "cpu" and data["ember_array_module"] == "numpy"
    assert data["tf32"] is False
    rows = {(r["name"], r["scale"]): r for r in data["rows"]}
    assert set(rows) == {("mlp", 1), ("charlstm", 1)}
    assert rows["mlp", 1]["batch"] == 128 and rows["charlstm", 1]["batch"] == 32
    for r in rows.values():
        assert r["status"] == "ok", r.get("error")
        for side in ("ember_ms", "torch_ms"):
            t = r[side]
            assert 0 < t["p10"] <= t["median"] <= t["p90"]
        assert r["ratio_torch_over_ember"] > 0
        assert r["steps"]["ember"] >= 2 and r["steps"]["torch"] >= 2
    text = capsys.readouterr().out
    table = text[text.index("## ember (numpy) vs torch") :]
    assert "| mlp ×1 | 128 |" in table and "| charlstm ×1 | 32 |" in table


def test_scaled_batch_and_a_failure_do_not_stop_the_run(tmp_path, capsys, monkeypatch):
    real_build = bench_cuda._build

    def build(name, scale, device, torch):
        if name == "lenet":
            raise RuntimeError("boom in lenet")
        return real_build(name, scale, device, torch)

    monkeypatch.setattr(bench_cuda, "_build", build)
    out = tmp_path / "r.json"
    args = FAST + ["--only", "lenet", "mlp", "--scales", "2", "--out", str(out)]
    assert bench_cuda.main(args) == 0
    rows = {r["name"]: r for r in json.loads(out.read_text())["rows"]}
    assert rows["lenet"]["status"] == "failed" and "boom in lenet" in rows["lenet"]["error"]
    assert rows["mlp"]["status"] == "ok" and rows["mlp"]["batch"] == 256
    assert rows["mlp"]["ember_ms"]["median"] > 0
    text = capsys.readouterr().out
    assert "| lenet ×2 | None | failed |" in text and "| mlp ×2 | 256 |" in text


def test_budget_marks_the_rest_skipped(tmp_path):
    out = tmp_path / "r.json"
    args = FAST + ["--only", "mlp", "--scales", "1", "--budget-s", "-1", "--out", str(out)]
    assert bench_cuda.main(args) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["name"], r["status"]) for r in rows] == [("mlp", "skipped")]
