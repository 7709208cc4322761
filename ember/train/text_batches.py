"""Batches of token ids for language models: TBPTT streams (recurrent) and random windows."""

from __future__ import annotations

import numpy


def detach_state(state):
    """Cut the graph behind a carried state (tuples of Tensors kept as tuples)."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    return state.detach()


class TBPTTStream:
    """The token ids as B parallel streams, read in consecutive windows of k steps.

    Stream b is ids[b·n : (b+1)·n]; window i gives inputs x = streams[:, i·k : (i+1)·k] and
    targets y = the same shifted by one. Consecutive windows continue each stream, so a state
    carried from window i to i+1 is the true state of that stream.
    """

    def __init__(self, ids, batch_size: int, bptt: int):
        n = (len(ids) - 1) // batch_size
        if n < 2:
            raise ValueError(
                f"text of {len(ids)} tokens is too short for {batch_size} streams; use a"
                " smaller batch size"
            )
        self.x = numpy.asarray(ids[: n * batch_size]).reshape(batch_size, n)
        self.y = numpy.asarray(ids[1 : n * batch_size + 1]).reshape(batch_size, n)
        self.bptt = bptt

    def __len__(self) -> int:
        return -(-self.x.shape[1] // self.bptt)

    def __iter__(self):
        for i in range(0, self.x.shape[1], self.bptt):
            yield self.x[:, i : i + self.bptt], self.y[:, i : i + self.bptt]


def random_windows(ids, batch_size: int, block: int, rng):
    """B random windows of ``block`` ids and their next-id targets (nanoGPT's get_batch)."""
    starts = rng.integers(0, len(ids) - block - 1, size=batch_size)
    idx = starts[:, None] + numpy.arange(block)[None, :]
    return ids[idx], ids[idx + 1]
