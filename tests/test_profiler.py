"""ember.profiler: every op's forward and backward timed, ranges nest, schedules, export."""

import gzip
import json
import os
import re
import threading

import pytest

import ember
import ember.nn as nn
from ember import function
from ember.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule


def mlp():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))


def train_step(model, x):
    loss = model(x).pow(2).mean()
    loss.backward()
    return loss


def counts(prof, **kw):
    return {e.key: e.count for e in prof.key_averages(**kw)}


def data_rows(table: str) -> list[str]:
    """The rows between the second and the last dashed separator."""
    lines = table.splitlines()
    seps = [i for i, s in enumerate(lines) if s.startswith("---")]
    return lines[seps[1] + 1 : seps[-1]]


def test_mlp_records_each_op_forward_and_backward():
    model, x = mlp(), ember.randn(4, 8)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train_step(model, x)
    c = counts(prof)
    assert c["Linear"] == 2 and c["ReLU"] == 1
    assert c["LinearBackward"] == 2 and c["ReLUBackward"] == 1
    assert c["PowScalar"] == c["Mean"] == c["MeanBackward"] == 1
    for e in [*prof.events(), *prof.key_averages()]:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total
    avg = next(e for e in prof.key_averages() if e.key == "Linear")
    assert avg.cpu_time == pytest.approx(avg.cpu_time_total / 2)
    assert function.observers == []  # nothing left registered


def test_record_function_contains_its_children():
    model, x = mlp(), ember.randn(4, 8)
    with profile() as prof:
        with record_function("forward_pass"):
            out = model(x)
        out.sum().backward()
    (rng,) = [e for e in prof.events() if e.name == "forward_pass"]
    assert rng.is_user_annotation and rng.cpu_parent is None
    names = [c.name for c in rng.cpu_children]
    assert names == ["Linear", "ReLU", "Linear"]  # the backward ran outside the range
    for c in rng.cpu_children:
        assert c.cpu_parent is rng
        assert rng.time_range.start <= c.time_range.start <= c.time_range.end
        assert c.time_range.end <= rng.time_range.end
    children = sum(c.cpu_time_total for c in rng.cpu_children)
    assert rng.cpu_time_total >= children
    assert rng.self_cpu_time_total == pytest.approx(rng.cpu_time_total - children)


def test_record_function_as_decorator_and_recursion():
    @record_function("fact")
    def fact(n, x):
        return x if n == 0 else fact(n - 1, x * 2.0)

    with profile() as prof:
        fact(2, ember.ones(3))
    ranges = [e for e in prof.events() if e.name == "fact"]
    assert len(ranges) == 3
    outer = min(ranges, key=lambda e: e.start_ns)
    assert [c.name for c in outer.cpu_children] == ["MulScalar", "fact"]
    assert outer.cpu_children[1].cpu_children[1].cpu_children == []  # the innermost call
    assert counts(prof)["fact"] == 3
    fact(1, ember.ones(1))  # outside a profiler a range records nothing and costs nothing
    assert function.observers == []


def test_key_averages_aggregates_across_steps():
    model, x = mlp(), ember.randn(4, 8)
    with profile() as prof:
        for _ in range(3):
            train_step(model, x)
            prof.step()  # no schedule: every step recorded, no ProfilerStep ranges
    c = counts(prof)
    assert c["Linear"] == 6 and c["LinearBackward"] == 6 and c["ReLU"] == 3
    assert not any(k.startswith("ProfilerStep") for k in c)
    assert prof.step_num == 3


def test_group_by_input_shape_separates_shapes():
    lin = nn.Linear(8, 3)
    with profile(record_shapes=True) as prof:
        lin(ember.randn(4, 8))
        lin(ember.randn(7, 8))
        lin(ember.randn(7, 8))
    rows = [e for e in prof.key_averages(group_by_input_shape=True) if e.key == "Linear"]
    assert sorted((e.input_shapes[0], e.count) for e in rows) == [([4, 8], 1), ([7, 8], 2)]
    assert rows[0].input_shapes == [[4, 8], [3, 8], [3]]
    assert counts(prof)["Linear"] == 3
    table = prof.key_averages(group_by_input_shape=True).table()
    assert "Input Shapes" in table and "[[7, 8], [3, 8], [3]]" in table
    with profile() as prof:
        lin(ember.randn(4, 8))
    with pytest.raises(ValueError, match="record_shapes=True"):
        prof.key_averages(group_by_input_shape=True)


