"""ember vs torch on the CNN workloads, in one process (PERFORMANCE.md's method).

    lenet:       LeNet-5 training step: batch 64 of 1×28×28, cross-entropy, SGD lr 0.01 momentum 0.9
    basicblock:  ResNet BasicBlock (64 → 64 channels, 32×32, batch 32), forward + backward

Blocks of steps alternate between the frameworks (one call at a time would make their
thread pools fight over the cores), after a warm-up; the report is the median ms per
step with the p10–p90 spread and the ratio torch/ember (> 1: ember is faster).

    python -m benchmarks.bench_cnn [--threads 2] [--rounds 5] [--block 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

import ember
import ember.functional as F
import ember.optim
from ember.models.lenet import LeNet5
from ember.models.resnet import BasicBlock

from .harness import compare


def lenet_workload(seed: int = 0, batch: int = 64, device=None):
    """``device``: where the torch model and inputs go (None: torch's default, the CPU)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    ours = LeNet5()
    tnn = torch.nn
    theirs = tnn.Sequential()
    theirs.conv1, theirs.r1, theirs.pool1 = (
        tnn.Conv2d(1, 6, 5, padding=2),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
    )
    theirs.conv2, theirs.r2, theirs.pool2 = tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2)
    theirs.flat = tnn.Flatten()
    theirs.fc1, theirs.r3 = tnn.Linear(400, 120), tnn.ReLU()
    theirs.fc2, theirs.r4, theirs.fc3 = tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10)
    ours.load_state_dict(theirs.state_dict())
    theirs.to(device)
    opt = ember.optim.SGD(ours.parameters(), lr=0.01, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9)
    ex, ey = ember.Tensor(x), ember.Tensor(y)
    tx, ty = torch.tensor(x, device=device), torch.tensor(y, device=device)

    def ember_step():
        loss = F.cross_entropy(ours(ex), ey)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def torch_step():
        loss = torch.nn.functional.cross_entropy(theirs(tx), ty)
        topt.zero_grad()
        loss.backward()
        topt.step()

    return ember_step, torch_step


def basicblock_workload(
    seed: int = 0, channels: int = 64, size: int = 32, batch: int = 32, device=None
):
    """``device``: where the torch block and tensors go (None: the CPU, ember's grad in NumPy)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, size, size)).astype(np.float32)
    ours = BasicBlock(channels, channels)
    tnn = torch.nn

    class TBlock(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(channels, channels, 3, 1, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(channels)
            self.relu = tnn.ReLU()
            self.conv2 = tnn.Conv2d(channels, channels, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(channels)

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + x)

    theirs = TBlock()
    ours.load_state_dict(theirs.state_dict())
    theirs.to(device)
    ex = ember.Tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True, device=device)
    g = rng.standard_normal(x.shape).astype(np.float32)
    tg = torch.tensor(g, device=device)
    if device is not None:  # ember's gradient on ember's device, not copied from the host per step
        g = ember.tensor(g)

    def ember_step():
        ex.grad = None
        ours.zero_grad()
        ours(ex).backward(g)

    def torch_step():
        tx.grad = None
        theirs.zero_grad()
        theirs(tx).backward(tg)

    return ember_step, torch_step


def measure(ember_step, torch_step, rounds: int, block: int, warmup: int = 3):
    r = compare("cnn", ember_step, torch_step, warmup=warmup, block=block, rounds=rounds)
    out = {
        who: {"median_ms": med, "p10_ms": p10, "p90_ms": p90}
        for who, med, p10, p90 in (
            ("ember", r.ember_median, r.ember_p10, r.ember_p90),
            ("torch", r.torch_median, r.torch_p10, r.torch_p90),
        )
    }
    out["ratio_torch_over_ember"] = r.ratio
    return out


WORKLOADS = {"lenet": lenet_workload, "basicblock": basicblock_workload}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=int, default=10)
    parser.add_argument("--only", choices=sorted(WORKLOADS), action="append")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = {}
    print(f"{'workload':<12} {'ember ms':>10} {'torch ms':>10} {'torch/ember':>12}")
    for name in args.only or list(WORKLOADS):
        r = measure(*WORKLOADS[name](), args.rounds, args.block)
        results[name] = r
        print(
            f"{name:<12} {r['ember']['median_ms']:>10.2f} {r['torch']['median_ms']:>10.2f}"
            f" {r['ratio_torch_over_ember']:>12.2f}"
            f"   (ember p10–p90 {r['ember']['p10_ms']:.1f}–{r['ember']['p90_ms']:.1f},"
            f" torch {r['torch']['p10_ms']:.1f}–{r['torch']['p90_ms']:.1f})"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
