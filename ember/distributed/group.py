"""The process group: this rank's connections, and the one exchange every collective runs.

A ProcessGroup is the default group of all ranks, or a subgroup from ``new_group``
(process_group.py) with connections of its own; either way it counts its ranks 0 … size − 1
(``ranks()`` maps them to global ranks, and errors name global ranks).

Topology: a star through rank 0. Every collective is one round trip: each rank k > 0 sends
rank 0 a request (which collective, its sequence number, root and reduce op, its tensor's
dtype and shape, and whatever data the collective needs from it); rank 0 reads the requests
in rank order, checks that all ranks called the same collective on tensors of the same dtype
and shape, computes every rank's result in one fixed order (a sum is ((x₀ + x₁) + x₂) + …,
so every rank gets the same bits), and replies. Rank 0 reads each request to its end even
when it is wrong, so after a mismatch every rank raises the same error and the group stays
usable.

Cost, for a tensor of N bytes among W ranks: the star's all_reduce moves (W − 1)·N bytes
into rank 0 and (W − 1)·N out of it, in two hops. Large all_reduces take the ring instead
(ring.py: 2(W − 1)/W·N bytes per rank, in 2(W − 1) hops between neighbours, after one
round trip of small frames through rank 0 that checks the ranks agree); the star stays for
small tensors, where one round trip costs less than a ring's many, and for the other
collectives. Point-to-point messages and the ring use the direct connections between two
ranks (rendezvous.py builds a full mesh).

Order: every collective runs through ``run``: an asynchronous one is queued for the group's
communication thread (work.py), a synchronous one waits for that queue to empty and runs on
the caller's thread, so the ranks' operations reach the wire in the order they were called.
Point-to-point transfers are posted through ``post`` in that same order and then run on the
mailbox's threads (mailbox.py). Reading a connection is one frame at a time under its read
lock: a collective that meets a message stashes it in the mailbox, and the mailbox's thread
leaves a collective's frame in the group's inbox for that peer, where ``_next`` looks first.

Failures: a peer that closes its connection, or is silent for the group's timeout, raises a
``DistNetworkError`` naming it; rank 0 then tells the others before raising, and the group
is marked broken (every later call says why at once).
"""

from __future__ import annotations

from collections import deque

import numpy

from .mailbox import Mailbox
from .ring import ring_all_reduce
from .wire import FATAL, REPLY, REQUEST, SEND, DistBackendError, DistError, DistNetworkError, Frame
from .work import Work, Worker

#: the collectives, by their code on the wire
OPS = (
    "barrier", "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce",
    "gather", "scatter", "reduce_scatter_tensor", "reduce_scatter", "all_reduce (ring)",
    "new_group", "all_to_all", "all_to_all_single", "all_gather_object", "gather_object",
    "broadcast_object_list", "scatter_object_list", "monitored_barrier",
)  # fmt: skip