def test_schedule_records_only_active_steps():
    model, x = mlp(), ember.randn(4, 8)
    ready = []

    def on_ready(p):
        ready.append((p.step_num, counts(p), [e.name for e in p.events()]))

    sched = schedule(wait=1, warmup=1, active=2, repeat=1)
    with profile(schedule=sched, on_trace_ready=on_ready) as prof:
        for i in range(6):
            with record_function(f"iter{i}"):
                train_step(model, x)
            prof.step()
    assert len(ready) == 1
    step_num, c, names = ready[0]
    assert step_num == 4  # handed over at the step that left the active steps
    assert c["Linear"] == 4 and c["LinearBackward"] == 4 and c["ProfilerStep*"] == 2
    assert {n for n in names if n.startswith("iter")} == {"iter2", "iter3"}
    assert {n for n in names if n.startswith("ProfilerStep")} == {
        "ProfilerStep#2",
        "ProfilerStep#3",
    }
    assert counts(prof) == c  # the last trace stays readable after the profiler stops
    assert function.observers == []


def test_schedule_repeats_and_matches_torch(torch):
    ours = schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=2)
    theirs = torch.profiler.schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=2)
    assert [ours(s).name for s in range(14)] == [theirs(s).name for s in range(14)]
    assert ours(5) is ProfilerAction.RECORD_AND_SAVE
    traces = []
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=2),
                 on_trace_ready=lambda p: traces.append(counts(p))) as prof:  # fmt: skip
        for _ in range(6):
            ember.ones(2) * 3.0
            prof.step()
    assert traces == [{"ProfilerStep*": 1, "MulScalar": 1}] * 2
    with pytest.raises(ValueError, match="active must be > 0"):
        schedule(wait=1, warmup=1, active=0)
    with pytest.raises(ValueError, match="warmup must be an int >= 0, got -1"):
        schedule(wait=1, warmup=-1, active=1)


def test_on_trace_ready_without_schedule_runs_at_stop():
    seen = []
    prof = profile(on_trace_ready=lambda p: seen.append(len(p.events())))
    prof.start()
    ember.ones(2) + ember.ones(2)
    assert function.observers and not seen
    prof.stop()
    assert seen == [1] and function.observers == []


def test_export_chrome_trace(tmp_path):
    model, x = mlp(), ember.randn(4, 8)
    with profile(record_shapes=True, profile_memory=True) as prof:
        with record_function("step"):
            train_step(model, x)
    path = tmp_path / "trace.json"
    path.write_text("old")
    prof.export_chrome_trace(str(path))
    assert os.listdir(tmp_path) == ["trace.json"]  # temp file renamed over the old one
    with open(path) as f:
        trace = json.load(f)
    ops = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(ops) == len(prof.events())
    for e in ops:
        assert {"name", "ts", "dur", "pid", "tid", "cat"} <= e.keys() and e["dur"] >= 0
    (step,) = [e for e in ops if e["name"] == "step"]
    assert step["cat"] == "user_annotation"
    for e in ops:
        if e is not step:  # every op nests inside the range on the same thread
            assert e["tid"] == step["tid"]
            assert step["ts"] <= e["ts"] and e["ts"] + e["dur"] <= step["ts"] + step["dur"] + 1e-3
    lin = next(e for e in ops if e["name"] == "Linear")
    assert lin["args"]["Input Dims"] == [[4, 8], [16, 8], [16]]
    assert lin["args"]["cpu memory (bytes)"] == 4 * 16 * 4
    assert any(e["ph"] == "M" and e["name"] == "thread_name" for e in trace["traceEvents"])
    gz = tmp_path / "trace.json.gz"
    prof.export_chrome_trace(gz)
    assert len(json.loads(gzip.decompress(gz.read_bytes()))["traceEvents"]) == len(
        trace["traceEvents"]
    )
    with pytest.raises(TypeError, match="raw events"):
        prof.key_averages().export_chrome_trace(tmp_path / "x.json")


