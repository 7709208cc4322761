"""all_to_all and all_to_all_single, with torch.distributed's names and arguments.

Rank i sends its k-th piece to rank k, which keeps it as its i-th: the transpose of a
world_size × world_size table of pieces, as a mixture-of-experts layer or a sequence ↔ head
reshuffle needs. ``all_to_all_single`` cuts ``input`` along dim 0 into ``input_split_sizes``
rows per rank (equal parts when None) and fills ``output`` along dim 0 with
``output_split_sizes`` rows from each rank; ``all_to_all`` takes lists of tensors instead,
each piece of its own shape (a received piece must have as many elements as its sender's).

How: one round trip of small frames through rank 0 first, as every collective has
(group.py): each rank says how many elements it sends to and expects from each rank, and in
which dtype; rank 0 checks that rank i's count for k is rank k's count from i, for every
pair, and that the dtypes agree, and otherwise every rank raises an error naming the ranks
and the counts. Then W − 1 steps over the direct connections (the mesh of rendezvous.py):
in step s, rank r sends its piece for r + s while it receives the piece of r − s (mod W),
on the group's sender thread as the ring does (ring.py), so no two ranks wait for each
other and each piece crosses one link once, straight into the output where it can.

``async_op=True`` returns a ``Work`` (work.py); on a subgroup, pieces are in the order of
the group's ranks; on a rank outside the group the call warns and returns None.
"""

from __future__ import annotations

import math

import numpy

from .collectives import Group, TensorLike, _host, _store
from .group import OPS
from .process_group import resolve
from .ring import _exchange
from .wire import DistError
from .work import Work


def all_to_all_single(output: TensorLike, input: TensorLike,  # noqa: A002 - torch's name
                      output_split_sizes: list[int] | None = None,
                      input_split_sizes: list[int] | None = None, group: Group = None,
                      async_op: bool = False) -> Work | None:  # fmt: skip
    """Rank k's rows of ``output`` from rank i := rank i's rows of ``input`` for rank k
    (``*_split_sizes``: rows per rank along dim 0; None: equal parts)."""
    if (g := resolve(group, "all_to_all_single")) is None:
        return None
    x, y, n = _host(input, "all_to_all_single"), _host(output, "output"), g.size()
    ins, error = _splits(input_split_sizes, x, n, "input")
    outs, out_error = _splits(output_split_sizes, y, n, "output")
    error = error or out_error
    if not error and x.dtype != y.dtype:
        error = f"output has dtype {y.dtype}, but input has {x.dtype}"
    pieces, intos, flat = [], [], numpy.empty(y.size, y.dtype)
    if not error:
        pieces = _cut(x.reshape(-1), [k * math.prod(x.shape[1:]) for k in ins])
        intos = _cut(flat, [k * math.prod(y.shape[1:]) for k in outs])

    def exchange() -> None:
        _all_to_all(g, "all_to_all_single", pieces, intos, x.dtype, error)
        _store(output, flat)

    return g.run(exchange, async_op, [output])


def all_to_all(output_tensor_list: list, input_tensor_list: list, group: Group = None,
               async_op: bool = False) -> Work | None:  # fmt: skip
    """Rank k's ``output_tensor_list[i]`` := rank i's ``input_tensor_list[k]``."""
    if (g := resolve(group, "all_to_all")) is None:
        return None
    n, error = g.size(), ""
    for name, items in (("output_tensor_list", output_tensor_list),
                        ("input_tensor_list", input_tensor_list)):  # fmt: skip
        if not isinstance(items, (list, tuple)) or len(items) != n:
            got = f"{len(items)} entries" if isinstance(items, (list, tuple)) else repr(items)
            error = error or f"{name} must be a list of {n} tensors (one per rank), got {got}"
    pieces, intos, dtype = [], [], None
    if not error:
        pieces = [_host(t, "input_tensor_list").reshape(-1) for t in input_tensor_list]
        outs = [_host(t, "output_tensor_list") for t in output_tensor_list]
        intos = [numpy.empty(a.size, a.dtype) for a in outs]
        dtypes = {a.dtype for a in pieces + intos}
        if len(dtypes) > 1:
            error = "the tensors must all have one dtype, got " + ", ".join(
                sorted(str(d) for d in dtypes)
            )
        dtype = pieces[0].dtype

    def exchange() -> None:
        got = _all_to_all(g, "all_to_all", pieces, intos, dtype, error)
        for t, a in zip(output_tensor_list, got):
            _store(t, a)

    return g.run(exchange, async_op, output_tensor_list)