class ProcessGroup:
    """torch.distributed.ProcessGroup: the ranks of one job (or of a subgroup of it) and how
    to reach them. Ranks here are the group's own, 0 … size − 1; ``ranks`` lists the global
    rank of each (None: the default group, where the two are the same)."""

    def __init__(self, rank: int, world_size: int, links: dict, timeout: float, backend: str,
                 ranks: list[int] | None = None):  # fmt: skip
        self._rank, self._size = rank, world_size
        self._links = links  # peer's group rank → wire.Link
        self.timeout, self.backend = timeout, backend
        self._ranks = list(range(world_size)) if ranks is None else list(ranks)
        self._subgroup = ranks is not None
        self._seq = 0  # collectives called so far; ranks must agree on it
        self._inbox: dict[int, deque] = {peer: deque() for peer in links}  # read by the mailbox
        self._broken = ""
        me = self._ranks[rank]
        self._worker = Worker(f"ember-distributed-rank{me}")  # async_op=True's thread
        self.sender = Worker(f"ember-distributed-rank{me}-send")  # the ring's sends
        self.mail = Mailbox(self)  # send/recv, isend/irecv (mailbox.py)

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def ranks(self) -> list[int]:
        """The global rank of each of the group's ranks, in group-rank order."""
        return list(self._ranks)

    def global_rank(self, group_rank: int) -> int:
        return self._ranks[group_rank]

    def __repr__(self) -> str:
        members = f", ranks={self._ranks}" if self._subgroup else ""
        return (
            f"ProcessGroup(rank={self._rank}, size={self._size}{members}, backend={self.backend!r})"
        )

    def close(self) -> None:
        """Finish the queued operations, then close every connection."""
        self._worker.stop()
        self.sender.stop()
        self.mail.stop("destroy_process_group() was called")
        for link in self._links.values():
            link.close()
        self._links = {}
        self._broken = "destroy_process_group() was called"

    def check_usable(self) -> None:
        if self._broken:
            raise DistBackendError(
                f"rank {self._ranks[self._rank]}: the process group can no longer be used:"
                f" {self._broken}"
            )

    def run(self, operation, async_op: bool = False, result=()) -> Work | None:
        """Run ``operation()`` in this group's order: queued for the communication thread
        (returning its Work) when ``async_op``, else on this thread once the queue is empty."""
        if async_op:
            self.check_usable()
            return self._worker.submit(operation, list(result))
        self._worker.drain()
        operation()
        return None

    def post(self, operation, work: Work) -> Work:
        """Run ``operation()``, which only posts a transfer (mailbox.py) and never blocks, in
        this group's order: now when the communication thread is idle, else queued behind
        its operations; what it raises fails ``work``."""

        def guarded() -> None:
            try:
                operation()
            except BaseException as e:  # noqa: BLE001 - handed to whoever waits on the Work
                work._finish(e)

        if self._worker.pending():
            self._worker.submit(guarded)
        else:
            guarded()
        return work

    def link(self, peer: int):
        return self._links[peer]

    # ------------------------------------------------------------ collectives
    def all_reduce_ring(self, x: numpy.ndarray, rop: int, ufunc, average: bool, error=""):
        """all_reduce by the ring (ring.py), after a round trip through rank 0 that checks the
        ranks agree on the call; returns the flat result."""
        seq = self._seq
        self.collective("all_reduce (ring)", x, [], rop=rop, error=error)
        return ring_all_reduce(self, x, ufunc, average, seq, OPS.index("all_reduce"))

    def collective(self, op: str, like, sent=(), *, root=-1, rop=0, error="", combine=None):
        """Run one collective; returns the arrays rank 0 gives this rank.

        ``like``: the array whose dtype and shape every rank must agree on (None: none);
        ``sent``: what this rank sends rank 0 (each of like's dtype and shape); ``error``:
        a local mistake to report instead (every rank then raises); ``combine`` (run on
        rank 0): {rank: arrays it sent} → {rank: arrays it receives}.
        """
        self.check_usable()
        seq, self._seq = self._seq, self._seq + 1
        code = like.dtype.str if like is not None else ""
        shape = tuple(like.shape) if like is not None else ()
        mine = Frame(REQUEST, OPS.index(op), rop, 1 if error else 0, root, 0, seq, error,
                     code, shape, [] if error else list(sent))  # fmt: skip
        if self._rank == 0:
            return self._serve(op, mine, combine)
        link = self._links[0]
        try:
            link.send(mine, mine.arrays)
            reply = self._next(0, REPLY)
        except DistNetworkError as e:
            self._broken = str(e)
            raise
        if reply.status:
            if reply.tag == FATAL:
                self._broken = reply.message
            raise DistBackendError(reply.message)
        return reply.arrays

    def _serve(self, op: str, mine: Frame, combine) -> list:
        """Rank 0's side: read every request, check them, compute and send the results."""
        requests = {0: mine}
        for k in range(1, self._size):
            try:
                requests[k] = self._next(k, REQUEST)
            except DistError as e:
                self._abort(str(e))
                raise
        problem = _disagreement(op, {self._ranks[k]: f for k, f in requests.items()})
        out = {}
        if not problem:
            try:
                out = combine({k: f.arrays for k, f in requests.items()}) if combine else {}
            except (TypeError, ValueError) as e:
                problem = f"{op}: {e}"
        for k in range(1, self._size):
            arrays = out.get(k, [])
            reply = Frame(REPLY, requests[0].op, seq=mine.seq, status=1 if problem else 0,
                          message=problem)  # fmt: skip
            if arrays and not problem:
                reply.dtype, reply.shape = arrays[0].dtype.str, tuple(arrays[0].shape)
            try:
                self._links[k].send(reply, [] if problem else arrays)
            except DistNetworkError as e:
                self._abort(str(e))
                raise
        if problem:
            raise DistBackendError(problem)
        return out.get(0, [])

    def next_frame(self, peer: int, kind: int, into=None) -> Frame:
        try:
            return self._next(peer, kind, into)
        except DistNetworkError as e:
            self._broken = str(e)
            raise

    def fail(self, why: str) -> None:
        """A collective failed half way: the group is broken; tell the peers."""
        self._abort(why)

    def _next(self, peer: int, kind: int, into=None) -> Frame:
        """The next frame of ``kind`` from ``peer``: one the mailbox's thread read ahead, or
        from the wire; messages (SEND) that come first go to the mailbox (``into``: where the
        ring's chunk may be read, wire.Link.recv)."""
        link, inbox = self._links[peer], self._inbox[peer]
        while True:
            with link.read_lock:
                frame = inbox.popleft() if inbox else link.recv(into)
                if frame.kind == SEND:
                    self.mail.stash(peer, frame)
                    continue
            if frame.kind == REPLY and frame.status and kind != REPLY:
                raise DistBackendError(frame.message)  # rank 0 gave up on the group
            if frame.kind != kind:
                raise DistBackendError(
                    f"rank {self._ranks[self._rank]}: rank {self._ranks[peer]} sent a frame of"
                    f" kind {frame.kind} where kind {kind} was expected: the ranks' collectives"
                    " are out of step"
                )
            return frame

    def _abort(self, why: str) -> None:
        """Mark the group broken, and tell every peer (best effort) why."""
        self._broken = why
        for link in self._links.values():
            try:
                link.sock.settimeout(1.0)  # a peer that reads nothing must not hold us here
                link.send(Frame(REPLY, status=1, tag=FATAL, message=why), lock_timeout=1.0)
            except (DistError, OSError):
                pass


