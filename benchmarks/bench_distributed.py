"""all_reduce throughput of ember.distributed, star against ring, on local processes.

    python benchmarks/bench_distributed.py                  # 2 and 3 ranks, 1 KB … 64 MB
    python benchmarks/bench_distributed.py --ranks 2 --max-mb 4
    python benchmarks/bench_distributed.py --ddp            # DDP step: overlapped or not

Starts W processes on 127.0.0.1 (this same script with --worker), each all-reducing float32
tensors of every size with EMBER_ALLREDUCE=star and then =ring; rank 0 prints one line per
size: the median time of one all_reduce and its "algorithm bandwidth" (tensor bytes / time,
what the caller sees). Prints only; saves nothing. On one machine the "network" is the
kernel copying bytes between processes, so the numbers show the algorithms' overheads and
their use of the cores more than a real network's bandwidth.

``--ddp`` times instead one training step (forward, backward, SGD step) of
DistributedDataParallel on 2 ranks, with each bucket's all_reduce launched as soon as it is
ready (overlap=True, the default) and with every bucket reduced at the end (overlap=False),
for the digits example's MLP (64-128-10) and a larger one (1024-2048-2048-2048-10).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def sizes(max_mb: float) -> list[int]:
    """1 KB, 2 KB, 4 KB, … up to max_mb MB (bytes)."""
    out, n = [], 1 << 10
    while n <= max_mb * (1 << 20):
        out.append(n)
        n <<= 1
    return out


def worker(max_mb: float, budget_s: float) -> None:
    sys.path.insert(0, str(ROOT))
    import ember.distributed as dist

    dist.init_process_group("gloo", timeout=timedelta(seconds=120))
    rank, world = dist.get_rank(), dist.get_world_size()
    rows = []
    for nbytes in sizes(max_mb):
        x = np.random.default_rng(rank).standard_normal(nbytes // 4).astype(np.float32)
        times = {}
        for algo in ("star", "ring"):
            os.environ["EMBER_ALLREDUCE"] = algo
            y = x.copy()
            dist.all_reduce(y)  # warm up (first touch of the buffers)
            samples, more = [], np.ones(1, np.uint8)
            start = time.perf_counter()
            while more[0]:
                y[...] = x
                dist.barrier()
                t0 = time.perf_counter()
                dist.all_reduce(y)
                samples.append(time.perf_counter() - t0)
                spent = time.perf_counter() - start
                more[0] = len(samples) < 3 or (spent < budget_s and len(samples) < 200)
                dist.broadcast(more, src=0)  # rank 0 decides: the same count on every rank
            times[algo] = statistics.median(samples)
        rows.append((nbytes, times["star"], times["ring"]))
    if rank == 0:
        print(f"\nall_reduce, float32, {world} ranks on 127.0.0.1 (median of each)")
        print(f"{'size':>8} {'star ms':>9} {'star MB/s':>10} {'ring ms':>9} {'ring MB/s':>10}"
              f" {'ring/star':>9}")  # fmt: skip
        for nbytes, star, ring in rows:
            mb = nbytes / (1 << 20)
            print(f"{_size(nbytes):>8} {star * 1e3:9.3f} {mb / star:10.1f} {ring * 1e3:9.3f}"
                  f" {mb / ring:10.1f} {star / ring:8.2f}x")  # fmt: skip
    dist.destroy_process_group()


def ddp_worker(steps: int) -> None:
    sys.path.insert(0, str(ROOT))
    import ember
    import ember.distributed as dist
    import ember.nn.functional as F
    from ember import nn
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("gloo", timeout=timedelta(seconds=120))
    rank = dist.get_rank()
    models = {
        "digits MLP 64-128-10, batch 32": ((64, 128, 10), 32, 25),
        "MLP 1024-2048x3-10, batch 64": ((1024, 2048, 2048, 2048, 10), 64, 25),
        "the same, bucket_cap_mb=4": ((1024, 2048, 2048, 2048, 10), 64, 4),
    }
    for name, (widths, batch, cap) in models.items():
        g = np.random.default_rng(rank)
        x = ember.tensor(g.standard_normal((batch, widths[0])).astype(np.float32))
        y = ember.tensor(g.integers(0, widths[-1], batch))
        runs = {}
        for overlap in (False, True):
            layers = []
            for a, b in zip(widths[:-1], widths[1:]):
                layers += [nn.Linear(a, b), nn.ReLU()]
            model = DDP(nn.Sequential(*layers[:-1]), bucket_cap_mb=cap, overlap=overlap)
            runs[overlap] = (model, ember.optim.SGD(model.parameters(), lr=1e-3))
        times = {False: [], True: [], None: []}
        for step in range(steps + 2):  # alternating, so all see the same machine load
            for overlap in (False, True, None):  # None: no communication at all (no_sync)
                model, opt = runs[bool(overlap)]
                dist.barrier()
                t0 = time.perf_counter()
                opt.zero_grad()
                with model.no_sync() if overlap is None else contextlib.nullcontext():
                    F.cross_entropy(model(x), y).backward()
                opt.step()
                if step >= 2:
                    times[overlap].append(time.perf_counter() - t0)
        if rank == 0:
            sync, over, alone = (statistics.median(times[k]) for k in (False, True, None))
            print(f"{name}: {len(model._buckets)} bucket(s); step {sync * 1e3:.1f} ms reduced at"
                  f" the end, {over * 1e3:.1f} ms overlapped ({sync / over:.2f}x),"
                  f" {alone * 1e3:.1f} ms without communication")  # fmt: skip
    dist.destroy_process_group()


def _size(n: int) -> str:
    return f"{n >> 20} MB" if n >= 1 << 20 else f"{n >> 10} KB"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ranks", type=int, nargs="+", default=[2, 3])
    p.add_argument("--max-mb", type=float, default=64)
    p.add_argument("--budget-s", type=float, default=0.5, help="time per size and algorithm")
    p.add_argument("--ddp", action="store_true", help="time DDP steps instead (2 ranks)")
    p.add_argument("--steps", type=int, default=10, help="--ddp: timed steps per setting")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        ddp_worker(args.steps) if args.ddp else worker(args.max_mb, args.budget_s)
        return
    for world in [2] if args.ddp else args.ranks:
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()),
                   WORLD_SIZE=str(world), OMP_NUM_THREADS="1",
                   OPENBLAS_NUM_THREADS="1")  # fmt: skip
        command = [sys.executable, __file__, "--worker", "--max-mb", str(args.max_mb),
                   "--budget-s", str(args.budget_s), "--steps", str(args.steps)]  # fmt: skip
        command += ["--ddp"] if args.ddp else []
        procs = [subprocess.Popen(command, env={**env, "RANK": str(r)}) for r in range(world)]
        codes = [q.wait() for q in procs]
        if any(codes):
            sys.exit(f"a rank failed: exit codes {codes}")


if __name__ == "__main__":
    main()
