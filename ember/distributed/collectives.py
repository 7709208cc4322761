"""The collectives, with torch.distributed's names and arguments (point to point: p2p.py).

Each takes ember Tensors (or NumPy arrays) and writes its result into them in place, as
torch's do. A synchronous call returns when its result is in place; with ``async_op=True``
it returns a ``Work`` at once and the exchange runs on the group's communication thread
(work.py), in the order the calls were made: ``work.wait()`` returns once the result is in
the tensor, and raises what went wrong. A tensor of a process on the GPU is copied to the
host (when called), sent, and its result copied back.

Every rank computes nothing of its own: rank 0 combines the ranks' tensors in rank order and
sends each rank its result (group.py), so all ranks hold the same bits. An all_reduce of at
least ``RING_MIN_BYTES`` goes round the ring instead (ring.py): each chunk combined in one
fixed order on one rank and copied to the others, so all ranks still hold the same bits
(a float sum may differ from the star's in the last bits). ``EMBER_ALLREDUCE=ring`` or
``=star`` forces one algorithm (every rank must agree), ``EMBER_RING_MIN_BYTES`` moves the
threshold. A mistake on one rank (a tensor list of the wrong length, say) is reported to
all, so no rank waits for it.

``group=``: None for the default group, or a subgroup from ``new_group``; there "rank k"
above is the rank within the group (lists such as all_gather's are in that order), while
``src``/``dst`` are global ranks, as in torch. On a rank outside the group every call warns,
as torch's does, and returns None without touching its tensors.
"""

from __future__ import annotations

import enum
import os
from functools import reduce as _fold

import numpy

from .. import backend
from ..tensor import Tensor
from .group import ProcessGroup
from .process_group import resolve
from .wire import type_code
from .work import Work  # noqa: F401 - re-exported

#: all_reduce takes the ring from this many bytes (each rank's tensor) on; below, the star.
#: Measured with benchmarks/bench_distributed.py on 2 and 3 processes of a 2-core machine:
#: below 1 MB the star's one round trip wins (the ring's 2(W − 1) steps cost ~0.15 ms each,
#: 0.4 ms against 0.2 ms at 64 KB on 2 ranks, 1.1 against 0.3 on 3); the two are even at
#: 1 MB on 2 ranks, and from 2 MB the ring wins on both (1.2×; 1.4× on 2 ranks and 2.2× on
#: 3 at 64 MB). Between machines rank 0's link makes the star worse still for many ranks.
RING_MIN_BYTES = 2 << 20

#: what the calls take: an ember Tensor, or a NumPy (or, on the GPU, CuPy) array
TensorLike = Tensor | numpy.ndarray
Group = ProcessGroup | int | None  # None: the default group; int: NON_GROUP_MEMBER


class ReduceOp(enum.IntEnum):
    """How all_reduce, reduce and reduce_scatter combine the ranks' tensors (torch's names).
    AVG is SUM divided by the world size (floating point and complex only)."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


_UFUNCS = {
    ReduceOp.SUM: numpy.add,
    ReduceOp.AVG: numpy.add,
    ReduceOp.PRODUCT: numpy.multiply,
    ReduceOp.MIN: numpy.minimum,
    ReduceOp.MAX: numpy.maximum,
    ReduceOp.BAND: numpy.bitwise_and,
    ReduceOp.BOR: numpy.bitwise_or,
    ReduceOp.BXOR: numpy.bitwise_xor,
}


# ------------------------------------------------------------ tensors ↔ host arrays
def _host(x, what: str) -> numpy.ndarray:
    """The data of a Tensor or array as a contiguous host NumPy array (a view on the CPU)."""
    if isinstance(x, Tensor):
        a = x.array
    elif backend.is_host_or_device_array(x):
        a = x
    else:
        kind = type(x).__name__
        raise TypeError(f"{what}: expected an ember Tensor or a NumPy array, got {kind}")
    a = numpy.ascontiguousarray(backend.to_numpy(a))
    type_code(a)  # a clear TypeError for object or structured dtypes
    return a


def _store(x, value: numpy.ndarray) -> None:
    """Write ``value`` into the Tensor or array ``x`` in place (to the device if it lives there)."""
    target = x.array if isinstance(x, Tensor) else x
    value = value.reshape(target.shape)
    if isinstance(target, numpy.ndarray):
        if value.ctypes.data != target.ctypes.data or value.strides != target.strides:
            target[...] = value  # (the ring reduces a CPU tensor in place: nothing to copy)
    else:
        target[...] = backend.asarray(value)


def _op_problem(op: ReduceOp, dtype: numpy.dtype) -> str:
    """Why ``op`` cannot reduce tensors of ``dtype`` ("" when it can)."""
    if op is ReduceOp.AVG and dtype.kind not in "fc":
        return f"ReduceOp.AVG needs floating-point tensors, got {dtype}"
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.kind not in "biu":
        return f"ReduceOp.{op.name} needs integer or bool tensors, got {dtype}"
    return ""


def _combine(op: ReduceOp, arrays: list) -> numpy.ndarray:
    """op over the ranks' arrays in rank order: ((x₀ ∘ x₁) ∘ x₂) ∘ …, one fixed order."""
    op = ReduceOp(op)
    problem = _op_problem(op, arrays[0].dtype)
    if problem:
        raise ValueError(problem)
    ufunc = _UFUNCS[op]
    out = _fold(lambda acc, x: ufunc(acc, x, out=acc), arrays[1:], arrays[0].copy())
    if op is ReduceOp.AVG:
        out /= len(arrays)
    return out


