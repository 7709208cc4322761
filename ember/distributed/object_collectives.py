"""The object collectives, with torch.distributed's names and arguments, but no pickle:
``all_gather_object``, ``gather_object``, ``broadcast_object_list``, ``scatter_object_list``.

The objects travel in objects.py's encoding (None, bool, int, float, complex, str, bytes,
lists, tuples, dicts, NumPy arrays and Tensors, nested), so a rank that receives only ever
builds data. Each call is two collectives through rank 0 (group.py), as torch's are: the
ranks first exchange the sizes of their encodings (and any mistake: an object that cannot
be sent, a list of the wrong length), then the encodings, each padded to the largest so the
frames agree. An object that cannot be sent raises a TypeError on its rank, naming its type
and where it sits in the object; every other rank raises a ``DistBackendError`` that says
which rank failed and why, so none waits for it and the group stays usable.

Tensors in the objects go through the host and come back as CPU-side values wrapped the way
``ember.tensor`` would (on the GPU backend, on the device). ``group=`` and ``src``/``dst`` are
as in collectives.py: global ranks; on a rank outside the group each call warns and returns
None without touching its arguments.
"""

from __future__ import annotations

import numpy

from .collectives import Group, _check_rank, _every, _firsts
from .objects import decode, encode
from .process_group import resolve
from .wire import DistBackendError

_NOTHING = numpy.zeros(0, numpy.uint8)


def _encoded(obj, path: str):
    """(the encoding as a uint8 array, the refusal's message, the refusal) of ``obj``."""
    try:
        return numpy.frombuffer(encode(obj, path), numpy.uint8), "", None
    except TypeError as e:
        return _NOTHING, str(e), e


def _padded(data: numpy.ndarray, n: int) -> numpy.ndarray:
    out = numpy.zeros(n, numpy.uint8)
    out[: data.size] = data
    return out


def _sizes(g, op: str, sizes: numpy.ndarray, error: str, refusal, combine) -> list:
    """The first round trip: the sizes (and the errors) of every rank. A rank whose object
    was refused raises that TypeError; the others raise the DistBackendError naming it."""
    try:
        return g.collective(op, sizes, [sizes], error=error, combine=combine)
    except DistBackendError as e:
        if refusal is not None:
            raise refusal from e
        raise


def _list_problem(items, n: int, name: str) -> str:
    if not isinstance(items, list) or len(items) != n:
        got = f"{len(items)} entries" if isinstance(items, list) else f"a {type(items).__name__}"
        return f"{name} must be a list of {n} entries (one per rank), got {got}"
    return ""


def all_gather_object(object_list: list, obj, group: Group = None) -> None:
    """``object_list[k]`` := rank k's ``obj``, on every rank (object_list: world_size long)."""
    if (g := resolve(group, "all_gather_object")) is None:
        return None
    data, error, refusal = _encoded(obj, "obj")
    error = error or _list_problem(object_list, g.size(), "object_list")

    def run() -> None:
        mine = numpy.array([data.size], numpy.int64)
        got = _sizes(g, "all_gather_object", mine, error, refusal,
                     lambda got: _every(g, [numpy.concatenate(_firsts(got))]))  # fmt: skip
        sizes = got[0]
        x = _padded(data, int(sizes.max()))
        out = g.collective("all_gather_object", x, [x],
                           combine=lambda got: _every(g, _firsts(got)))  # fmt: skip
        object_list[:] = [decode(a[: int(n)]) for a, n in zip(out, sizes)]

    g.run(run)
    return None


def gather_object(obj, object_gather_list: list | None = None, dst: int | None = None,
                  group: Group = None, group_dst: int | None = None) -> None:  # fmt: skip
    """Rank ``dst``'s ``object_gather_list[k]`` := rank k's ``obj`` (give the list on dst
    only, world_size long)."""
    if (g := resolve(group, "gather_object")) is None:
        return None
    dst = _check_rank(g, "dst", dst, group_dst, default=0)
    data, error, refusal = _encoded(obj, "obj")
    if not error and g.rank() == dst:
        error = _list_problem(object_gather_list, g.size(), "object_gather_list")
    elif not error and object_gather_list is not None:
        error = "object_gather_list must be None on a rank other than dst"

    def run() -> None:
        mine = numpy.array([data.size], numpy.int64)
        got = _sizes(g, "gather_object", mine, error, refusal,
                     lambda got: _every(g, [numpy.concatenate(_firsts(got))]))  # fmt: skip
        sizes = got[0]
        x = _padded(data, int(sizes.max()))
        out = g.collective("gather_object", x, [x], root=dst,
                           combine=lambda got: {dst: _firsts(got)})  # fmt: skip
        if g.rank() == dst:
            object_gather_list[:] = [decode(a[: int(n)]) for a, n in zip(out, sizes)]

    g.run(run)
    return None


