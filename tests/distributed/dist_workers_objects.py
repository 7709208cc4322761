"""What each rank runs in the all_to_all and object-collective tests (``python -m
tests.distributed.dist_workers_objects SCENARIO OUTDIR``; run by dist_harness.run_ranks), and
the data the tests recompute. Results go to OUTDIR/rank{r}.npz and OUTDIR/rank{r}.json.

``torch_all_to_all`` runs the same all_to_all calls with torch.distributed (gloo), so the
tests can compare the two; it is the only scenario that imports torch. Objects that came
back are recorded as ``describe(obj)``: a string that spells out every type, every float's
bits and every array's dtype, shape and bytes, so equal strings mean an exact round trip."""

from __future__ import annotations

import math
import os
import struct
import sys
import time
import warnings
from collections import OrderedDict
from datetime import timedelta

import numpy as np

import ember
import ember.distributed as dist
from ember.nn import Parameter
from tests.distributed import dist_workers

# ------------------------------------------------------------ data the tests recompute
EQUAL_ROWS = 2  # rows each rank sends each rank in the equal split
BIG_ROWS = 1 << 18  # rows of 4 float32: 4 MiB per piece, more than sockets buffer


def rows(rank: int, n: int, cols: int = 3, start: int = 0) -> np.ndarray:
    """n rows of rank r's input: 1000·r + 10·row + column, float64."""
    i = np.arange(start, start + n)[:, None]
    return 1000.0 * rank + 10.0 * i + np.arange(cols)


def uneven(src: int, dst: int) -> int:
    """How many rows rank ``src`` sends rank ``dst`` in the uneven split (0 for some)."""
    return (src + 2 * dst) % 4


def piece_shape(src: int, dst: int) -> tuple:
    """all_to_all (lists): rank src's piece for dst has this shape; dst receives it as
    ``recv_shape(src, dst)``, of as many elements."""
    return (src + 1, dst + 2)


def recv_shape(src: int, dst: int) -> tuple:
    return ((src + 1) * (dst + 2),)


def piece(src: int, dst: int) -> np.ndarray:
    n = math.prod(piece_shape(src, dst))
    return (100.0 * src + 10.0 * dst + np.arange(n)).reshape(piece_shape(src, dst))


def payload(rank: int):
    """Rank r's object: every carried type, nested, of a size that differs by rank."""
    odd_nan = struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_DEAD_BEEF))[0]
    return {
        "rank": rank,
        "floats": (0.1 * rank, -0.0, float("inf"), odd_nan, 1e-310),
        "complex": complex(rank, -1.5),
        "text": "rank \u2603 " * (rank + 1),
        "raw": bytes(range(rank * 7 + 3)),
        "flags": [True, False, None],
        "nested": [[[(rank, [2**70 + rank, -(2**65)])]], ()],
        5: "an int key",
        "od": OrderedDict([("z", 1), ("a", (rank,))]),
        "array": (np.arange(rank + 4).reshape(-1, 1) / 3).astype(">f8"),
        "grid": np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
        "empty": np.zeros((0, 3), np.uint8),
        "mask": np.array([[True], [False]]),
        "scalar": np.float32(rank + 0.25),
        "tensor": ember.tensor(np.arange(3, dtype=np.float32) + rank),
        "param": Parameter(ember.tensor(np.ones((2, 2)) * rank)),
        "c64": np.array([1 + 2j], np.complex64),
    }


def describe(x) -> str:
    """Every type, float bit and array byte of ``x``, spelled out."""
    kind = type(x).__name__
    if isinstance(x, float):
        return f"float:{struct.pack('<d', x).hex()}"
    if isinstance(x, complex):
        return f"complex:{struct.pack('<dd', x.real, x.imag).hex()}"
    if isinstance(x, (list, tuple)):
        return f"{kind}[" + ", ".join(describe(v) for v in x) + "]"
    if isinstance(x, dict):
        return f"{kind}{{" + ", ".join(f"{describe(k)}: {describe(v)}" for k, v in x.items()) + "}"
    if isinstance(x, np.ndarray):
        return f"ndarray[{x.dtype.str}{x.shape}]:{np.ascontiguousarray(x).tobytes().hex()}"
    if isinstance(x, np.generic):
        return f"{kind}[{x.dtype.str}]:{x.tobytes().hex()}"
    if isinstance(x, ember.Tensor):
        return f"{kind}(grad={x.requires_grad}):{describe(np.asarray(x.array))}"
    return f"{kind}:{x!r}"


def _attempt(messages: dict, name: str, call) -> None:
    try:
        call()
        messages[name] = None
    except (RuntimeError, ValueError, TypeError) as e:
        messages[name] = f"{type(e).__name__}: {e}"


