"""The training loop: learning, metrics files, callbacks, schedulers, clipping, early stopping,
and stopping on a non-finite loss with the last good checkpoint kept."""

import json
import math

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.data import DataLoader, TensorDataset, load_digits
from ember.models import MLP
from ember.train import HOOKS, EarlyStopping, Trainer, accuracy, fit, load_checkpoint


def _blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    x = (centres[y] + 0.5 * rng.standard_normal((n, 2))).astype(np.float32)
    return TensorDataset(x, y.astype(np.int64))


def _loaders(batch_size=20):
    return (
        DataLoader(_blobs(200, 0), batch_size=batch_size, shuffle=True, seed=1),
        DataLoader(_blobs(60, 1), batch_size=64),
    )


def test_accuracy():
    z = ember.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(z, ember.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=r"targets of shape \(3,\)"):
        accuracy(z, ember.tensor([0, 1]))


def test_fit_learns_and_writes_the_run_folder(tmp_path):
    train, val = _loaders()
    model = MLP(2, (16,), 3)
    history = fit(
        model, optim.Adam(model.parameters(), lr=0.02), train, val, epochs=4,
        run_dir=tmp_path, progress=False, log_every=5,
    )  # fmt: skip
    vals = [r for r in history if r["split"] == "val"]
    assert [r["epoch"] for r in vals] == [1, 2, 3, 4]
    assert vals[-1]["accuracy"] > 0.95 and vals[-1]["loss"] < vals[0]["loss"]
    trains = [r for r in history if r["split"] == "train"]
    assert trains[0]["loss"] > trains[-1]["loss"] and {"step", "epoch", "lr"} <= set(trains[0])
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines == list(history)
    assert {p.name for p in tmp_path.iterdir()} >= {
        "metrics.jsonl", "checkpoint.safetensors", "checkpoint.json", "best.safetensors",
    }  # fmt: skip
    summary = json.loads((tmp_path / "checkpoint.json").read_text())
    assert summary["epoch"] == 4 and summary["step"] == 40
    state = load_checkpoint(tmp_path)
    assert np.array_equal(state["model"]["3.weight"].array, model[3].weight.array)


def test_small_mlp_on_digits_reaches_97_percent(shared_data):
    ember.manual_seed(0)
    data = load_digits(root=shared_data / "digits")
    model = MLP(64, (128,), 10)
    train = DataLoader(data.train, batch_size=32, shuffle=True)
    test = DataLoader(data.test, batch_size=512)
    history = fit(
        model, optim.Adam(model.parameters(), lr=3e-3), train, epochs=20,
        test_loader=test, progress=False,
    )  # fmt: skip
    assert history.last("test")["accuracy"] >= 0.97


class Recorder:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        if name not in HOOKS:
            raise AttributeError(name)
        return lambda trainer, *args: self.calls.append((name, trainer.step, trainer.epoch, args))


def test_every_callback_hook_is_called_in_order():
    train, val = _loaders(batch_size=100)  # 2 steps per epoch
    rec = Recorder()
    model = MLP(2, (4,), 3)
    fit(model, optim.SGD(model.parameters(), lr=0.1), train, val, epochs=2,
        callbacks=[rec], progress=False)  # fmt: skip
    names = [c[0] for c in rec.calls]
    epoch = ["on_after_backward", "on_step_end"] * 2 + ["on_validation_end", "on_epoch_end"]
    assert names == ["on_train_begin"] + epoch * 2 + ["on_train_end"]
    val_call = next(c for c in rec.calls if c[0] == "on_validation_end")
    assert set(val_call[3][0]) == {"loss", "accuracy"} and val_call[1:3] == (2, 1)


def test_on_after_backward_sees_gradients_and_a_callback_can_stop():
    seen = []

    class Stop:
        def on_after_backward(self, trainer):
            seen.append(all(p.grad is not None for p in trainer.model.parameters()))

        def on_step_end(self, trainer):
            if trainer.step == 3:
                trainer.should_stop = True

    train, _ = _loaders()
    model = MLP(2, (4,), 3)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), callbacks=[Stop()],
                      progress=False)  # fmt: skip
    trainer.fit(train, epochs=5)
    assert trainer.step == 3 and seen == [True] * 3


class Halving:
    """A minimal scheduler with torch's interface: lr ← lr / 2 per step()."""

    def __init__(self, optimizer):
        self.optimizer, self.last_epoch = optimizer, 0

    def step(self):
        self.last_epoch += 1
        for g in self.optimizer.param_groups:
            g["lr"] /= 2

    def state_dict(self):
        return {"last_epoch": self.last_epoch}

    def load_state_dict(self, state):
        self.last_epoch = state["last_epoch"]


@pytest.mark.parametrize("interval", ["epoch", "step"])
def test_scheduler_is_stepped_per_epoch_or_per_step(interval):
    train, val = _loaders(batch_size=100)
    model = MLP(2, (4,), 3)
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = Halving(opt)
    h = fit(model, opt, train, val, epochs=3, scheduler=sched, scheduler_interval=interval,
            progress=False, log_every=1)  # fmt: skip
    lrs = [r["lr"] for r in h if r["split"] == "train"]
    if interval == "epoch":
        assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25] and sched.last_epoch == 3
    else:
        assert lrs == [1.0, 0.5, 0.25, 0.125, 0.0625, 2**-5] and sched.last_epoch == 6