def test_table_header_names_row_limit_and_sort():
    model, x = mlp(), ember.randn(4, 8)
    with profile() as prof:
        for _ in range(2):
            train_step(model, x)
    avgs = prof.key_averages()
    table = avgs.table(sort_by="self_cpu_time_total", row_limit=100)
    header = (
        "Name    Self CPU %      Self CPU   CPU total %     CPU total  CPU time avg    # of Calls"
    )
    assert header in table and "Self CPU time total:" in table
    assert "Input Shapes" not in table and "CPU Mem" not in table
    for name in ("Linear", "ReLU", "LinearBackward", "ReLUBackward"):
        assert re.search(rf"^\s*{name}\s", table, re.M)
    rows = data_rows(table)
    assert len(rows) == len(avgs)
    expected = sorted(avgs, key=lambda e: e.self_cpu_time_total, reverse=True)
    assert [r.split()[0] for r in rows] == [e.key for e in expected]
    assert len(data_rows(avgs.table(row_limit=3))) == 3
    by_count = data_rows(avgs.table(sort_by="count", row_limit=2))
    assert [r.split()[0] for r in by_count] == ["Linear", "LinearBackward"]
    assert by_count[0].split()[-1] == "4"
    shares = [float(r.split()[1].rstrip("%")) for r in rows]
    assert sum(shares) == pytest.approx(100, abs=0.1)  # every µs in exactly one self time
    assert str(avgs) == avgs.table()


def test_invalid_sort_by_lists_valid_keys():
    with profile() as prof:
        ember.ones(2) * 2.0
    with pytest.raises(ValueError, match="expected None or one of: cpu_time_total, self_cpu"):
        prof.key_averages().table(sort_by="cpu_time_totl")
    with pytest.raises(ValueError, match="host time only"):
        prof.key_averages().table(sort_by="cuda_time_total")


def test_profile_memory_counts_output_bytes():
    lin = nn.Linear(8, 16)
    with profile(profile_memory=True) as prof:
        with record_function("fwd"):
            lin(ember.randn(5, 8)).relu()
    events = {e.name: e for e in prof.events()}
    assert events["Linear"].self_cpu_memory_usage == 5 * 16 * 4
    assert events["ReLU"].cpu_memory_usage == 5 * 16 * 4
    assert events["fwd"].self_cpu_memory_usage == 0
    assert events["fwd"].cpu_memory_usage == 2 * 5 * 16 * 4
    assert "CPU Mem" in prof.key_averages().table()


def test_observers_cleared_on_error_and_nested_profilers_both_record():
    with pytest.raises(KeyError):
        with profile():
            ember.ones(2) + 1.0
            raise KeyError("boom")
    assert function.observers == []
    with profile() as outer:
        ember.ones(2) * 2.0
        with profile() as inner:
            ember.ones(2).exp()
    assert function.observers == []
    assert counts(inner) == {"Exp": 1}
    assert counts(outer) == {"MulScalar": 1, "Exp": 1}
    prof = profile()
    with pytest.raises(RuntimeError, match="not running"):
        prof.step()
    with prof:
        with pytest.raises(RuntimeError, match="already running"):
            prof.start()
    with pytest.raises(RuntimeError, match="not running"):
        prof.stop()


def test_an_op_that_raises_does_not_derail_the_trace():
    with profile() as prof:
        with record_function("outer"):
            with pytest.raises(ValueError, match="broadcast"):
                ember.ones(2, 3) + ember.ones(4)
            ember.ones(2).exp()
    (outer,) = [e for e in prof.events() if e.name == "outer"]
    assert [c.name for c in outer.cpu_children] == ["Exp"]


def test_profiling_alongside_detect_anomaly_and_autograd_grad():
    x = ember.tensor([1.0, -1.0], requires_grad=True)
    with profile() as prof:
        with pytest.raises(RuntimeError, match="Log"):
            with ember.detect_anomaly():  # an observer without start hooks still works
                x.log()
        (g,) = ember.autograd.grad((x * x).sum(), x)
    assert g.tolist() == [2.0, -2.0]
    c = counts(prof)
    assert c["Log"] == 1 and c["MulBackward"] == 1 and c["SumBackward"] == 1
    assert function.observers == []


def test_ops_on_another_thread_get_their_own_thread_id():
    def work():
        with record_function("worker"):
            ember.ones(3).exp()

    with profile() as prof:
        t = threading.Thread(target=work)
        t.start()
        t.join()
        ember.ones(3).exp()
    events = prof.events()
    worker = next(e for e in events if e.name == "worker")
    exps = [e for e in events if e.name == "Exp"]
    assert len({e.thread for e in exps}) == 2
    assert [c.name for c in worker.cpu_children] == ["Exp"]