def _check_op(op) -> int:
    try:
        return int(ReduceOp(op))
    except ValueError:
        raise ValueError(f"op={op!r}: expected a ReduceOp (SUM, AVG, PRODUCT, MIN, MAX)") from None


def _check_rank(g: ProcessGroup, name: str, r, group_r=None, default: int | None = None) -> int:
    """The rank within ``g`` of the global rank ``r`` (``src``/``dst`` are global, as in
    torch), or ``group_r`` itself (torch's ``group_src``/``group_dst``: a rank within ``g``);
    ``default`` (a global rank) when neither is given; else a ValueError saying what would do."""
    if group_r is not None:
        if r is not None:
            raise ValueError(f"{name}={r!r} and group_{name}={group_r!r}: give one, not both")
        if isinstance(group_r, bool) or not isinstance(group_r, int) or not 0 <= group_r < g.size():
            raise ValueError(f"group_{name}={group_r!r}: expected a rank in 0 … {g.size() - 1}")
        return group_r
    if r is None and (r := default) is None:
        raise ValueError(f"give {name} (a global rank) or group_{name} (a rank in the group)")
    ranks = g.ranks()
    if isinstance(r, bool) or not isinstance(r, int) or r not in ranks:
        within = f"a rank in 0 … {g.size() - 1}" if ranks == list(range(g.size())) else (
            f"one of the group's global ranks {ranks}"
        )  # fmt: skip
        raise ValueError(f"{name}={r!r}: expected {within}")
    return ranks.index(r)


def _list_problem(items, like: numpy.ndarray, n: int, name: str) -> str:
    """Why ``items`` is not a list of ``n`` tensors shaped like ``like`` ("" when it is)."""
    if not isinstance(items, (list, tuple)) or len(items) != n:
        got = f"{len(items)} entries" if isinstance(items, (list, tuple)) else repr(items)
        return f"{name} must be a list of {n} tensors (one per rank), got {got}"
    for i, t in enumerate(items):
        a = _host(t, name)
        if a.shape != like.shape or a.dtype != like.dtype:
            return (
                f"{name}[{i}] has shape {a.shape} and dtype {a.dtype}, expected shape"
                f" {like.shape} and dtype {like.dtype}"
            )
    return ""


def _every(g, value: list) -> dict:
    return dict.fromkeys(range(g.size()), value)


def _firsts(got: dict) -> list:
    """Each rank's first array, in rank order."""
    return [got[k][0] for k in sorted(got)]


# ------------------------------------------------------------ collectives
def all_reduce(tensor: TensorLike, op: ReduceOp = ReduceOp.SUM, group: Group = None,
               async_op: bool = False) -> Work | None:  # fmt: skip
    """Every rank's ``tensor`` := op over all ranks' tensors (in rank order, same bits)."""
    if (g := resolve(group, "all_reduce")) is None:
        return None
    x, rop = _host(tensor, "all_reduce"), _check_op(op)

    def combine(got):
        return _every(g, [_combine(rop, _firsts(got))])

    ring = _ring_for(g, x)  # chosen when called, not when the queue gets to it

    def exchange() -> None:
        if ring:
            problem = _op_problem(ReduceOp(rop), x.dtype)
            ufunc, average = _UFUNCS[ReduceOp(rop)], rop == ReduceOp.AVG
            _store(tensor, g.all_reduce_ring(x, rop, ufunc, average, error=problem))
        else:
            _store(tensor, g.collective("all_reduce", x, [x], rop=rop, combine=combine)[0])

    return g.run(exchange, async_op, [tensor])