def test_plateau_scheduler_gets_the_validation_loss():
    got = []

    class ReduceLROnPlateau:
        def step(self, metric):
            got.append(metric)

        def state_dict(self):
            return {}

    train, val = _loaders(batch_size=100)
    model = MLP(2, (4,), 3)
    h = fit(model, optim.SGD(model.parameters(), lr=0.1), train, val, epochs=2,
            scheduler=ReduceLROnPlateau(), progress=False)  # fmt: skip
    assert got == [r["loss"] for r in h if r["split"] == "val"]


def test_gradient_clipping_bounds_the_update():
    train, _ = _loaders(batch_size=200)
    model = MLP(2, (8,), 3)
    before = [p.array.copy() for p in model.parameters()]
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=1.0), clip_grad_norm=1e-3,
                      progress=False)  # fmt: skip
    trainer.fit(train, epochs=1)
    step = math.sqrt(sum(((p.array - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    assert trainer.grad_norm > 1e-2 and step <= 1e-3 * (1 + 1e-4)


def test_early_stopping_on_a_flat_validation_loss():
    assert [EarlyStopping(2).update(v) for v in [1.0]] == [True]
    es = EarlyStopping(patience=2)
    assert [es.update(v) for v in [1.0, 0.9, 0.95, 0.91]] == [True, True, False, False]
    assert es.should_stop
    train, val = _loaders(batch_size=100)
    model = MLP(2, (4,), 3)
    h = fit(model, optim.SGD(model.parameters(), lr=0.0), train, val, epochs=10,
            early_stopping=2, progress=False)  # fmt: skip
    assert [r["epoch"] for r in h if r["split"] == "val"] == [1, 2, 3]
    assert "early stopping" in h.stop_reason


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    train, val = _loaders(batch_size=50)  # 4 steps per epoch

    class PoisonAtStep6:
        def on_step_end(self, trainer):
            if trainer.step == 5:  # the 6th step's forward pass will see a NaN weight
                trainer.model[1].weight.array[0, 0] = np.nan

    model = MLP(2, (4,), 3)
    h = fit(model, optim.SGD(model.parameters(), lr=0.1), train, val, epochs=3,
            callbacks=[PoisonAtStep6()], run_dir=tmp_path, progress=False)  # fmt: skip
    assert "loss is nan at step 6 (epoch 2, batch 2)" in h.stop_reason
    assert "checkpoint.safetensors (step 4)" in h.stop_reason
    assert "step 6" in capsys.readouterr().err
    state = load_checkpoint(tmp_path)
    assert state["loop"]["step"] == 4 and state["loop"]["epoch"] == 1
    assert np.isfinite(state["model"]["1.weight"].array).all()
    assert [r["epoch"] for r in h if r["split"] == "val"] == [1]


def test_loss_fn_without_accuracy_for_regression():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    model = nn.Linear(3, 1)
    h = fit(model, optim.SGD(model.parameters(), lr=0.1), loader, loader, loss_fn=nn.MSELoss(),
            epochs=20, progress=False)  # fmt: skip
    last = h.last("val")
    assert "accuracy" not in last and last["loss"] < 1e-3


def test_a_new_run_in_an_old_folder_starts_its_metrics_afresh(tmp_path):
    for _ in range(2):
        train, val = _loaders(batch_size=100)
        model = MLP(2, (4,), 3)
        fit(model, optim.SGD(model.parameters(), lr=0.1), train, val, epochs=2,
            run_dir=tmp_path, progress=False)  # fmt: skip
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines if '"val"' in x] == [1, 2]


def test_validation_every_n_steps():
    train, val = _loaders(batch_size=20)  # 10 steps per epoch
    model = MLP(2, (4,), 3)
    h = fit(model, optim.SGD(model.parameters(), lr=0.1), train, val, epochs=2, val_every=4,
            progress=False)  # fmt: skip
    assert [r["step"] for r in h if r["split"] == "val"] == [4, 8, 12, 16, 20]
    model = MLP(2, (4,), 3)
    h = fit(model, optim.SGD(model.parameters(), lr=0.0), train, val, epochs=5, val_every=3,
            early_stopping=2, progress=False)  # fmt: skip
    assert [r["step"] for r in h if r["split"] == "val"] == [3, 6, 9]
    assert "did not improve for 2 validations" in h.stop_reason


def test_sequence_targets_count_every_position():
    """(B, T, V) logits with (B, T) targets: accuracy over B·T predictions, never above 1."""

    class PerPosition(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 3)

        def forward(self, x):  # x (B, T, 2) -> (B, T, 3)
            return self.fc(x)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 5, 2)).astype(np.float32)
    y = (x[..., 0] > 0).astype(np.int64)
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    loss_fn = lambda z, t: ember.functional.cross_entropy(z.reshape(-1, 3), t.reshape(-1))  # noqa: E731
    model = PerPosition()
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.05), loss_fn, accuracy=True,
                      progress=False)  # fmt: skip
    trainer.fit(loader, loader, epochs=5)
    val = trainer.history.last("val")
    assert 0.9 < val["accuracy"] <= 1.0 and val["train_accuracy"] <= 1.0
