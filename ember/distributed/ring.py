"""Ring all_reduce: reduce-scatter then all-gather between ring neighbours.

The W ranks form a ring, rank r sending to r + 1 and receiving from r − 1 (mod W) over the
direct connections the rendezvous already made (a full mesh; in a subgroup, its own mesh and
its own ranks, rendezvous.py). The flat tensor is cut into
W chunks C₀ … C_{W−1} (the first N mod W one element longer; chunks may be empty when
N < W). Then 2(W − 1) steps, each rank sending one chunk to its right while it receives
one from its left (a sender thread does the sending, so neither side can block the other):

    reduce-scatter, step s = 0 … W−2:  send C_{r−s}, receive C_{r−s−1} =: acc ∘ C_{r−s−1}
    all-gather,     step s = 0 … W−2:  send C_{r+1−s}, receive C_{r−s} and keep it

Chunk c is combined in one fixed order on one rank, starting at rank c and going round:
((x_c ∘ x_{c+1}) ∘ x_{c+2}) ∘ … ∘ x_{c−1}, finished (and, for AVG, divided by W) on rank
c − 1, which owns it; the all-gather only copies those bits, so every rank holds the same
result and runs repeat bit for bit. For chunk 0 that is the star's rank order; other
chunks start elsewhere, so a float SUM, AVG or PRODUCT may differ from the star's in the
last bits (rounding of a differently associated sum); integer sums, MIN, MAX and the
bitwise ops are exact and equal the star's.

Each rank sends 2(W − 1)/W·N bytes (the star's rank 0 sends and receives (W − 1)·N), in
2(W − 1) steps of N/W bytes each; before them one round trip of small frames through rank
0 checks, as every collective does, that the ranks agree on the call, shape and dtype.
"""

from __future__ import annotations

import numpy

from .wire import RING, DistBackendError, DistError, Frame


def chunk_bounds(n: int, world: int) -> list[tuple[int, int]]:
    """[start, stop) of each of the ``world`` chunks of ``n`` elements (the first n mod W
    chunks one element longer; some are empty when n < W)."""
    base, extra = divmod(n, world)
    bounds, start = [], 0
    for c in range(world):
        stop = start + base + (1 if c < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def ring_all_reduce(g, x: numpy.ndarray, ufunc, average: bool, seq: int, op: int) -> numpy.ndarray:
    """op over every rank's ``x`` by the ring (see above); returns a new flat array.

    ``g`` is the ProcessGroup (its links, its sender thread and its failure handling);
    ``seq`` and ``op`` label the frames, so a rank out of step is caught, not misread.
    """
    world, me = g.size(), g.rank()
    right, left = (me + 1) % world, (me - 1) % world
    out = x.reshape(-1)  # reduced in place (a view of the caller's tensor on the CPU)
    if not out.flags.writeable:
        out = out.copy()
    bounds = chunk_bounds(out.size, world)
    scratch = numpy.empty(bounds[0][1] - bounds[0][0], out.dtype)  # the largest chunk

    def chunk(c: int) -> numpy.ndarray:
        start, stop = bounds[c % world]
        return out[start:stop]

    step = 0
    try:
        for s in range(world - 1):  # reduce-scatter: acc ∘ mine, into my copy
            mine = chunk(me - s - 1)
            got = _exchange(g, right, left, chunk(me - s), scratch[: mine.size], seq, op, step)
            ufunc(got, mine, out=mine)
            step += 1
        if average:
            owned = chunk(me + 1)
            owned /= world
        for s in range(world - 1):  # all-gather: copy the owners' bits
            into = chunk(me - s)
            got = _exchange(g, right, left, chunk(me + 1 - s), into, seq, op, step)
            if got is not into:
                into[...] = got
            step += 1
    except DistError as e:
        g.fail(str(e))
        raise
    return out


def _exchange(g, right: int, left: int, piece, like, seq: int, op: int, step: int,
              what: str = "ring all_reduce"):  # fmt: skip
    """Send ``piece`` to ``right`` (on the sender thread) while receiving the left's piece,
    which must be shaped ``like`` and is read straight into it when it can be (all_to_all
    uses it too: ``what`` names the collective in errors)."""
    frame = Frame(RING, op, seq=seq, tag=step, dtype=piece.dtype.str, shape=piece.shape)
    sending = g.sender.submit(lambda: g.link(right).send(frame, [piece]))
    try:
        got = g.next_frame(left, RING, into=like)
    finally:
        sending._done.wait()  # the socket is free again before anything else uses it
    sending.wait()  # its error, if the send failed
    if (got.seq, got.tag, got.shape, got.dtype) != (seq, step, like.shape, like.dtype.str):
        raise DistBackendError(
            f"rank {g.global_rank(g.rank())}: {what} out of step: rank"
            f" {g.global_rank(left)} sent step {got.tag} of"
            f" collective {got.seq} ({got.shape}, {got.dtype}), expected step {step} of"
            f" {seq} ({like.shape}, {like.dtype.str})"
        )
    return got.arrays[0]