def _ring_for(g: ProcessGroup, x: numpy.ndarray) -> bool:
    """Whether all_reduce of ``x`` takes the ring: EMBER_ALLREDUCE=ring|star forces it,
    otherwise (auto) from RING_MIN_BYTES (or EMBER_RING_MIN_BYTES) on, with 2+ ranks."""
    if g.size() < 2:
        return False
    choice = os.environ.get("EMBER_ALLREDUCE", "auto").strip().lower()
    if choice in ("ring", "star"):
        return choice == "ring"
    if choice not in ("", "auto"):
        raise ValueError(f"EMBER_ALLREDUCE={choice!r}: expected 'ring', 'star' or 'auto'")
    limit = os.environ.get("EMBER_RING_MIN_BYTES", "").strip()
    return x.nbytes >= (int(limit) if limit else RING_MIN_BYTES)


def broadcast(tensor: TensorLike, src: int | None = None, group: Group = None,
              async_op: bool = False, group_src: int | None = None) -> Work | None:  # fmt: skip
    """Every rank's ``tensor`` := rank ``src``'s."""
    if (g := resolve(group, "broadcast")) is None:
        return None
    x, src = _host(tensor, "broadcast"), _check_rank(g, "src", src, group_src)
    me = g.rank()

    def combine(got):
        value = got[src][0] if src else x
        return {k: [value] for k in range(g.size()) if k != src}

    def exchange() -> None:
        sent = [x] if me == src and me else []
        out = g.collective("broadcast", x, sent, root=src, combine=combine)
        if me != src:
            _store(tensor, out[0])

    return g.run(exchange, async_op, [tensor])


def all_gather(tensor_list: list, tensor: TensorLike, group: Group = None,
               async_op: bool = False) -> Work | None:  # fmt: skip
    """``tensor_list[k]`` := rank k's ``tensor``, on every rank."""
    if (g := resolve(group, "all_gather")) is None:
        return None
    x = _host(tensor, "all_gather")
    error = _list_problem(tensor_list, x, g.size(), "tensor_list")

    def exchange() -> None:
        out = g.collective(
            "all_gather", x, [x], error=error, combine=lambda got: _every(g, _firsts(got))
        )
        for t, a in zip(tensor_list, out):
            _store(t, a)

    return g.run(exchange, async_op, tensor_list)


def all_gather_into_tensor(output_tensor: TensorLike, input_tensor: TensorLike,
                           group: Group = None, async_op: bool = False) -> Work | None:  # fmt: skip
    """``output_tensor`` := the ranks' ``input_tensor`` in rank order, concatenated along dim 0
    (or stacked: any output of world_size × input's elements and input's dtype)."""
    if (g := resolve(group, "all_gather_into_tensor")) is None:
        return None
    x, out_host = _host(input_tensor, "all_gather_into_tensor"), _host(output_tensor, "output")
    error = ""
    if out_host.size != g.size() * x.size or out_host.dtype != x.dtype:
        error = (
            f"output_tensor has {out_host.size} elements of {out_host.dtype}, expected"
            f" world_size × {x.size} = {g.size() * x.size} of {x.dtype}"
        )

    def exchange() -> None:
        out = g.collective("all_gather_into_tensor", x, [x], error=error,
                           combine=lambda got: _every(g, _firsts(got)))  # fmt: skip
        _store(output_tensor, numpy.concatenate([a.reshape(-1) for a in out]))

    return g.run(exchange, async_op, [output_tensor])


def reduce(tensor: TensorLike, dst: int | None = None, op: ReduceOp = ReduceOp.SUM,
           group: Group = None, async_op: bool = False,
           group_dst: int | None = None) -> Work | None:  # fmt: skip
    """Rank ``dst``'s ``tensor`` := op over all ranks' tensors; the others' are unchanged."""
    if (g := resolve(group, "reduce")) is None:
        return None
    x, rop = _host(tensor, "reduce"), _check_op(op)
    dst = _check_rank(g, "dst", dst, group_dst)

    def combine(got):
        return {dst: [_combine(rop, _firsts(got))]}

    def exchange() -> None:
        out = g.collective("reduce", x, [x], root=dst, rop=rop, combine=combine)
        if g.rank() == dst:
            _store(tensor, out[0])

    return g.run(exchange, async_op, [tensor])


