"""The process group: this rank's connections, and the one exchange every collective runs.

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
collectives. Point-to-point ``send``/``recv`` and the ring use the direct connections
between two ranks (rendezvous.py builds a full mesh).

Order: every operation runs through ``run``: an asynchronous one is queued for the group's
communication thread (work.py), a synchronous one waits for that queue to empty and runs on
the caller's thread, so the ranks' operations reach the wire in the order they were called.

Failures: a peer that closes its connection, or is silent for the group's timeout, raises a
``DistNetworkError`` naming it; rank 0 then tells the others before raising, and the group
is marked broken (every later call says why at once).
"""

from __future__ import annotations

import selectors

import numpy

from .ring import ring_all_reduce
from .wire import REPLY, REQUEST, SEND, DistBackendError, DistError, DistNetworkError, Frame
from .work import Work, Worker

#: the collectives, by their code on the wire
OPS = (
    "barrier", "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce",
    "gather", "scatter", "reduce_scatter_tensor", "reduce_scatter", "all_reduce (ring)",
)  # fmt: skip


_FATAL = 1  # the tag of a reply that says the group is broken (a mismatch is not)


class ProcessGroup:
    """torch.distributed.ProcessGroup: the ranks of one job and how to reach them."""

    def __init__(self, rank: int, world_size: int, links: dict, timeout: float, backend: str):
        self._rank, self._size = rank, world_size
        self._links = links  # peer rank → wire.Link
        self.timeout, self.backend = timeout, backend
        self._seq = 0  # collectives called so far; ranks must agree on it
        self._early: dict[int, list] = {peer: [] for peer in links}  # sends read ahead of recv
        self._broken = ""
        self._worker = Worker(f"ember-distributed-rank{rank}")  # async_op=True's thread
        self.sender = Worker(f"ember-distributed-rank{rank}-send")  # the ring's sends

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"ProcessGroup(rank={self._rank}, size={self._size}, backend={self.backend!r})"

    def close(self) -> None:
        """Finish the queued operations, then close every connection."""
        self._worker.stop()
        self.sender.stop()
        for link in self._links.values():
            link.close()
        self._links = {}
        self._broken = "destroy_process_group() was called"

    def check_usable(self) -> None:
        if self._broken:
            raise DistBackendError(
                f"rank {self._rank}: the process group can no longer be used: {self._broken}"
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
            if reply.tag == _FATAL:
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
        problem = _disagreement(op, requests)
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
        """The next frame of ``kind`` from ``peer``; sends that arrive first are kept for recv
        (``into``: where the ring's chunk may be read, wire.Link.recv)."""
        while True:
            frame = self._links[peer].recv(into)
            if frame.kind == SEND:
                self._early[peer].append(frame)
                continue
            if frame.kind == REPLY and frame.status and kind != REPLY:
                raise DistBackendError(frame.message)  # rank 0 gave up on the group
            if frame.kind != kind:
                raise DistBackendError(
                    f"rank {self._rank}: rank {peer} is in a collective while this rank waits"
                    " in recv() from it (each send needs a matching recv, in the same order"
                    " relative to the collectives)"
                )
            return frame

    def _abort(self, why: str) -> None:
        """Mark the group broken, and tell every peer (best effort) why."""
        self._broken = why
        for link in self._links.values():
            try:
                link.sock.settimeout(1.0)  # a peer that reads nothing must not hold us here
                link.send(Frame(REPLY, status=1, tag=_FATAL, message=why))
            except (DistError, OSError):
                pass

    # ------------------------------------------------------------ point to point
    def send(self, array: numpy.ndarray, dst: int, tag: int) -> None:
        self._worker.drain()  # after the collectives called before it, as on the wire
        self.check_usable()
        try:
            frame = Frame(SEND, root=self._rank, tag=tag, dtype=array.dtype.str,
                          shape=tuple(array.shape))  # fmt: skip
            self._links[dst].send(frame, [array])
        except DistNetworkError as e:
            self._broken = str(e)
            raise

    def recv(self, like: numpy.ndarray, src: int | None, tag: int) -> tuple[int, numpy.ndarray]:
        """(sender, array) of the first message with ``tag`` from ``src`` (None: any rank)."""
        self._worker.drain()
        self.check_usable()
        peers = sorted(self._links) if src is None else [src]
        for peer in peers:  # a message read ahead during a collective
            for i, frame in enumerate(self._early[peer]):
                if frame.tag == tag:
                    del self._early[peer][i]
                    return peer, _received(self._rank, peer, frame, like)
        while True:
            try:
                peer = peers[0] if len(peers) == 1 else self._readable(peers)
                frame = self._links[peer].recv()
                if frame.kind != SEND:
                    raise DistBackendError(frame.message if frame.status else (
                        f"rank {self._rank} waits in recv() from rank {peer}, which has entered"
                        " a collective: sends and recvs must pair up"
                    ))  # fmt: skip
            except DistError as e:
                self._abort(str(e))
                raise
            if frame.tag == tag:
                return peer, _received(self._rank, peer, frame, like)
            self._early[peer].append(frame)

    def _readable(self, peers: list[int]) -> int:
        with selectors.DefaultSelector() as sel:
            for peer in peers:
                sel.register(self._links[peer].sock, selectors.EVENT_READ, peer)
            ready = sel.select(self.timeout)
        if not ready:
            raise DistNetworkError(
                f"rank {self._rank}: recv() from any rank timed out after {self.timeout:g} s"
            )
        return min(key.data for key, _ in ready)


def _received(me: int, peer: int, frame: Frame, like: numpy.ndarray) -> numpy.ndarray:
    if (frame.dtype, frame.shape) != (like.dtype.str, tuple(like.shape)):
        raise DistBackendError(
            f"recv on rank {me}: rank {peer} sent a tensor of shape {frame.shape} and dtype"
            f" {numpy.dtype(frame.dtype) if frame.dtype else None}, but this rank receives"
            f" into shape {tuple(like.shape)} and dtype {like.dtype}"
        )
    return frame.arrays[0]


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