def broadcast_object_list(object_list: list, src: int | None = None, group: Group = None,
                          device=None, group_src: int | None = None) -> None:  # fmt: skip
    """Every rank's ``object_list`` := rank ``src``'s, entry by entry (the lists must be of one
    length on every rank; on src it is left as it is). ``device`` is accepted for torch's
    signature: the objects travel through the host either way."""
    if (g := resolve(group, "broadcast_object_list")) is None:
        return None
    src, me = _check_rank(g, "src", src, group_src, default=0), g.rank()
    data, error, refusal = _NOTHING, "", None
    if not isinstance(object_list, list):
        error = f"object_list must be a list, got a {type(object_list).__name__}"
    elif me == src:
        data, error, refusal = _encoded(list(object_list), "object_list")

    def combine(got: dict) -> dict:
        lengths = {g.global_rank(k): int(a[0][0]) for k, a in got.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError("ranks passed object lists of different lengths: " + "; ".join(
                f"rank {k}: {n}" for k, n in lengths.items()))  # fmt: skip
        return _every(g, [got[src][0]])

    def run() -> None:
        n = len(object_list) if isinstance(object_list, list) else -1
        mine = numpy.array([n, data.size], numpy.int64)
        size = int(_sizes(g, "broadcast_object_list", mine, error, refusal, combine)[0][1])
        x = data if me == src else numpy.zeros(size, numpy.uint8)

        def spread(got: dict) -> dict:
            value = got[src][0] if src else x
            return {k: [value] for k in range(g.size()) if k != src}

        got = g.collective("broadcast_object_list", x, [x] if me == src and me else [],
                           root=src, combine=spread)  # fmt: skip
        if me != src:
            object_list[:] = decode(got[0])

    g.run(run)
    return None


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list=None,
                        src: int | None = None, group: Group = None,
                        group_src: int | None = None) -> None:  # fmt: skip
    """Rank k's ``scatter_object_output_list[0]`` := rank ``src``'s
    ``scatter_object_input_list[k]`` (the input list counts on src only, world_size long)."""
    if (g := resolve(group, "scatter_object_list")) is None:
        return None
    src, me, size = _check_rank(g, "src", src, group_src, default=0), g.rank(), g.size()
    pieces, error, refusal = [], "", None
    out = scatter_object_output_list
    if not isinstance(out, list) or not out:
        error = "scatter_object_output_list must be a non-empty list (its first entry is set)"
    elif me == src:
        error = _list_problem(scatter_object_input_list, size, "scatter_object_input_list")
        for k, obj in enumerate(scatter_object_input_list if not error else []):
            data, error, refusal = _encoded(obj, f"scatter_object_input_list[{k}]")
            if error:
                break
            pieces.append(data)

    def run() -> None:
        mine = numpy.zeros(size, numpy.int64)
        if pieces:
            mine[:] = [p.size for p in pieces]
        sizes = _sizes(g, "scatter_object_list", mine, error, refusal,
                       lambda got: _every(g, [got[src][0]]))[0]  # fmt: skip
        x = numpy.zeros(int(sizes.max()), numpy.uint8)
        sent = [_padded(p, x.size) for p in pieces]

        def combine(got: dict) -> dict:
            chosen = sent if src == 0 else got[src]
            return {k: [chosen[k]] for k in range(size)}

        got = g.collective("scatter_object_list", x, sent if me == src and me else [],
                           root=src, combine=combine)  # fmt: skip
        out[0] = decode(got[0][: int(sizes[me])])

    g.run(run)
    return None
