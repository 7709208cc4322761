"""What each rank runs in the SyncBatchNorm tests (``python -m
tests.distributed.dist_workers_syncbn SCENARIO OUTDIR``), and the data the tests recompute in
one process. Results go to OUTDIR/rank{r}.npz and OUTDIR/rank{r}.json, as dist_workers.py's.

Every scenario runs several checks in one spawn, so a test run starts few processes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import ember
import ember.distributed as dist
import ember.nn.functional as F
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP
from tests.distributed import dist_workers
from tests.distributed.dist_harness import run_ranks as harness_run_ranks

#: name: (shape after the batch dimension, dtype, SyncBatchNorm keywords)
CASES = {
    "bn2d_f64": ((3, 4, 5), "float64", {}),
    "bn2d_f32": ((3, 4, 5), "float32", {}),
    "bn1d_nc": ((4,), "float64", {}),
    "bn1d_ncl": ((4, 6), "float64", {"momentum": None}),
    "bn3d": ((2, 3, 2, 2), "float64", {"affine": False}),
}
STEPS = 2  # training forwards per case: the running statistics are updated twice

#: the rows each rank holds, by world size (3 ranks: unequal slices, and one rank empty)
SPLITS = {2: {"": (4, 4)}, 3: {"": (3, 5, 2), "empty_": (6, 0, 4)}}


def case_data(name: str, step: int, rows: int) -> dict:
    """The whole batch of one step of a case, and the layer's γ, β (what every rank loads):
    x (rows, C, ...), w the weights of the loss L = Σ w ⊙ y (so the ranks' losses add up)."""
    shape, dtype, _ = CASES[name]
    g = np.random.default_rng([sum(map(ord, name)), step])
    c = shape[0]
    return {
        # an offset mean: a cancelling Σx² − μ² formula would show in float32
        "x": (g.standard_normal((rows, *shape)) * 2 + 3).astype(dtype),
        "w": g.standard_normal((rows, *shape)).astype(dtype),
        "gamma": g.uniform(0.5, 1.5, c).astype(dtype),
        "beta": g.standard_normal(c).astype(dtype),
    }


def my_rows(a: np.ndarray, split: tuple, rank: int) -> np.ndarray:
    start = sum(split[:rank])
    return a[start : start + split[rank]]


def make_convnet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
        nn.Linear(3 * 4 * 4, 3),
    ).double()  # fmt: skip


def convnet_batch(step: int):
    g = np.random.default_rng(60 + step)
    return ember.tensor(g.standard_normal((8, 2, 4, 4))), ember.tensor(g.integers(0, 3, 8))


# ------------------------------------------------------------ message counting
class Counter:
    """Counts SyncBatchNorm's messages: it calls these two through ember.distributed."""

    def __init__(self) -> None:
        self.n = 0
        for name in ("all_gather_into_tensor", "all_reduce"):
            setattr(dist, name, self.wrap(getattr(dist, name)))

    def wrap(self, fn):
        def counted(*args, **kwargs):
            self.n += 1
            return fn(*args, **kwargs)

        return counted

    def since(self, start: int) -> int:
        return self.n - start


# ------------------------------------------------------------ scenarios
def run_cases(rank: int, world: int, out: dict, info: dict, counter: Counter) -> None:
    """Every case on this rank's rows: outputs, gradients, running statistics, eval."""
    for prefix, split in SPLITS[world].items():
        names = ["bn2d_f64"] if prefix else list(CASES)
        for name in names:
            shape, dtype, kw = CASES[name]
            tag = prefix + name
            layer = nn.SyncBatchNorm(shape[0], **kw).to(getattr(ember, dtype))
            for step in range(STEPS):
                d = case_data(name, step, sum(split))
                if layer.weight is not None:
                    layer.weight.array[...] = d["gamma"]
                    layer.bias.array[...] = d["beta"]
                    layer.weight.grad = layer.bias.grad = None
                x = ember.tensor(my_rows(d["x"], split, rank), requires_grad=True)
                start = counter.n
                y = layer(x)
                sent = counter.since(start)
                (y * ember.tensor(my_rows(d["w"], split, rank))).sum().backward()
                info[f"{tag}_messages_{step}"] = [sent, counter.since(start) - sent]
                out[f"{tag}_y_{step}"] = y.detach().numpy()
                out[f"{tag}_gx_{step}"] = x.grad.numpy()
                if layer.weight is not None:
                    out[f"{tag}_gw_{step}"] = layer.weight.grad.numpy()
                    out[f"{tag}_gb_{step}"] = layer.bias.grad.numpy()
            out[f"{tag}_rm"] = layer.running_mean.numpy()
            out[f"{tag}_rv"] = layer.running_var.numpy()
            out[f"{tag}_nbt"] = layer.num_batches_tracked.numpy()
            layer.eval()  # the running statistics, no message
            start = counter.n
            x = my_rows(case_data(name, STEPS, sum(split))["x"], split, rank)
            out[f"{tag}_eval"] = layer(ember.tensor(x)).detach().numpy()
            info[f"{tag}_eval_messages"] = counter.since(start)
    # an input that needs no gradient: γ and β get theirs, and backward sends nothing
    split = SPLITS[world][""]
    layer = nn.SyncBatchNorm(3).double()
    x = ember.tensor(my_rows(case_data("bn2d_f64", 0, sum(split))["x"], split, rank))
    start = counter.n
    layer(x).sum().backward()
    info["no_input_grad_messages"] = counter.since(start)


def syncbn(rank: int, world: int, out: dict, info: dict) -> None:
    counter = Counter()
    run_cases(rank, world, out, info, counter)
    if world != 2:
        return
    # SyncBatchNorm in DDP: three SGD steps on half a batch each
    ember.manual_seed(7)
    model = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(make_convnet()))
    info["converted"] = type(model.module[1]).__name__
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(3):
        x, y = convnet_batch(step)
        opt.zero_grad()
        F.cross_entropy(model(x[rank * 4 : rank * 4 + 4]), y[rank * 4 : rank * 4 + 4]).backward()
        opt.step()
    for k, v in model.module.state_dict().items():
        out[f"ddp_{k}"] = v.detach().numpy()
    # ranks that disagree: each raises, and the message names the layer and its input
    messages = info["errors"] = {}

    def attempt(key, layer, channels):
        try:
            layer(ember.tensor(np.arange(8.0 * channels, dtype=np.float32).reshape(2, -1, 2, 2)))
            messages[key] = None
        except (RuntimeError, ValueError) as e:
            messages[key] = f"{type(e).__name__}: {e}"

    # rank 1's model has 4 channels where rank 0's has 3
    attempt("models", nn.SyncBatchNorm(3 + rank), 3 + rank)
    # rank 1 feeds 4 channels into the same SyncBatchNorm(3): it knows why, rank 0 is told
    attempt("input", nn.SyncBatchNorm(3), 3 + rank)
    attempt("after", nn.SyncBatchNorm(3), 3)  # the group still works


SCENARIOS = {"syncbn": syncbn}


def main(scenario: str, outdir: str) -> None:
    dist_workers.main(scenario, outdir, SCENARIOS)


def run_ranks(scenario: str, world_size: int, outdir: Path, timeout: float = 60.0):
    """dist_harness.run_ranks for this module's scenarios: ([arrays], [json]) by rank."""
    return harness_run_ranks(scenario, world_size, outdir, timeout, module=__name__)


if __name__ == "__main__":
    main(*sys.argv[1:3])
