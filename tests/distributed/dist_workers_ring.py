"""What each rank runs in the ring, async and DDP-overlap tests (``python -m
tests.distributed.dist_workers_ring SCENARIO OUTDIR``; run by dist_harness.run_ranks), and the
data the tests recompute. Results go to OUTDIR/rank{r}.npz and OUTDIR/rank{r}.json."""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import ember
import ember.distributed as dist
import ember.nn.functional as F
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP
from tests.distributed import dist_workers

DTYPES = ("float32", "float64", "int64", "int32")
SIZES = (1, 2, 5, 67, 1001)  # 1 and 2: fewer elements than 3 ranks, so some chunks are empty
OPS = ("SUM", "AVG", "PRODUCT", "MIN", "MAX")


def ops_for(dtype: str) -> tuple:
    return OPS if dtype.startswith("float") else tuple(op for op in OPS if op != "AVG")


def ring_data(rank: int, dtype: str, op: str, n: int) -> np.ndarray:
    """Rank r's tensor for one case: random, so the order of a float sum shows."""
    g = np.random.default_rng([rank, n, DTYPES.index(dtype), OPS.index(op)])
    if dtype.startswith("float"):
        x = g.uniform(0.5, 1.5, n) if op == "PRODUCT" else g.standard_normal(n) * 100
    else:
        x = g.integers(-3, 4, n) if op == "PRODUCT" else g.integers(-1000, 1000, n)
    return x.astype(dtype)


def _algorithm(name: str | None) -> None:
    if name is None:
        os.environ.pop("EMBER_ALLREDUCE", None)
    else:
        os.environ["EMBER_ALLREDUCE"] = name


def _attempt(messages: dict, name: str, call) -> None:
    try:
        call()
        messages[name] = None
    except RuntimeError as e:
        messages[name] = f"{type(e).__name__}: {e}"


# ------------------------------------------------------------ scenarios
def ring(rank: int, world: int, out: dict, info: dict) -> None:
    for dtype in DTYPES:
        for op in ops_for(dtype):
            for n in SIZES:
                for algo in ("ring", "star", "ring"):  # the ring twice: the same bits again
                    _algorithm(algo)
                    a = ring_data(rank, dtype, op, n)
                    dist.all_reduce(a, op=getattr(dist.ReduceOp, op))
                    key = f"{algo}_{dtype}_{op}_{n}"
                    out[key + ("_again" if key in out else "")] = a
    _algorithm("ring")  # an ember Tensor of three dimensions, and an async one
    t = ember.tensor(ring_data(rank, "float32", "SUM", 105).reshape(3, 5, 7))
    dist.all_reduce(t)
    out["tensor3d"] = t.numpy()
    a = ring_data(rank, "float64", "SUM", 1001)
    dist.all_reduce(a, async_op=True).wait()
    out["async_ring"] = a
    _algorithm(None)  # auto: by size, from EMBER_RING_MIN_BYTES (here 4 KB) on
    os.environ["EMBER_RING_MIN_BYTES"] = "4096"
    for n in (67, 1001):  # 536 and 8008 bytes of float64
        a = ring_data(rank, "float64", "SUM", n)
        dist.all_reduce(a)
        out[f"auto_{n}"] = a
    del os.environ["EMBER_RING_MIN_BYTES"]
    big = np.random.default_rng(rank).standard_normal(dist.RING_MIN_BYTES // 4 + 3)
    big = big.astype(np.float32)
    for algo in (None, "ring"):  # the default threshold picks the ring
        _algorithm(algo)
        a = big.copy()
        dist.all_reduce(a)
        out[f"big_{algo}"] = a
    # mistakes: every rank raises the same error, and the group stays usable
    messages = info["messages"] = {}
    _algorithm("ring" if rank == 0 else "star")
    _attempt(messages, "algorithm", lambda: dist.all_reduce(np.zeros(8)))
    _algorithm("ring")
    shape = (3,) if rank == 1 else (4,)
    _attempt(messages, "shape", lambda: dist.all_reduce(np.zeros(shape)))
    ints = np.ones(5, np.int64)
    _attempt(messages, "avg_int", lambda: dist.all_reduce(ints, op=dist.ReduceOp.AVG))
    a = np.full(7, rank + 1.0)
    dist.all_reduce(a)
    out["after"] = a


def asynchronous(rank: int, world: int, out: dict, info: dict) -> None:
    # 1. the call returns at once and runs in the background, while rank 1 is still asleep
    if rank == 1:
        time.sleep(0.5)
    a = np.arange(1 << 16, dtype=np.float64) * (rank + 1)
    start = time.monotonic()
    work = dist.all_reduce(a, async_op=True)
    info["launch_s"] = time.monotonic() - start
    info["completed_at_launch"] = work.is_completed()
    _attempt(info.setdefault("messages", {}), "wait_timeout", lambda: work.wait(timeout=0.05))
    busy = 0.0
    while time.monotonic() - start < 0.2:  # this thread computes meanwhile
        busy += float(np.sum(np.sqrt(np.arange(1000.0))))
    info["waited"] = work.wait()
    info["total_s"] = time.monotonic() - start
    info["completed"], info["success"] = work.is_completed(), work.is_success()
    out["overlap"] = a
    # 2. two launched, then waited in the other order; a synchronous call between keeps order
    b, c = np.full((3, 4), rank + 1.0), np.full(1 << 18, rank + 2.0, np.float32)
    w1 = dist.all_reduce(c, async_op=True)  # 1 MB
    w2 = dist.all_reduce(b, op=dist.ReduceOp.MAX, async_op=True)
    d = np.full(5, float(rank))
    dist.broadcast(d, src=1)  # synchronous: after w1 and w2 on every rank
    gathered = [np.zeros(2) for _ in range(world)]
    w3 = dist.all_gather(gathered, np.full(2, rank * 10.0), async_op=True)
    info["two"] = [w2.wait(), w1.wait(), w3.wait(), w3.result()[1] is gathered[1]]
    out["b"], out["c"], out["d"], out["gathered"] = b, c, d, np.stack(gathered)
    # 3. a mistake fails the Work on every rank; the group still works after
    work = dist.all_reduce(np.zeros(2 + rank), async_op=True)
    _attempt(info["messages"], "mismatch", work.wait)
    info["mismatch_state"] = [work.is_completed(), work.is_success(), repr(work.exception())]
    e = np.full(3, rank + 1.0)
    dist.all_reduce(e, async_op=True).wait()
    out["after"] = e
    # 4. a peer that exits: the queued Works fail, the first with the peer's name
    if rank == 1:
        info["save"]()
        os._exit(0)
    _algorithm("ring")  # (the algorithm is chosen when called, not when run)
    w1 = dist.all_reduce(np.zeros(4), async_op=True)
    _algorithm(None)
    w2 = dist.all_reduce(np.zeros(4), async_op=True)
    _attempt(info["messages"], "dead", w1.wait)
    _attempt(info["messages"], "after_dead", w2.wait)


def make_deep() -> nn.Module:
    return nn.Sequential(
        nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)
    ).double()