def test_with_stack_names_the_calling_line(tmp_path):
    with profile(with_stack=True) as prof:
        ember.ones(2).exp()  # the line the stack should point at
    (exp,) = [e for e in prof.events() if e.name == "Exp"]
    assert exp.stack[0].startswith(__file__) and "test_with_stack_names" in exp.stack[0]
    assert prof.key_averages(group_by_stack_n=1)[0].stack == exp.stack[:1]
    assert "Source Location" in prof.key_averages(group_by_stack_n=1).table()
    prof.export_stacks(tmp_path / "stacks.txt")
    line = (tmp_path / "stacks.txt").read_text().splitlines()[0]
    assert line.rsplit(" ", 1)[0].endswith(";Exp") and line.rsplit(" ", 1)[1].isdigit()
    with profile() as plain:
        ember.ones(2).exp()
    with pytest.raises(RuntimeError, match="with_stack=True"):
        plain.export_stacks(tmp_path / "s.txt")


def test_bad_arguments_get_clear_errors():
    with pytest.raises(TypeError, match="ProfilerActivity members"):
        profile(activities=["cpu"])
    with pytest.raises(TypeError, match="on_trace_ready must be callable"):
        profile(on_trace_ready="trace.json")
    with pytest.raises(TypeError, match="name must be a str"):
        record_function(3)
    with pytest.raises(TypeError, match="must return a ProfilerAction"):
        with profile(schedule=lambda step: "record"):
            pass
    assert function.observers == []
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        ember.ones(1) + ember.ones(1)
    assert counts(prof) == {"Add": 1}
    with pytest.raises(TypeError, match="row_limit must be an int"):
        prof.key_averages().table(row_limit="10")


def run_script(lib, profiler):
    """One script, written against torch.profiler; only the imports differ."""
    model = lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.ReLU(), lib.nn.Linear(16, 2))
    x = lib.randn(4, 8)
    traces = []
    with profiler.profile(
        activities=[profiler.ProfilerActivity.CPU],
        record_shapes=True,
        schedule=profiler.schedule(wait=1, warmup=1, active=2, repeat=1),
        on_trace_ready=traces.append,
    ) as prof:
        for _ in range(5):
            with profiler.record_function("train_step"):
                loss = model(x).pow(2).mean()
                loss.backward()
            prof.step()
    averages = prof.key_averages(group_by_input_shape=True)
    return len(traces), averages, averages.table(sort_by="cpu_time_total", row_limit=-1)


def test_same_script_runs_under_torch_profiler(torch):
    import torch.profiler as torch_profiler

    import ember.profiler as ember_profiler

    n_ours, ours, ours_table = run_script(ember, ember_profiler)
    n_theirs, theirs, theirs_table = run_script(torch, torch_profiler)
    assert n_ours == n_theirs == 1
    for avgs in (ours, theirs):
        c = {e.key: e.count for e in avgs}
        assert c["train_step"] == c["ProfilerStep*"] == 2
    assert re.search(r"^\s*Linear\s", ours_table, re.M) and "ReLUBackward" in ours_table
    assert "aten::linear" in theirs_table and "aten::relu" in theirs_table

    def columns(table):
        return re.split(r"\s{2,}", table.splitlines()[1].strip())

    assert columns(ours_table) == columns(theirs_table)
    assert "[[4, 8], [16, 8], [16]]" in ours_table and "[[4, 8], [16, 8], [16]]" in theirs_table


def test_tensorboard_trace_handler_writes_one_file_per_cycle(tmp_path):
    from ember.profiler import tensorboard_trace_handler

    handler = tensorboard_trace_handler(str(tmp_path / "log"), worker_name="w0")
    with profile(
        schedule=schedule(wait=0, warmup=1, active=1, repeat=1), on_trace_ready=handler
    ) as p:
        for _ in range(3):
            ember.ones(2).exp()
            p.step()
    (name,) = os.listdir(tmp_path / "log")
    assert name.startswith("w0.") and name.endswith(".pt.trace.json")
    trace = json.loads((tmp_path / "log" / name).read_text())
    assert [e["name"] for e in trace["traceEvents"] if e["ph"] == "X"] == ["ProfilerStep#1", "Exp"]
