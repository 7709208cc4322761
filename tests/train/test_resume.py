"""Exact resume: a run stopped and resumed ends bit-identical to one that never stopped."""

import json

import numpy as np

import ember
from ember import optim
from ember.data import DataLoader, TensorDataset
from ember.models import MLP
from ember.train import Trainer


def _dataset():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((90, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int64) + (x[:, 3] > 1).astype(np.int64)
    return TensorDataset(x, y)


class Exponential:
    """lr = initial_lr · 0.7^last_epoch, recomputed from its own counter as torch's are."""

    def __init__(self, optimizer):
        self.optimizer, self.last_epoch = optimizer, 0
        for g in optimizer.param_groups:  # as torch's schedulers record it
            g.setdefault("initial_lr", g["lr"])

    def step(self):
        self.last_epoch += 1
        for g in self.optimizer.param_groups:
            g["lr"] = g["initial_lr"] * 0.7**self.last_epoch

    def state_dict(self):
        return {"last_epoch": self.last_epoch}

    def load_state_dict(self, state):
        self.last_epoch = state["last_epoch"]


def _trainer(seed, run_dir):
    """Everything random (init, dropout, shuffle) comes from ember's seeded generators."""
    ember.manual_seed(seed)
    model = MLP(6, (16, 16), 3, dropout=0.2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(_dataset(), batch_size=16, shuffle=True)  # seeded from ember
    val = DataLoader(_dataset(), batch_size=45)
    trainer = Trainer(model, opt, scheduler=Exponential(opt), early_stopping=10,
                      run_dir=run_dir, progress=False, log_every=2)  # fmt: skip
    return trainer, loader, val


def _params(trainer):
    return {k: v.array.copy() for k, v in trainer.model.state_dict().items()}


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), k


def test_two_epochs_stop_resume_one_equals_three_straight(tmp_path):
    straight, loader, val = _trainer(0, tmp_path / "straight")
    straight.fit(loader, val, epochs=3)

    first, loader, val = _trainer(0, tmp_path / "resumed")
    first.fit(loader, val, epochs=2)
    ember.randn(100)  # the world moves on between the two processes

    # a fresh process: other seed, fresh model, optimizer and loader; the checkpoint decides
    second, loader, val = _trainer(12345, tmp_path / "resumed")
    second.fit(loader, val, epochs=3, resume=tmp_path / "resumed")

    _same(_params(straight), _params(second))
    assert second.step == straight.step and second.epochs_done == 3
    assert second.scheduler.last_epoch == 3
    assert second.optimizer.param_groups[0]["lr"] == straight.optimizer.param_groups[0]["lr"]
    assert list(second.history) == list(straight.history)
    read = lambda d: (d / "metrics.jsonl").read_text()  # noqa: E731
    assert read(tmp_path / "resumed") == read(tmp_path / "straight")
    st = json.loads((tmp_path / "resumed" / "checkpoint.json").read_text())
    assert st["epoch"] == 3


def test_resume_from_the_middle_of_an_epoch(tmp_path):
    straight, loader, val = _trainer(0, tmp_path / "a")
    straight.fit(loader, val, epochs=2)

    first, loader, val = _trainer(0, tmp_path / "b")
    first.fit(loader, val, epochs=2, max_steps=9)  # 6 steps per epoch: stops in epoch 2
    assert first.step == 9 and first.epochs_done == 1

    second, loader, val = _trainer(7, tmp_path / "b")
    second.fit(loader, val, epochs=2, resume=tmp_path / "b")
    _same(_params(straight), _params(second))
    assert list(second.history) == list(straight.history)


def test_a_checkpoint_write_failing_mid_run_leaves_the_last_one_to_resume_from(
    tmp_path, monkeypatch
):
    import pytest

    import ember.serialization as S

    straight, loader, val = _trainer(0, tmp_path / "a")
    straight.fit(loader, val, epochs=3)

    real, checkpoints = S._write_all, []

    def fail_in_the_second_checkpoint(f, data):
        if not data.startswith(b"{") and b"ember.checkpoint/1" in data[:100_000]:
            checkpoints.append(len(data))  # a run checkpoint (not best.safetensors or .json)
            if len(checkpoints) == 2:
                real(f, data[: len(data) // 3])
                raise OSError("disk full (simulated)")
        real(f, data)

    crashed, loader, val = _trainer(0, tmp_path / "b")
    monkeypatch.setattr(S, "_write_all", fail_in_the_second_checkpoint)
    with pytest.raises(OSError, match="simulated"):
        crashed.fit(loader, val, epochs=3)
    monkeypatch.undo()
    state = ember.train.load_checkpoint(tmp_path / "b")
    assert state["loop"]["epoch"] == 1

    resumed, loader, val = _trainer(3, tmp_path / "b")
    resumed.fit(loader, val, epochs=3, resume=tmp_path / "b")
    _same(_params(straight), _params(resumed))