def _disagreement(op: str, requests: dict) -> str:
    """What the ranks' requests disagree on ("" when they agree), naming ranks and values."""
    errors = [f"rank {k}: {f.message}" for k, f in requests.items() if f.status]
    if errors:
        return f"{op} failed on " + "; ".join(errors)
    for what, key in (
        ("called different collectives", lambda f: _op_name(f).split(" ")[0]),
        ("are at different collective counts (a rank skipped or added one)", lambda f: f.seq),
        ("passed a different root rank (src/dst)", lambda f: f.root),
        ("passed a different reduce op", lambda f: f.rop),
        ("passed tensors of different shapes or dtypes", _signature),
        ("chose different all_reduce algorithms (is EMBER_ALLREDUCE set alike?)", _op_name),
    ):
        values = {k: key(f) for k, f in requests.items()}
        if len(set(values.values())) > 1:
            return f"{op}: ranks {what}: " + "; ".join(_grouped(values))
    return ""


def _op_name(frame: Frame) -> str:
    return OPS[frame.op] if frame.op < len(OPS) else str(frame.op)


def _signature(frame: Frame) -> str:
    dtype = numpy.dtype(frame.dtype) if frame.dtype else None
    return f"shape {frame.shape} dtype {dtype}"


def _grouped(values: dict) -> list[str]:
    """'ranks 0, 2: x' for each value, in the order of the first rank that has it."""
    by_value: dict = {}
    for k, v in values.items():
        by_value.setdefault(str(v), []).append(k)
    out = []
    for v, ks in by_value.items():
        out.append(f"rank{'s' if len(ks) > 1 else ''} {', '.join(map(str, ks))}: {v}")
    return out
