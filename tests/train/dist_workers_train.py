"""What each rank runs in the data-parallel Trainer tests (``python -m
tests.train.dist_workers_train SCENARIO OUTDIR DATA_ROOT``), and the data, model and settings
the tests rebuild in one process to check them. Each rank writes OUTDIR/rank{r}.npz (arrays)
and OUTDIR/rank{r}.json (records, the files it opened for writing)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

import ember
import ember.distributed as dist
import ember.nn.functional as F
from ember import optim
from ember.data import DataLoader, TensorDataset, load_digits
from ember.models import MLP
from ember.train import Callback, Trainer
from tests.distributed.dist_harness import ROOT, child_env, free_port

BATCH = 8  # per rank
EPOCHS = 2
STOP_AT = 9  # mid-way through epoch 2: epoch 1 has ⌈⌈91/2⌉/8⌉ = 6 steps
LOADER_SEED = 7


# ------------------------------------------------------------ what the tests rebuild
def digits_subsets(root) -> tuple:
    """91 training examples (an odd count: the sampler pads) and 41 validation ones, float64
    rows of 64 pixels."""
    data = load_digits(root=root)
    x, y = data.train.tensors
    x = x.numpy().reshape(len(x), -1).astype(np.float64)
    y = y.numpy()
    return TensorDataset(x[:91], y[:91]), TensorDataset(x[91:132], y[91:132])


def make_model(seed: int, dropout: float = 0.0):
    ember.manual_seed(seed)
    return MLP(64, (16,), 10, dropout=dropout)


def make_optimizer(model):
    return optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


# ------------------------------------------------------------ spawning the ranks
def run_ranks(scenario: str, outdir: Path, data_root, world: int = 2, timeout: float = 60.0):
    """Start ``world`` ranks of ``scenario``; [(returncode, stdout, stderr)] and seconds taken."""
    outdir.mkdir(parents=True, exist_ok=True)
    env = {"WORLD_SIZE": world, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": free_port()}
    command = [sys.executable, "-m", "tests.train.dist_workers_train", scenario, str(outdir)]
    start = time.monotonic()
    procs = [
        subprocess.Popen(
            [*command, str(data_root)],
            cwd=ROOT,
            env=child_env(RANK=r, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for r in range(world)
    ]
    try:
        outs = [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return [(p.returncode, *o) for p, o in zip(procs, outs)], time.monotonic() - start


def load_results(outdir: Path, world: int = 2) -> tuple[list, list]:
    arrays = [dict(np.load(outdir / f"rank{r}.npz")) for r in range(world)]
    infos = [json.loads((outdir / f"rank{r}.json").read_text()) for r in range(world)]
    return arrays, infos


# ------------------------------------------------------------ the scenarios
def _params(trainer) -> dict:
    return {k: v.detach().numpy().copy() for k, v in trainer.module.state_dict().items()}


def _trainer(model, run_dir, **options):
    return Trainer(model, make_optimizer(model), run_dir=run_dir, progress=False, log_every=3,
                   **options)  # fmt: skip


def train(rank: int, base: Path, root, out: dict, info: dict) -> None:
    """Two epochs straight; the same with dropout straight and stopped + resumed."""
    train_set, val_set = digits_subsets(root)

    def loaders(seed=LOADER_SEED):
        return DataLoader(train_set, batch_size=BATCH, shuffle=True, seed=seed), DataLoader(
            val_set, batch_size=16
        )

    # 1. no dropout: checked against one process on the union of the ranks' batches. Each rank
    # starts from its own initialisation; DDP gives every rank rank 0's.
    trainer = _trainer(make_model(100 + rank), base / "straight")
    trainer.fit(*loaders(), epochs=EPOCHS)
    out.update({f"straight.{k}": v for k, v in _params(trainer).items()})
    info["sampler_seed"] = trainer.train_loader.sampler.seed
    info["history"] = list(trainer.history)
    info["wrapped"] = type(trainer.model).__name__

    # 2. with dropout (each rank its own stream): straight, and stopped mid-epoch then resumed
    # by a fresh trainer (other seeds, another loader seed: the checkpoint decides)
    trainer = _trainer(make_model(200 + rank, dropout=0.2), base / "dropout")
    trainer.fit(*loaders(), epochs=EPOCHS)
    out.update({f"dropout.{k}": v for k, v in _params(trainer).items()})
    first = _trainer(make_model(200 + rank, dropout=0.2), base / "resumed")
    first.fit(*loaders(), epochs=EPOCHS, max_steps=STOP_AT)
    info["stopped_at"] = first.step
    ember.randn(10)  # the world moves on
    second = _trainer(make_model(300 + rank, dropout=0.2), base / "resumed")
    second.fit(*loaders(seed=LOADER_SEED + 1), epochs=EPOCHS, resume=base / "resumed")
    out.update({f"resumed.{k}": v for k, v in _params(second).items()})
    info["resumed_history"] = list(second.history)

    # 3. stops that one rank alone sees: a loss that is infinite on rank 1 at the 4th step,
    # a callback on rank 0 at step 2. Every rank must stop at the same step.
    def loss_fn(output, target):
        blow_up = rank == 1 and diverging.step == 3
        return F.cross_entropy(output, target) * (math.inf if blow_up else 1.0)

    diverging = _trainer(make_model(100), None, loss_fn=loss_fn)
    diverging.fit(loaders()[0], epochs=EPOCHS)
    info["diverged"] = [diverging.diverged, diverging.step]
    out.update({f"diverged.{k}": v for k, v in _params(diverging).items()})
    callbacks = [_StopAtStep2()] if rank == 0 else []
    stopped = _trainer(make_model(100), None, callbacks=callbacks)
    stopped.fit(*loaders(), epochs=EPOCHS)
    info["stopped"] = [stopped.step, stopped.stop_reason]


class _StopAtStep2(Callback):
    def on_step_end(self, trainer) -> None:
        if trainer.step == 2:
            trainer.should_stop = True


class _Raise(Callback):
    def on_step_end(self, trainer) -> None:
        if trainer.step == 3:
            raise RuntimeError("rank 1 fails at step 3")


def fail(rank: int, base: Path, root, out: dict, info: dict) -> None:
    """Rank 1 raises in the middle of training; rank 0 must not wait for it forever."""
    train_set, val_set = digits_subsets(root)
    callbacks = [_Raise()] if rank == 1 else []
    trainer = _trainer(make_model(100), None, callbacks=callbacks)
    trainer.fit(DataLoader(train_set, batch_size=BATCH, shuffle=True), epochs=EPOCHS)


SCENARIOS = {"train": train, "fail": fail}


def _watch_writes(base: Path, written: list) -> None:
    """Record every file under ``base`` that this process opens for writing or renames."""
    prefix = str(base.resolve())
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND

    def hook(event, args):
        if event == "open" and args and isinstance(args[0], (str, os.PathLike)):
            path, mode, flags = str(args[0]), args[1], args[2]
            w = any(c in mode for c in "wax+") if isinstance(mode, str) else flags & writing
            if w and os.path.abspath(path).startswith(prefix):
                written.append(os.path.relpath(os.path.abspath(path), prefix))
        elif event in ("os.rename", "os.replace", "os.mkdir"):
            path = os.path.abspath(args[1] if event != "os.mkdir" else args[0])
            if path.startswith(prefix):
                written.append(os.path.relpath(path, prefix))

    sys.addaudithook(hook)


def main() -> None:
    scenario, outdir, root = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    ember.set_default_dtype(ember.float64)  # so the one-process check can be tight
    dist.init_process_group("gloo", timeout=timedelta(seconds=30))
    rank = dist.get_rank()
    out, info = {}, {"written": []}
    base = outdir / "runs"
    _watch_writes(base, info["written"])
    SCENARIOS[scenario](rank, base, root, out, info)
    dist.destroy_process_group()
    np.savez(outdir / f"rank{rank}.npz", **out)
    (outdir / f"rank{rank}.json").write_text(json.dumps(info))


if __name__ == "__main__":
    main()
