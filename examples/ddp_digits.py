"""Data-parallel training: an MLP on the 8×8 digits, two processes, one model.

python -m ember.distributed.run --nproc-per-node 2 examples/ddp_digits.py

Each process sees its own half of every epoch (DistributedSampler), computes gradients on
its half of each batch, and DistributedDataParallel averages them across the processes
before every step, so both replicas take the same steps and stay identical. Rank 0 reports
the test accuracy. Run without the launcher it trains alone (a group of one).
"""

import argparse
import os
from pathlib import Path

import ember
import ember.distributed as dist
import ember.nn.functional as F
from ember import optim
from ember.data import DataLoader, DistributedSampler, load_digits
from ember.models import MLP
from ember.nn.parallel import DistributedDataParallel as DDP


def main(argv=None) -> float:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32, help="per process")
    args = parser.parse_args(argv)

    if "RANK" in os.environ:  # started by the launcher (or torchrun)
        dist.init_process_group("gloo")
    else:  # a group of one, so the same code runs without the launcher
        dist.init_process_group("gloo", init_method="tcp://127.0.0.1:29531", rank=0, world_size=1)
    rank, world = dist.get_rank(), dist.get_world_size()

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "digits"
    data = load_digits(root=shared if shared.is_dir() else None)
    sampler = DistributedSampler(data.train, shuffle=True, seed=0)
    train = DataLoader(data.train, batch_size=args.batch_size, sampler=sampler)

    ember.manual_seed(rank)  # different on purpose: DDP starts every replica from rank 0's
    model = DDP(MLP(data.in_features, hidden_sizes=(128,), num_classes=data.num_classes))
    optimizer = optim.Adam(model.parameters(), lr=3e-3)

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        model.train()
        for x, y in train:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()  # gradients averaged over the ranks here
            optimizer.step()

    accuracy = 0.0
    if rank == 0:  # every replica holds the same weights: one evaluates the plain module
        net = model.module.eval()
        with ember.no_grad():
            x, y = data.test.tensors
            accuracy = float((net(x).argmax(dim=1) == y).float().mean())
        processes = f"{world} process{'es' if world > 1 else ''}"
        print(f"{processes}, {args.epochs} epochs: test accuracy {100 * accuracy:.2f}%")
    dist.destroy_process_group()
    return accuracy


if __name__ == "__main__":
    main()
