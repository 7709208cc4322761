"""What each rank runs in the distributed tests (``python -m tests.distributed.dist_workers
SCENARIO OUTDIR``), and the data and models the tests recompute in one process to check them.
Results go to OUTDIR/rank{r}.npz (arrays) and OUTDIR/rank{r}.json (messages, timings)."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

import ember
import ember.distributed as dist
import ember.nn.functional as F
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP


# ------------------------------------------------------------ data the tests recompute
def rank_data(rank: int) -> dict:
    """Rank r's inputs to the collectives (random, so the order of a float sum shows)."""
    g = np.random.default_rng(100 + rank)
    return {
        "f32": g.standard_normal((3, 4)).astype(np.float32),
        "f64": g.standard_normal(6),
        "i64": g.integers(-50, 50, 5),
        "pos": g.uniform(0.5, 1.5, 4),
        "big": g.standard_normal(1 << 19).astype(np.float32),  # 2 MiB: beyond socket buffers
        "bits": g.integers(0, 256, 4),
    }


def make_mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3)).double()


def make_bn() -> nn.Module:
    return nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Linear(4, 3)).double()


class ThreeHeads(nn.Module):
    """a is always used, b only when asked, c never."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.c = nn.Linear(5, 3), nn.Linear(5, 3), nn.Linear(5, 3)

    def forward(self, x, use_b: bool):
        return self.a(x) + self.b(x) if use_b else self.a(x)


def batch(seed: int, n: int = 8):
    g = np.random.default_rng(seed)
    return ember.tensor(g.standard_normal((n, 5))), ember.tensor(g.integers(0, 3, n))


def half(t, rank: int):
    n = t.shape[0] // 2
    return t[rank * n : (rank + 1) * n]


def params_of(model: nn.Module) -> list:
    return [p.detach().numpy().copy() for p in model.parameters()]


# ------------------------------------------------------------ scenarios
def collectives(rank: int, world: int, out: dict, info: dict) -> None:
    d = rank_data(rank)
    t = ember.tensor(d["f32"])
    dist.all_reduce(t)  # an ember Tensor, in place
    out["sum_f32"] = t.numpy()
    for op in ("SUM", "PRODUCT", "MIN", "MAX", "AVG"):
        a = d["f64"].copy()
        work = dist.all_reduce(a, op=getattr(dist.ReduceOp, op), async_op=True)
        info.setdefault("waited", []).append([work.wait(), work.is_completed()])
        out[f"{op}_f64"] = a
    for op in ("SUM", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        a = (d["bits"] if op.startswith("B") else d["i64"]).copy()
        dist.all_reduce(a, op=getattr(dist.ReduceOp, op))
        out[f"{op}_i64"] = a
    big = d["big"].copy()
    os.environ["EMBER_ALLREDUCE"] = "star"  # rank order exactly (the ring: test_distributed_ring)
    dist.all_reduce(big)
    del os.environ["EMBER_ALLREDUCE"]
    out["big"] = big
    scalar, empty = ember.tensor(float(rank + 1)), np.zeros((0, 3))
    dist.all_reduce(scalar, op=dist.ReduceOp.PRODUCT)
    dist.all_reduce(empty)
    out["scalar"], out["empty"] = scalar.numpy(), empty
    for src in (0, world - 1):
        b = ember.tensor(d["f32"].copy())
        dist.broadcast(b, src=src)
        out[f"broadcast_{src}"] = b.numpy()
    gathered = [ember.zeros(3, 4) for _ in range(world)]
    dist.all_gather(gathered, ember.tensor(d["f32"]))
    out["all_gather"] = np.stack([g.numpy() for g in gathered])
    into = np.zeros((world * 3, 4), np.float32)
    dist.all_gather_into_tensor(into, d["f32"])
    out["all_gather_into_tensor"] = into
    r = d["f64"].copy()
    dist.reduce(r, dst=1, op=dist.ReduceOp.SUM)
    out["reduce"] = r
    gather_list = [np.zeros(6) for _ in range(world)] if rank == world - 1 else None
    dist.gather(d["f64"], gather_list, dst=world - 1)
    out["gather"] = np.stack(gather_list) if gather_list else np.zeros(0)
    piece = np.zeros(6)
    pieces = [rank_data(k)["f64"] * 10 for k in range(world)] if rank == 1 else None
    dist.scatter(piece, pieces, src=1)
    out["scatter"] = piece
    part = np.zeros(2)
    dist.reduce_scatter_tensor(part, np.arange(2 * world, dtype=np.float64) * (rank + 1))
    out["reduce_scatter_tensor"] = part
    part = np.zeros(6)
    dist.reduce_scatter(part, [d["f64"] * (k + 1) for k in range(world)])
    out["reduce_scatter"] = part
    # point to point: tags out of order, a recv from any rank, and a send that crosses a barrier
    last = world - 1
    if rank == 0:
        dist.send(ember.tensor([1.0, 2.0]), dst=last, tag=1)
        dist.send(ember.tensor([3.0, 4.0]), dst=last, tag=2)
    if rank == last:
        second, first = ember.zeros(2), ember.zeros(2)
        info["tag2_from"] = dist.recv(second, src=0, tag=2)
        info["irecv_waited"] = dist.irecv(first, src=0, tag=1).wait()
        out["tags"] = np.stack([first.numpy(), second.numpy()])
    if rank == 1:
        dist.send(np.full(3, 7, np.int64), dst=0, tag=5)
    dist.barrier()  # rank 0 reads rank 1's send here, before the barrier's request
    if rank == 0:
        early = np.zeros(3, np.int64)
        info["any_from"] = dist.recv(early, tag=5)
        out["early"] = early
    dist.barrier()


def errors(rank: int, world: int, out: dict, info: dict) -> None:
    messages = info["messages"] = {}

    def attempt(name, call):
        try:
            call()
            messages[name] = None
        except RuntimeError as e:
            messages[name] = f"{type(e).__name__}: {e}"

    shape = (3,) if rank == 2 else (2, 2)
    attempt("shape", lambda: dist.all_reduce(np.zeros(shape, np.float32)))
    dtype = np.float64 if rank == 1 else np.float32
    attempt("dtype", lambda: dist.all_reduce(np.zeros(4, dtype)))
    if rank == 1:
        attempt("op", lambda: dist.broadcast(np.zeros(4), src=0))
    else:
        attempt("op", lambda: dist.all_reduce(np.zeros(4)))
    n = 2 if rank == 1 else world
    attempt("local", lambda: dist.all_gather([np.zeros(2) for _ in range(n)], np.zeros(2)))
    a = np.full(2, rank + 1.0)
    dist.all_reduce(a)  # the group still works after those
    out["after"] = a
    if rank == 2:
        info["save"]()
        os._exit(0)  # dies without a word, its connections closed by the OS
    start = time.monotonic()
    attempt("dead", lambda: dist.all_reduce(np.zeros(2)))
    info["dead_s"] = time.monotonic() - start
    attempt("broken", lambda: dist.barrier())
    dist.destroy_process_group()
    # a fresh group of two with a short timeout: rank 1 stays silent too long
    port = os.environ["SECOND_PORT"]
    where, short = f"tcp://127.0.0.1:{port}", timedelta(seconds=1)
    dist.init_process_group(init_method=where, rank=rank, world_size=2, timeout=short)
    start = time.monotonic()
    if rank == 1:
        time.sleep(2.5)
    attempt("silent", lambda: dist.all_reduce(np.zeros(2)))
    info["silent_s"] = time.monotonic() - start


def ddp(rank: int, world: int, out: dict, info: dict) -> None:
    # 1. five SGD steps on half a batch each = one process on the whole batch
    ember.manual_seed(10 + rank)  # different replicas: DDP must start them from rank 0's
    model = DDP(make_mlp())
    out["eq_init"] = np.concatenate([p.ravel() for p in params_of(model)])
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = batch(0)
    for _ in range(5):
        opt.zero_grad()
        F.cross_entropy(model(half(x, rank)), half(y, rank)).backward()
        opt.step()
    for i, p in enumerate(params_of(model)):
        out[f"eq_{i}"] = p
    info["keys"] = list(model.state_dict())
    # 2. no_sync: local accumulation, then one synced backward averages the sum
    ember.manual_seed(20 + rank)
    model = DDP(make_mlp())
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    (xa, ya), (xb, yb) = batch(1), batch(2)
    with model.no_sync():
        F.cross_entropy(model(half(xa, rank)), half(ya, rank)).backward()
    for i, p in enumerate(model.parameters()):
        out[f"ns_local_{i}"] = p.grad.numpy().copy()
    F.cross_entropy(model(half(xb, rank)), half(yb, rank)).backward()
    for i, p in enumerate(model.parameters()):
        out[f"ns_grad_{i}"] = p.grad.numpy().copy()
    opt.step()
    for i, p in enumerate(params_of(model)):
        out[f"ns_param_{i}"] = p
    # 3. buffers: broadcast from rank 0 at construction and before each forward
    for flag in (True, False):
        ember.manual_seed(30)
        inner = make_bn()
        if rank == 1:
            inner[1].running_mean.array[...] = 7.0
        model = DDP(inner, broadcast_buffers=flag)
        tag = "bn" if flag else "nobn"
        out[f"{tag}_init"] = inner[1].running_mean.numpy().copy()
        seen = []

        def record(m, args, seen=seen):  # the buffers forward sees, after DDP's broadcast
            seen.append([b.numpy().copy() for b in m.buffers()])

        inner.register_forward_pre_hook(record)
        opt = ember.optim.SGD(model.parameters(), lr=0.1)
        for step in range(2):
            xs, ys = batch(40 + 10 * step + rank)
            opt.zero_grad()
            F.cross_entropy(model(xs), ys).backward()
            opt.step()
            if step == 0:
                for i, b in enumerate(inner.buffers()):
                    out[f"{tag}_after1_{i}"] = b.numpy().copy()
        for i, b in enumerate(seen[1]):
            out[f"{tag}_seen2_{i}"] = b
    # 4. find_unused_parameters: b used on rank 0 only, c nowhere
    ember.manual_seed(50)
    model = DDP(ThreeHeads().double(), find_unused_parameters=True)
    x, y = batch(3)
    F.cross_entropy(model(half(x, rank), use_b=rank == 0), half(y, rank)).backward()
    for name, p in model.module.named_parameters():
        out[f"fu_{name}"] = p.grad.numpy().copy() if p.grad is not None else np.zeros(0)
    # 5. without it, an unused parameter stops the next forward with torch's error
    ember.manual_seed(50)
    model = DDP(ThreeHeads().double())
    F.cross_entropy(model(half(x, rank), use_b=True), half(y, rank)).backward()
    try:
        model(half(x, rank), use_b=True)
        info["unused"] = None
    except RuntimeError as e:
        info["unused"] = str(e)
    # 6. different models on the ranks: every rank is told which parameter differs
    try:
        DDP(nn.Linear(5, 3 + rank))
        info["model"] = None
    except RuntimeError as e:
        info["model"] = str(e)


SCENARIOS = {"collectives": collectives, "errors": errors, "ddp": ddp}


def main(scenario: str, outdir: str, scenarios: dict = SCENARIOS) -> None:
    """Run one scenario on this rank; what it put in ``out`` and ``info`` goes to the folder
    (rank{r}.npz, rank{r}.json) even when it raised. dist_workers_ring.py reuses this."""
    dist.init_process_group("gloo", timeout=timedelta(seconds=20))
    rank, world = dist.get_rank(), dist.get_world_size()
    out, info = {}, {}
    folder = Path(outdir)

    def save() -> None:
        np.savez(folder / f"rank{rank}.npz", **out)
        (folder / f"rank{rank}.json").write_text(
            json.dumps({k: v for k, v in info.items() if k != "save"})
        )

    info["save"] = save
    try:
        scenarios[scenario](rank, world, out, info)
        info["torch_loaded"] = "torch" in sys.modules  # ember must never import it
    finally:
        save()
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:3])