def gather(tensor: TensorLike, gather_list: list | None = None, dst: int | None = None,
           group: Group = None, async_op: bool = False,
           group_dst: int | None = None) -> Work | None:  # fmt: skip
    """Rank ``dst``'s ``gather_list[k]`` := rank k's ``tensor`` (give gather_list on dst only)."""
    if (g := resolve(group, "gather")) is None:
        return None
    x, dst = _host(tensor, "gather"), _check_rank(g, "dst", dst, group_dst, default=0)
    if g.rank() == dst:
        error = _list_problem(gather_list, x, g.size(), "gather_list")
    else:
        error = "gather_list must not be given on a rank other than dst" if gather_list else ""

    def exchange() -> None:
        out = g.collective(
            "gather", x, [x], root=dst, error=error, combine=lambda got: {dst: _firsts(got)}
        )
        for t, a in zip(gather_list or [], out):
            _store(t, a)

    return g.run(exchange, async_op, gather_list or [])


def scatter(tensor: TensorLike, scatter_list: list | None = None, src: int | None = None,
            group: Group = None, async_op: bool = False,
            group_src: int | None = None) -> Work | None:  # fmt: skip
    """Rank k's ``tensor`` := rank ``src``'s ``scatter_list[k]`` (give scatter_list on src only)."""
    if (g := resolve(group, "scatter")) is None:
        return None
    x, me = _host(tensor, "scatter"), g.rank()
    src = _check_rank(g, "src", src, group_src, default=0)
    pieces, error = [], ""
    if me == src:
        error = _list_problem(scatter_list, x, g.size(), "scatter_list")
        pieces = [] if error else [_host(t, "scatter_list") for t in scatter_list]
    elif scatter_list:
        error = "scatter_list must not be given on a rank other than src"

    def combine(got):
        chosen = pieces if src == 0 else got[src]
        return {k: [chosen[k]] for k in range(g.size())}

    def exchange() -> None:
        out = g.collective("scatter", x, pieces if me == src and me else [], root=src,
                           error=error, combine=combine)  # fmt: skip
        _store(tensor, out[0])

    return g.run(exchange, async_op, [tensor])


def reduce_scatter_tensor(output: TensorLike, input: TensorLike,  # noqa: A002 - torch's name
                          op: ReduceOp = ReduceOp.SUM, group: Group = None,
                          async_op: bool = False) -> Work | None:  # fmt: skip
    """Rank k's ``output`` := the k-th of world_size equal parts of op over the ranks'
    ``input`` (input has world_size × output's elements)."""
    if (g := resolve(group, "reduce_scatter_tensor")) is None:
        return None
    x, y, rop = _host(input, "reduce_scatter_tensor"), _host(output, "output"), _check_op(op)
    n, error = y.size, ""
    if x.size != g.size() * n or x.dtype != y.dtype:
        error = (
            f"input has {x.size} elements of {x.dtype}, expected world_size × {n} ="
            f" {g.size() * n} of the output's {y.dtype}"
        )

    def combine(got):
        total = _combine(rop, _firsts(got)).reshape(-1)
        return {k: [total[k * n : (k + 1) * n]] for k in range(g.size())}

    def exchange() -> None:
        out = g.collective("reduce_scatter_tensor", x, [x], rop=rop, error=error,
                           combine=combine)  # fmt: skip
        _store(output, out[0])

    return g.run(exchange, async_op, [output])


def reduce_scatter(output: TensorLike, input_list: list, op: ReduceOp = ReduceOp.SUM,
                   group: Group = None, async_op: bool = False) -> Work | None:  # fmt: skip
    """Rank k's ``output`` := op over the ranks' ``input_list[k]``."""
    if (g := resolve(group, "reduce_scatter")) is None:
        return None
    y, rop = _host(output, "reduce_scatter"), _check_op(op)
    error = _list_problem(input_list, y, g.size(), "input_list")
    sent = [] if error else [_host(t, "input_list") for t in input_list]

    def combine(got):
        return {k: [_combine(rop, [got[r][k] for r in sorted(got)])] for k in range(g.size())}

    def exchange() -> None:
        out = g.collective("reduce_scatter", y, sent, rop=rop, error=error, combine=combine)
        _store(output, out[0])

    return g.run(exchange, async_op, [output])


def barrier(group: Group = None, async_op: bool = False, device_ids=None,
            timeout=None) -> Work | None:  # fmt: skip
    """Return once every rank has called barrier()."""
    if (g := resolve(group, "barrier")) is None:
        return None
    return g.run(lambda: g.collective("barrier", None), async_op)
