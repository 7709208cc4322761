"""ember.train.tensorboard_callback: a fit() run's records as TensorBoard scalars."""

import glob
import os
import struct

import numpy as np
import pytest

from ember import optim
from ember.data import DataLoader, TensorDataset
from ember.models import MLP
from ember.train import Trainer, fit
from ember.train.tensorboard_callback import TensorBoardCallback
from ember.utils.tensorboard import SummaryWriter, read_records
from ember.utils.tensorboard.proto import decode


def _scalars(log_dir):
    """{tag: [(step, value)]} from the folder's event files (Event 2 step, 5 summary; Value
    1 tag, 2 simple_value)."""
    out = {}
    for path in sorted(glob.glob(os.path.join(str(log_dir), "events.out.tfevents.*"))):
        for data in read_records(path):
            ev = decode(data)
            for v in decode(ev.get(5, [b""])[0]).get(1, []):
                f = decode(v)
                value = struct.unpack("<f", f[2][0])[0]
                out.setdefault(f[1][0].decode(), []).append((ev.get(2, [0])[0], value))
    return out


def _loaders():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 120)
    centres = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    x = (centres[y] + 0.5 * rng.standard_normal((120, 2))).astype(np.float32)
    ds = TensorDataset(x, y.astype(np.int64))
    return DataLoader(ds, batch_size=20, shuffle=True, seed=1), DataLoader(ds, batch_size=60)


def _close(a, b):
    return a == pytest.approx(b, rel=1e-6)  # float32 on disk


def test_callback_logs_the_runs_records(tmp_path):
    train, val = _loaders()
    model = MLP(2, (8,), 3)
    history = fit(
        model, optim.SGD(model.parameters(), lr=0.1), train, val, epochs=2, progress=False,
        log_every=3, run_dir=tmp_path, callbacks=[TensorBoardCallback(step_loss=True)],
    )  # fmt: skip
    got = _scalars(tmp_path / "tensorboard")  # the default: <run_dir>/tensorboard
    trains = [r for r in history if r["split"] == "train"]
    vals = [r for r in history if r["split"] == "val"]
    assert [s for s, _ in got["train/loss"]] == [r["step"] for r in trains] == [3, 6, 9, 12]
    assert all(_close(v, r["loss"]) for (_, v), r in zip(got["train/loss"], trains))
    assert [s for s, _ in got["val/loss"]] == [6, 12]
    assert all(_close(v, r["accuracy"]) for (_, v), r in zip(got["val/accuracy"], vals))
    assert all(_close(v, r["train_loss"]) for (_, v), r in zip(got["train/epoch_loss"], vals))
    assert "train/epoch_accuracy" in got
    assert [s for s, _ in got["lr"]] == [3, 6, 9, 12] and _close(got["lr"][0][1], 0.1)
    assert [s for s, _ in got["train/step_loss"]] == list(range(1, 13))


def test_callback_with_a_given_writer_and_log_dir(tmp_path):
    train, val = _loaders()
    model = MLP(2, (8,), 3)
    with SummaryWriter(tmp_path / "mine") as writer:
        cb = TensorBoardCallback(writer=writer)
        Trainer(model, optim.SGD(model.parameters(), lr=0.1), callbacks=[cb], progress=False,
                log_every=100).fit(train, val, epochs=1)  # fmt: skip
        assert cb.writer is writer  # used, flushed, not closed
        writer.add_scalar("after", 1.0, 0)
    assert set(_scalars(tmp_path / "mine")) >= {"val/loss", "train/epoch_loss", "lr", "after"}
    cb = TensorBoardCallback(tmp_path / "tb")
    fit(model, optim.SGD(model.parameters(), lr=0.1), train, epochs=1, progress=False,
        log_every=2, callbacks=[cb])  # fmt: skip
    assert cb.writer is None and len(_scalars(tmp_path / "tb")["train/loss"]) == 3


def test_resume_purges_what_followed_the_checkpoint(tmp_path):
    train, val = _loaders()
    model = MLP(2, (8,), 3)
    run = dict(progress=False, log_every=3, run_dir=tmp_path)
    fit(model, optim.SGD(model.parameters(), lr=0.1), train, val, epochs=1,
        callbacks=[TensorBoardCallback()], **run)  # fmt: skip
    model = MLP(2, (8,), 3)
    fit(model, optim.SGD(model.parameters(), lr=0.1), train, val, epochs=2, resume=tmp_path,
        callbacks=[TensorBoardCallback()], **run)  # fmt: skip
    first, second = sorted(glob.glob(str(tmp_path / "tensorboard" / "events.out.tfevents.*")))
    starts = [decode(d) for d in read_records(second)][1:3]
    assert starts[0][2] == [7] and starts[0][3] == [b"brain.Event:2"]  # purge after step 6
    assert starts[1][2] == [7] and decode(starts[1][7][0]) == {1: [1]}  # SessionLog START
    steps = [s for s, _ in _scalars(tmp_path / "tensorboard")["train/loss"]]
    assert steps == [3, 6, 9, 12]  # the resumed run logs only what came after step 6
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = ea.EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    assert [e.step for e in acc.Scalars("val/loss")] == [6, 12]
    assert [e.step for e in acc.Scalars("train/loss")] == [3, 6, 9, 12]