class Foo:
    """Not something the object collectives carry."""


# ------------------------------------------------------------ all_to_all (3 ranks)
def all_to_all(rank: int, world: int, out: dict, info: dict) -> None:
    messages = info["messages"] = {}
    # equal split, on a Tensor; then async_op on NumPy arrays
    equal = ember.tensor(np.zeros((world * EQUAL_ROWS, 3)))
    dist.all_to_all_single(equal, ember.tensor(rows(rank, world * EQUAL_ROWS)))
    out["equal"] = equal.numpy()
    got = np.zeros((world * EQUAL_ROWS, 3))
    work = dist.all_to_all_single(got, rows(rank, world * EQUAL_ROWS), async_op=True)
    info["waited"] = work.wait()
    out["equal_async"] = got
    # uneven split, some pieces empty
    sends = [uneven(rank, k) for k in range(world)]
    receives = [uneven(k, rank) for k in range(world)]
    got = np.zeros((sum(receives), 3))
    dist.all_to_all_single(got, rows(rank, sum(sends)), receives, sends)
    out["uneven"] = got
    # lists, each piece of its own shape, int64
    outs = [np.zeros(recv_shape(k, rank), np.int64) for k in range(world)]
    dist.all_to_all(outs, [piece(rank, k).astype(np.int64) for k in range(world)])
    for k, a in enumerate(outs):
        out[f"list_{k}"] = a
    outs = [ember.tensor(np.zeros((2, 3))) for _ in range(world)]  # one shape: gloo's case
    dist.all_to_all(outs, [ember.tensor(rows(rank, 2, start=2 * k)) for k in range(world)])
    out["list_equal"] = np.stack([t.numpy() for t in outs])
    # 4 MiB pieces both ways at once: the sends must not wait for the receives
    big = np.zeros((world * BIG_ROWS, 4), np.float32)
    start = time.monotonic()
    dist.all_to_all_single(big, rows(rank, world * BIG_ROWS, 4).astype(np.float32))
    info["big_s"] = time.monotonic() - start
    out["big_ends"] = big[[0, BIG_ROWS - 1, BIG_ROWS, world * BIG_ROWS - 1]]
    # a subgroup of ranks 0 and 2, and its non-member
    sub = dist.new_group([0, 2])
    if rank != 1:
        got = np.zeros((3, 3))
        me = dist.get_rank(sub)
        dist.all_to_all_single(got, rows(rank, 3), [1 + me, 2 - me], [1 + me, 2 - me], group=sub)
        out["sub"] = got
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            info["non_member"] = [
                dist.all_to_all_single(np.zeros(2), np.zeros(2), group=sub),
                dist.all_to_all([np.zeros(1)] * 2, [np.zeros(1)] * 2, group=sub),
            ]
        info["non_member_warnings"] = [str(w.message) for w in caught]
    # mistakes: every rank raises, and the group goes on
    wrong = [2, 1, 0] if rank == 1 else [1, 1, 1]
    _attempt(messages, "splits", lambda: dist.all_to_all_single(np.zeros(3), np.zeros(3), wrong))
    _attempt(messages, "divide", lambda: dist.all_to_all_single(np.zeros(3), np.zeros(4 + rank)))
    dtype = np.float32 if rank == 2 else np.float64
    mixed = np.zeros(3, dtype)
    _attempt(messages, "dtype", lambda: dist.all_to_all_single(mixed, mixed.copy()))
    short = [np.zeros(1)] * (2 if rank == 0 else 3)
    _attempt(messages, "length", lambda: dist.all_to_all(short, [np.zeros(1)] * 3))
    after = rows(rank, 1)
    dist.all_reduce(after)
    out["after"] = after


# ------------------------------------------------------------ the same with torch (3 ranks)
def torch_all_to_all(rank: int, world: int, out: dict, info: dict) -> None:
    """The calls of ``all_to_all`` that gloo supports, with torch.distributed (its
    all_to_all takes lists of tensors of one shape only)."""
    import torch
    import torch.distributed as tdist

    dist.destroy_process_group()  # main made ember's group; torch's meets on another port
    os.environ["MASTER_PORT"] = os.environ["SECOND_PORT"]
    tdist.init_process_group("gloo", timeout=timedelta(seconds=20))
    equal = torch.zeros(world * EQUAL_ROWS, 3, dtype=torch.float64)
    tdist.all_to_all_single(equal, torch.from_numpy(rows(rank, world * EQUAL_ROWS)))
    out["equal"] = equal.numpy()
    sends = [uneven(rank, k) for k in range(world)]
    receives = [uneven(k, rank) for k in range(world)]
    got = torch.zeros(sum(receives), 3, dtype=torch.float64)
    tdist.all_to_all_single(got, torch.from_numpy(rows(rank, sum(sends))), receives, sends)
    out["uneven"] = got.numpy()
    outs = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(world)]  # gloo: one shape
    tdist.all_to_all(outs, [torch.from_numpy(rows(rank, 2, start=2 * k)) for k in range(world)])
    out["list_equal"] = torch.stack(outs).numpy()
    sub = tdist.new_group([0, 2])
    if rank != 1:
        got = torch.zeros(3, 3, dtype=torch.float64)
        me = tdist.get_rank(sub)
        tdist.all_to_all_single(got, torch.from_numpy(rows(rank, 3)), [1 + me, 2 - me],
                                [1 + me, 2 - me], group=sub)  # fmt: skip
        out["sub"] = got.numpy()
    tdist.barrier()
    tdist.destroy_process_group()