def _splits(sizes, a: numpy.ndarray, n: int, name: str) -> tuple[list[int], str]:
    """The rows along dim 0 of ``a`` for each of the ``n`` ranks, and why not ("" if fine)."""
    if a.ndim == 0:
        return [], f"{name} must have at least one dimension (it is cut along dim 0)"
    rows = a.shape[0]
    if sizes is None or len(sizes) == 0:
        if rows % n:
            return [], (
                f"{name}'s dim 0 ({rows}) does not divide among {n} ranks: pass {name}_split_sizes"
            )
        return [rows // n] * n, ""
    sizes = list(sizes)
    if len(sizes) != n or any(
        isinstance(k, bool) or not isinstance(k, (int, numpy.integer)) or k < 0 for k in sizes
    ):
        return [], f"{name}_split_sizes={sizes}: expected {n} non-negative ints (one per rank)"
    if sum(sizes) != rows:
        return [], f"{name}_split_sizes={sizes} sum to {sum(sizes)}, but {name}'s dim 0 is {rows}"
    return [int(k) for k in sizes], ""


def _cut(flat: numpy.ndarray, counts: list[int]) -> list[numpy.ndarray]:
    bounds = numpy.concatenate([[0], numpy.cumsum(counts, dtype=numpy.int64)])
    return [flat[int(a) : int(b)] for a, b in zip(bounds[:-1], bounds[1:])]


def _dtype_id(dtype) -> int:
    """A dtype as one number that can travel in an int64 frame: its type code's characters."""
    code = numpy.dtype(dtype).str if dtype is not None else ""
    return int.from_bytes(code.encode("ascii"), "little")


def _dtype_name(number: int) -> str:
    return str(numpy.dtype(number.to_bytes(8, "little").rstrip(b"\0").decode("ascii")))


def _all_to_all(g, op: str, pieces: list, intos: list, dtype, error: str) -> list:
    """Agree on the counts through rank 0, then exchange ``pieces[k]`` (to rank k) for the
    pieces that fill ``intos[i]`` (from rank i); returns what arrived, in rank order."""
    n, me = g.size(), g.rank()
    mine = numpy.zeros(2 * n + 1, numpy.int64)
    if not error:
        mine[:n], mine[n : 2 * n] = [p.size for p in pieces], [a.size for a in intos]
        mine[2 * n] = _dtype_id(dtype)
    seq = g._seq  # the check's sequence number labels the exchange's frames

    def check(got: dict) -> dict:
        ranks = g.ranks()
        dtypes = {ranks[k]: _dtype_name(int(a[0][2 * n])) for k, a in got.items()}
        if len(set(dtypes.values())) > 1:
            raise ValueError("ranks passed tensors of different dtypes: " + "; ".join(
                f"rank {k}: {d}" for k, d in dtypes.items()))  # fmt: skip
        wrong = [
            f"rank {ranks[i]} sends {int(got[i][0][k])} elements to rank {ranks[k]}, which"
            f" expects {int(got[k][0][n + i])} from it"
            for i in range(n) for k in range(n) if got[i][0][k] != got[k][0][n + i]
        ]  # fmt: skip
        if wrong:
            raise ValueError("the split sizes do not match: " + "; ".join(wrong))
        return {}

    g.collective(op, mine, [mine], error=error, combine=check)
    out = list(intos)
    out[me][...] = pieces[me]
    try:
        for s in range(1, n):
            right, left = (me + s) % n, (me - s) % n
            got = _exchange(g, right, left, numpy.ascontiguousarray(pieces[right]), intos[left],
                            seq, OPS.index(op), s - 1, op)  # fmt: skip
            if got is not intos[left]:
                intos[left][...] = got
    except DistError as e:
        g.fail(str(e))
        raise
    return out