def deep_batch(seed: int, rank: int, n: int = 8):
    g = np.random.default_rng(seed)
    x, y = g.standard_normal((2 * n, 5)), g.integers(0, 3, 2 * n)
    return ember.tensor(x[rank * n : (rank + 1) * n]), ember.tensor(y[rank * n : (rank + 1) * n])


def ddp_overlap(rank: int, world: int, out: dict, info: dict) -> None:
    calls, current = [], {}
    original = dist.all_reduce

    def spy(tensor, op=dist.ReduceOp.SUM, group=None, async_op=False):
        # async, and whether backward's sweep is still running (gradients still to come)
        calls.append([bool(async_op), current["model"]._waiting > 0])
        return original(tensor, op=op, group=group, async_op=async_op)

    dist.all_reduce = spy
    for algo in ("star", "ring"):
        _algorithm(algo)
        for overlap in (True, False):
            tag = f"{algo}_{int(overlap)}"
            ember.manual_seed(10 + rank)  # DDP starts every replica from rank 0's
            model = current["model"] = DDP(make_deep(), bucket_cap_mb=0.001, overlap=overlap)
            info["buckets"] = len(model._buckets)
            opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
            del calls[:]
            for step in range(3):
                opt.zero_grad()
                if step == 1:  # a no_sync backward first: the next one averages the sum
                    xs, ys = deep_batch(99, rank)
                    with model.no_sync():
                        F.cross_entropy(model(xs), ys).backward()
                x, y = deep_batch(step, rank)
                F.cross_entropy(model(x), y).backward()
                for i, p in enumerate(model.parameters()):
                    out[f"{tag}_grad{step}_{i}"] = p.grad.numpy().copy()
                opt.step()
            for i, p in enumerate(model.parameters()):
                out[f"{tag}_param_{i}"] = p.detach().numpy().copy()
            info[f"{tag}_calls"] = [list(c) for c in calls]
    dist.all_reduce = original
    _algorithm(None)


SCENARIOS = {"ring": ring, "async": asynchronous, "ddp_overlap": ddp_overlap}


def main(scenario: str, outdir: str) -> None:
    dist_workers.main(scenario, outdir, SCENARIOS)


if __name__ == "__main__":
    main(*sys.argv[1:3])
