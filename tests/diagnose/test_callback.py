"""DiagnosticsCallback driven by a tiny hand-written loop that follows the callback contract."""

import json
import warnings

import pytest

import ember
import ember.nn as nn
import ember.optim as optim
from ember import function
from ember.diagnose import DiagnosticsCallback, EmberWarning
from ember.nn.module import Module
from tests.diagnose._loop import tiny_fit


def batches(n, fixed=False):
    x, t = ember.randn(32, 16), ember.randint(0, 4, (32,))
    for _ in range(n):
        yield (x, t) if fixed else (ember.randn(32, 16), ember.randint(0, 4, (32,)))


def mlp(bias=0.0):
    model = nn.Sequential(
        nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4)
    )
    nn.init.constant_(model[2].bias, bias)
    return model


def test_records_gradients_and_activations_into_run_dir(tmp_path):
    model = mlp(bias=-20.0)  # layer '3' dead from the start
    opt = optim.Adam(model.parameters(), lr=1e-3)
    cb = DiagnosticsCallback(every=5, activations_every=10)
    tiny_fit(model, opt, batches(20), [cb], run_dir=tmp_path)
    lines = [json.loads(s) for s in (tmp_path / "diagnostics.jsonl").read_text().splitlines()]
    assert lines == cb.records
    grads = [r for r in lines if r["kind"] == "gradients"]
    acts = [r for r in lines if r["kind"] == "activations"]
    assert [r["step"] for r in grads] == [1, 5, 10, 15, 20]
    # the capture armed after step 0 (start) and step 10 records the next step's forward
    assert [r["step"] for r in acts] == [0, 10] and acts[0]["at_init"] is True
    assert acts[0]["problems"][0]["layer"] == "3" and acts[0]["problems"][0]["kind"] == "dead"
    # no gradient gets past the dead layer: every weight's gradient is exactly zero
    for name in ("0.weight", "2.weight", "4.weight"):
        assert grads[0]["params"][name]["grad_norm"] == 0.0
        assert "vanishing" in grads[0]["params"][name]["flags"]
    assert grads[0]["params"]["4.bias"]["grad_norm"] > 0
    assert any(p["kind"] == "vanishing" for p in grads[-1]["problems"])
    # everything is switched off again after training
    assert function.observers == [] and Module.__call__.__name__ == "__call__"


def test_without_run_dir_keeps_records_in_memory():
    model = mlp()
    cb = DiagnosticsCallback(every=2, activations_every=0)
    tr = tiny_fit(model, optim.SGD(model.parameters(), lr=0.01), batches(4), [cb])
    assert [r["kind"] for r in cb.records] == ["gradients"] * 3
    last = cb.records[-1]
    p = last["params"]["0.weight"]
    assert p["grad_norm"] > 0 and 0 < p["update_ratio"] < 0.1 and p["shape"] == [32, 16]
    assert last["loss"] == pytest.approx(tr.history[-1]["loss"]) and last["step"] == 4


def test_loss_that_does_not_move_warns_once():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.0)  # the mistake: nothing learns
    cb = DiagnosticsCallback(every=10, activations_every=0, stall_steps=40)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        tiny_fit(model, opt, batches(80), [cb])  # fresh random batches: the loss is noisy
    ws = [w for w in rec if issubclass(w.category, EmberWarning)]
    assert len(ws) == 1 and "has not moved in 40 steps" in str(ws[0].message)
    assert "lr=0.0" in str(ws[0].message)
    assert [r["key"] for r in cb.records if r["kind"] == "warning"] == ["loss-not-moving"]
    flags = [r for r in cb.records if r["kind"] == "gradients"][-1]["params"]["0.weight"]["flags"]
    assert "no-update" in flags


def test_learning_loss_does_not_warn():
    model = mlp()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    cb = DiagnosticsCallback(every=10, activations_every=0, stall_steps=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmberWarning)
        tr = tiny_fit(model, opt, batches(80, fixed=True), [cb])
    assert tr.history[-1]["loss"] < 0.5 * tr.history[0]["loss"]


def test_bad_interval_is_refused():
    with pytest.raises(ValueError, match="positive number of steps"):
        DiagnosticsCallback(every=0)


def test_an_armed_capture_switches_itself_off_after_the_forward():
    """If training stops between arming and the next backward, nothing stays installed."""
    from ember.diagnose.activations import ActivationCapture
    from ember.nn.module_tracking import stop_tracking

    plain = Module.__call__
    model = mlp()
    cap = ActivationCapture(model).start()
    assert Module.__call__ is not plain and cap in function.observers
    model(ember.randn(4, 16))
    assert Module.__call__ is plain and function.observers == []
    assert [r.name for r in cap.result().layers] == ["0", "1", "2", "3", "4"]
    model(ember.randn(4, 16))  # a second forward is not recorded
    assert len(cap.rows) == 5
    cap.stop()  # idempotent
    with pytest.raises(RuntimeError, match="without a matching"):
        stop_tracking()


def test_training_only_capture_lets_an_eval_forward_through():
    from ember.diagnose.activations import ActivationCapture

    model = mlp()
    cap = ActivationCapture(model, training_only=True).start()
    model.eval()
    with ember.no_grad():
        model(ember.randn(4, 16))  # validation between two training steps
    assert cap.rows == [] and cap in function.observers
    model.train()
    model(ember.randn(8, 16))
    assert len(cap.rows) == 5 and cap.batch_size == 8 and function.observers == []


def test_state_dict_resumes_intervals_without_a_second_initialisation(tmp_path):
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.01)
    first = DiagnosticsCallback(every=5, activations_every=10)
    tiny_fit(model, opt, batches(7), [first], run_dir=tmp_path)
    state = json.loads(json.dumps(first.state_dict()))  # checkpoints keep it as JSON
    resumed = DiagnosticsCallback(every=5, activations_every=10)
    resumed.load_state_dict(state)
    tr = tiny_fit(model, opt, batches(3), [resumed], run_dir=tmp_path)
    assert tr.step == 3 and resumed.state_dict()["steps_seen"] == 10
    assert [r["at_init"] for r in resumed.records if r["kind"] == "activations"] == [False]
    assert len(resumed.state_dict()["losses"]) == 10
    assert [r for r in resumed.records if r["kind"] == "gradients"][0]["loss"] is not None