# ------------------------------------------------------------ object collectives (3 ranks)
def objects(rank: int, world: int, out: dict, info: dict) -> None:
    messages = info["messages"] = {}
    gathered = [None] * world
    dist.all_gather_object(gathered, payload(rank))
    info["all_gather"] = describe(gathered)
    at_two = [None] * world if rank == 2 else None
    dist.gather_object(payload(rank), at_two, dst=2)
    info["gather"] = describe(at_two)
    listed = [payload(1), "second", (3,)] if rank == 1 else [None, None, None]
    dist.broadcast_object_list(listed, src=1)
    info["broadcast"] = describe(listed)
    mine = [None]
    scattered = [payload(k) for k in range(world)] if rank == 2 else None
    dist.scatter_object_list(mine, scattered, src=2)
    info["scatter"] = describe(mine)
    dist.scatter_object_list(mine, [[k] * k for k in range(world)] if rank == 0 else None)
    info["scatter0"] = describe(mine)
    # on a subgroup of ranks 1 and 2 (src/dst global), and its non-member
    sub = dist.new_group([1, 2])
    if rank:
        pair = [None, None]
        dist.all_gather_object(pair, {"from": rank}, group=sub)
        listed = [rank, rank]
        dist.broadcast_object_list(listed, src=2, group=sub)
        info["sub"] = describe([pair, listed])
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            info["non_member"] = [dist.all_gather_object([None] * 2, 1, group=sub)]
        info["non_member_warnings"] = [str(w.message) for w in caught]
    # refusals and mistakes: every rank raises, none waits, and the group goes on
    bad = {"opt": [1, 2, Foo()]} if rank == 1 else {"opt": [1, 2, 3]}
    _attempt(messages, "refused", lambda: dist.all_gather_object([None] * world, bad))
    key = {(1, 2): "tuple key"} if rank == 0 else {}
    at_zero = [None] * world if rank == 0 else None
    _attempt(messages, "key", lambda: dist.gather_object(key, at_zero))
    refused = [None]
    source = [1, np.array(["text"]), 3] if rank == 2 else None
    _attempt(messages, "scatter_refused", lambda: dist.scatter_object_list(refused, source, src=2))
    info["scatter_refused_left"] = describe(refused)
    length = [None] * (2 if rank == 1 else 3)
    _attempt(messages, "length", lambda: dist.broadcast_object_list(length, src=0))
    after = [None] * world
    dist.all_gather_object(after, rank * 10)
    info["after"] = describe(after)
    # monitored_barrier: all arrive; then ranks 1 and 2 late on a subgroup (wait_all_ranks),
    # then rank 2 late on the default group (each breaks its group)
    dist.monitored_barrier(timeout=timedelta(seconds=10))
    everyone = dist.new_group([0, 1, 2])
    if rank:
        time.sleep(1.0)
    start = time.monotonic()
    _attempt(messages, "monitored_all", lambda: dist.monitored_barrier(everyone, 0.4, True))
    info["monitored_all_s"] = time.monotonic() - start
    dist.barrier()
    if rank == 2:
        time.sleep(1.0)
    start = time.monotonic()
    _attempt(messages, "monitored", lambda: dist.monitored_barrier(timeout=timedelta(seconds=0.4)))
    info["monitored_s"] = time.monotonic() - start
    if rank < 2:
        time.sleep(1.0)  # rank 2 reads the verdict before rank 0's connections close
    info["backend"] = [dist.get_backend(), dist.is_available(), dist.get_process_group_ranks(sub)
                       if rank else None]  # fmt: skip


SCENARIOS = {"all_to_all": all_to_all, "torch_all_to_all": torch_all_to_all, "objects": objects}


def main(scenario: str, outdir: str) -> None:
    dist_workers.main(scenario, outdir, SCENARIOS)


if __name__ == "__main__":
    main(*sys.argv[1:3])
