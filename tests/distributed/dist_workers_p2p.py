"""What each rank runs in the point-to-point and subgroup tests (``python -m
tests.distributed.dist_workers_p2p SCENARIO OUTDIR``; run by dist_harness.run_ranks), and the
data the tests recompute. Results go to OUTDIR/rank{r}.npz and OUTDIR/rank{r}.json.

``torch_mirror`` runs the same calls with torch.distributed (gloo) instead of ember, so the
tests can compare the two; it is the only scenario that imports torch."""

from __future__ import annotations

import os
import sys
import time
import warnings
from datetime import timedelta

import numpy as np

import ember
import ember.distributed as dist
from tests.distributed import dist_workers

BIG = 1 << 22  # float32 elements: 16 MiB, more than sockets buffer: the sends must overlap


def data(rank: int, n: int = 5, scale: float = 1.0) -> np.ndarray:
    """Rank r's tensor: 10·r + 0, 1, … n − 1 (times ``scale``), float64."""
    return (10.0 * rank + np.arange(n)) * scale


def _attempt(messages: dict, name: str, call) -> None:
    try:
        call()
        messages[name] = None
    except (RuntimeError, ValueError) as e:
        messages[name] = f"{type(e).__name__}: {e}"


# ------------------------------------------------------------ point to point (3 ranks)
def p2p(rank: int, world: int, out: dict, info: dict) -> None:
    messages = info["messages"] = {}
    # 1. ranks 0 and 1 isend 4 MiB to each other, then irecv, then wait for all
    if rank < 2:
        peer = 1 - rank
        mine = np.full(BIG, rank + 1.0, np.float32)
        got = np.zeros(BIG, np.float32)
        start = time.monotonic()
        sending = dist.isend(mine, dst=peer, tag=3)
        receiving = dist.irecv(ember.from_numpy(got), src=peer, tag=3)  # a Tensor view
        info["launch_s"] = time.monotonic() - start
        info["cross"] = [sending.wait(), receiving.wait(), receiving._source_rank()]
        out["cross"] = got[[0, BIG // 2, BIG - 1]]
        # the other order: irecv first, then isend (torch does not block on either)
        got2 = np.zeros(BIG, np.float32)
        works = [dist.irecv(got2, src=peer), dist.isend(mine * 2, dst=peer)]
        info["reverse"] = [w.wait() for w in works]
        out["reverse"] = got2[[0, BIG - 1]]
    # 2. is_completed: rank 2 sends 0.3 s after rank 0's go; rank 0's irecv is pending
    if rank == 0:
        late = np.zeros(3)
        dist.send(np.ones(1), dst=2, tag=6)  # go
        work = dist.irecv(late, src=2, tag=7)
        info["pending"] = [work.is_completed(), work.is_success()]
        start = time.monotonic()
        work.wait()
        info["late_s"] = time.monotonic() - start
        info["done"] = [work.is_completed(), work.is_success(), work.exception() is None]
        out["late"] = late
    if rank == 2:
        dist.recv(np.zeros(1), src=0, tag=6)
        time.sleep(0.3)
        dist.isend(data(2, 3), dst=0, tag=7).wait()
    # 3. batch_isend_irecv round the ring: each rank sends to the next, receives the previous
    right, left = (rank + 1) % world, (rank - 1) % world
    ring = np.zeros(4)
    ops = [dist.P2POp(dist.isend, data(rank, 4), right), dist.P2POp(dist.irecv, ring, left)]
    info["ring"] = [w.wait() for w in dist.batch_isend_irecv(ops)]
    out["ring"] = ring
    # 4. order: same tag in sending order, other tags as asked, any source, and a message
    #    that crosses queued collectives (rank 0 sends while its all_reduce is still queued)
    if rank == 0:
        for k in range(3):
            dist.isend(np.full(2, float(k)), dst=1, tag=5)
        dist.isend(np.full(2, 9.0), dst=1, tag=6)
    if rank == 1:
        six, fives = np.zeros(2), [np.zeros(2) for _ in range(3)]
        works = [dist.irecv(six, src=0, tag=6)] + [dist.irecv(f, src=0, tag=5) for f in fives]
        [w.wait() for w in works]
        out["tags"] = np.stack([six, *fives])
    a = data(rank, 3)
    reduced = dist.all_reduce(a, async_op=True)
    if rank == 2:
        dist.isend(np.full(2, 42.0), dst=1, tag=8)
    if rank == 1:
        anyone = np.zeros(2)
        info["any_from"] = dist.recv(anyone, tag=8)  # waits for the all_reduce first
        out["any"] = anyone
    reduced.wait()
    out["reduced"] = a
    # 5. a subgroup of 2 out of 3: ranks 0 and 2
    sub = dist.new_group([2, 0])
    info["sub_rank"] = [dist.get_rank(sub), dist.get_world_size(sub)]
    if rank != 1:
        s = data(rank, 3)
        dist.all_reduce(s, group=sub)
        out["sub_sum"] = s
        b = data(rank, 3)
        dist.broadcast(b, src=2, group=sub)  # a global rank
        out["sub_bcast"] = b
        parts = [np.zeros(3), np.zeros(3)]
        dist.all_gather(parts, data(rank, 3), group=sub)
        out["sub_gather"] = np.stack(parts)
        dist.barrier(group=sub)
    else:
        untouched = data(rank, 3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            info["non_member_returns"] = [
                dist.all_reduce(untouched, group=sub), dist.barrier(group=sub),
                dist.isend(untouched, dst=0, group=sub), dist.recv(untouched, group=sub),
            ]  # fmt: skip
        info["non_member_warnings"] = [str(w.message) for w in caught]
        out["untouched"] = untouched
    # 6. errors surface from wait(): a shape and a dtype that differ from the receiver's
    if rank == 0:
        dist.isend(np.zeros(3), dst=1, tag=11)
        dist.isend(np.zeros((2, 2), np.int32), dst=1, tag=12)
    if rank == 1:
        _attempt(messages, "shape", lambda: dist.irecv(np.zeros((2, 2)), src=0, tag=11).wait())
        _attempt(messages, "dtype", lambda: dist.irecv(np.zeros((2, 2)), src=0, tag=12).wait())
    after = data(rank, 2)
    dist.all_reduce(after)  # the group goes on
    out["after"] = after
    # a receive nobody answers, on a subgroup of ranks 0 and 1 with a timeout of 1 s
    short = dist.new_group([0, 1], timeout=timedelta(seconds=1))
    if rank == 1:
        start = time.monotonic()
        _attempt(messages, "timeout", lambda: dist.irecv(np.zeros(2), src=0, group=short).wait())
        info["timeout_s"] = time.monotonic() - start
    # a peer that exits while ranks 0 and 1 wait for its message
    waiting = None if rank == 2 else dist.irecv(np.zeros(2), src=2, tag=99)
    dist.barrier()
    if rank == 2:
        info["save"]()
        os._exit(0)  # its connections closed by the OS
    _attempt(messages, "dead", waiting.wait)
    _attempt(messages, "after_dead", lambda: dist.isend(np.zeros(2), dst=2).wait())


# ------------------------------------------------------------ subgroups (4 ranks)
def subgroups(rank: int, world: int, out: dict, info: dict) -> None:
    messages = info["messages"] = {}
    g01, g23 = dist.new_group([0, 1]), dist.new_group([2, 3])
    g123, everyone, alone = dist.new_group([3, 1, 2]), dist.new_group(), dist.new_group([2])
    groups = {"g01": g01, "g23": g23, "g123": g123, "all": everyone, "alone": alone}
    info["ranks"] = {k: [dist.get_rank(g), dist.get_world_size(g)] for k, g in groups.items()}
    info["non_member"] = [k for k, g in groups.items() if g is dist.GroupMember.NON_GROUP_MEMBER]
    if rank in (1, 2, 3):
        info["translate"] = [
            [dist.get_group_rank(g123, r) for r in (1, 2, 3)],
            [dist.get_global_rank(g123, k) for k in (0, 1, 2)],
            dist.get_process_group_ranks(g123),
        ]  # fmt: skip
        _attempt(messages, "group_rank", lambda: dist.get_group_rank(g123, 0))
        _attempt(messages, "global_rank", lambda: dist.get_global_rank(g123, 3))
        _attempt(messages, "src", lambda: dist.broadcast(np.zeros(2), src=0, group=g123))
    if rank == 0:
        _attempt(messages, "not_registered", lambda: dist.get_group_rank(g23, 2))
    # disjoint groups at once: 0, 1 and 2, 3 each run 20 all_reduces of their own
    pair = g01 if rank < 2 else g23
    pair_sums = [data(rank, 4, k + 1) for k in range(20)]
    works = [dist.all_reduce(a, group=pair, async_op=True) for a in pair_sums]
    [w.wait() for w in works]
    out["pair_sums"] = np.stack(pair_sums)
    b, parts = data(rank, 2), [np.zeros(2), np.zeros(2)]  # 2 out of 4, global src
    dist.broadcast(b, src=1 if rank < 2 else 3, group=pair)
    dist.all_gather(parts, data(rank, 2), group=pair)
    dist.barrier(group=pair)
    out["pair_bcast"], out["pair_gather"] = b, np.stack(parts)
    # overlapping groups at once, called in different orders: rank 2 reduces g23 then
    # g123, rank 3 g123 then g23 (one connection or thread for both would deadlock)
    x, y = data(rank, 3), data(rank, 3, 0.5)
    if rank == 1:
        works = [dist.all_reduce(x, group=g01, async_op=True),
                 dist.all_reduce(y, group=g123, async_op=True)]  # fmt: skip
    elif rank == 2:
        works = [dist.all_reduce(x, group=g23, async_op=True),
                 dist.all_reduce(y, group=g123, async_op=True)]  # fmt: skip
    elif rank == 3:
        works = [dist.all_reduce(y, group=g123, async_op=True),
                 dist.all_reduce(x, group=g23, async_op=True)]  # fmt: skip
    else:
        works = [dist.all_reduce(x, group=g01, async_op=True)]
    [w.wait() for w in works]
    out["overlap_x"], out["overlap_y"] = x, y
    if rank in (1, 2, 3):  # every collective on the group of three, with global src/dst
        b = data(rank, 3)
        dist.broadcast(b, src=3, group=g123)
        out["bcast"] = b
        parts = [np.zeros(3) for _ in range(3)]
        dist.all_gather(parts, data(rank, 3), group=g123)
        out["gathered"] = np.stack(parts)
        r = data(rank, 3)
        dist.reduce(r, dst=2, op=dist.ReduceOp.MAX, group=g123)
        out["reduced"] = r
        gl = [np.zeros(3) for _ in range(3)] if rank == 3 else None
        dist.gather(data(rank, 3), gl, dst=3, group=g123)
        out["gather"] = np.stack(gl) if gl else np.zeros(0)
        piece = np.zeros(3)
        dist.scatter(piece, [data(k, 3) for k in (1, 2, 3)] if rank == 2 else None, src=2,
                     group=g123)  # fmt: skip
        out["scatter"] = piece
        part = np.zeros(2)
        dist.reduce_scatter(part, [data(rank, 2, k + 1) for k in range(3)], group=g123)
        out["reduce_scatter"] = part
        os.environ["EMBER_ALLREDUCE"] = "ring"
        ring = data(rank, 7)
        dist.all_reduce(ring, group=g123)
        del os.environ["EMBER_ALLREDUCE"]
        out["ring"] = ring
        if rank == 3:  # point to point inside the group, by global ranks
            dist.send(np.full(2, 3.0), dst=1, group=g123)
        if rank == 1:
            got = np.zeros(2)
            info["p2p_from"] = dist.recv(got, group=g123)
            out["p2p"] = got
        # the same by ranks within the group (torch's group_src / group_dst): k ↔ global k + 1
        b = data(rank, 3)
        dist.broadcast(b, group=g123, group_src=2)  # global 3
        r = data(rank, 3)
        dist.reduce(r, group=g123, group_dst=0)  # global 1
        out["g_bcast"], out["g_reduce"] = b, r
        if rank == 2:
            dist.send(np.full(2, 2.0), group=g123, group_dst=0)
        if rank == 1:
            got = np.zeros(2)
            info["g_p2p_from"] = dist.recv(got, group=g123, group_src=1)
            out["g_p2p"] = got
        listed = [{"from": rank}]
        dist.broadcast_object_list(listed, group=g123, group_src=1)  # global 2
        info["g_object"] = listed[0]
        _attempt(messages, "both", lambda: dist.broadcast(b, 1, group=g123, group_src=0))
        _attempt(messages, "neither", lambda: dist.broadcast(b, group=g123))
        _attempt(messages, "group_src", lambda: dist.broadcast(b, group=g123, group_src=3))
        dist.barrier(group=g123)
    if rank == 2:  # a group of one: no messages
        solo = data(rank, 2)
        dist.all_reduce(solo, group=alone)
        out["solo"] = solo
    whole = data(rank, 2)
    dist.all_reduce(whole, group=everyone)
    out["whole"] = whole
    # ranks that disagree on new_group's ranks all raise, and the default group goes on
    _attempt(messages, "disagree", lambda: dist.new_group([0, 1] if rank == 0 else [0, 2]))
    if rank < 2:
        dist.destroy_process_group(g01)
        _attempt(messages, "destroyed", lambda: dist.all_reduce(np.zeros(2), group=g01))
    last = data(rank, 2)
    dist.all_reduce(last)
    out["last"] = last


# ------------------------------------------------------------ the same with torch (3 ranks)
def torch_mirror(rank: int, world: int, out: dict, info: dict) -> None:
    """Sections 3 and 5 of ``p2p`` with torch.distributed (gloo): the ring exchange by
    batch_isend_irecv, and the subgroup of ranks 0 and 2."""
    import torch
    import torch.distributed as tdist

    dist.destroy_process_group()  # main made ember's group; torch's meets on another port
    os.environ["MASTER_PORT"] = os.environ["SECOND_PORT"]
    tdist.init_process_group("gloo", timeout=timedelta(seconds=20))
    right, left = (rank + 1) % world, (rank - 1) % world
    ring = torch.zeros(4, dtype=torch.float64)
    ops = [tdist.P2POp(tdist.isend, torch.from_numpy(data(rank, 4)), right),
           tdist.P2POp(tdist.irecv, ring, left)]  # fmt: skip
    [w.wait() for w in tdist.batch_isend_irecv(ops)]
    out["ring"] = ring.numpy()
    sub = tdist.new_group([2, 0])
    info["sub_rank"] = [tdist.get_rank(sub), tdist.get_world_size(sub)]
    if rank != 1:
        s = torch.from_numpy(data(rank, 3))
        tdist.all_reduce(s, group=sub)
        out["sub_sum"] = s.numpy()
        b = torch.from_numpy(data(rank, 3))
        tdist.broadcast(b, src=2, group=sub)
        out["sub_bcast"] = b.numpy()
        parts = [torch.zeros(3, dtype=torch.float64) for _ in range(2)]
        tdist.all_gather(parts, torch.from_numpy(data(rank, 3)), group=sub)
        out["sub_gather"] = torch.stack(parts).numpy()
        tdist.barrier(group=sub)
    else:
        untouched = torch.from_numpy(data(rank, 3))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info["non_member_returns"] = [tdist.all_reduce(untouched, group=sub)]
        out["untouched"] = untouched.numpy()
    tdist.barrier()
    tdist.destroy_process_group()


SCENARIOS = {"p2p": p2p, "subgroups": subgroups, "torch_mirror": torch_mirror}


def main(scenario: str, outdir: str) -> None:
    dist_workers.main(scenario, outdir, SCENARIOS)


if __name__ == "__main__":
    main(*sys.argv[1:3])
