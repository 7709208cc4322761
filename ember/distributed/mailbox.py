"""Point-to-point messages of one group, in the background: its sender thread, its posted
receives and the thread that reads for them.

A message is one SEND frame (wire.py) with the sender's tag. ``post_send`` queues it for the
group's point-to-point sender thread, which sends the frames in the order they were posted
(so two messages to one peer arrive in that order); its Work completes once the whole frame
is handed to the connection (the kernel's buffers), or fails with the reason.

``post_recv`` registers a receive (source rank or any, tag, the tensor it fills); its Work
completes once a matching message has been copied into the tensor. Messages are matched in
the order they arrived from each peer, to receives in the order they were posted (MPI's and
torch's rule: two sends from one rank with one tag reach two receives in order); a message
that arrives before its receive is kept until that receive is posted. While receives are
pending, the receiver thread waits for their peers' connections to become readable and reads
whole frames from them, under each link's read lock. A collective's frame it reads on the way
goes to the group's inbox for that peer, where the collective takes it (group.py); SEND
frames a collective reads on its way come here. So the two never steal each other's frames,
and a message may cross collectives in either direction.

Failures: a message whose shape or dtype differs from the receiving tensor's fails that
receive (naming both ranks, shapes and dtypes) and the group goes on; a receive that waits
longer than the group's timeout fails; a peer that closes its connection, or a group broken
by a collective, fails every pending receive with the reason.
"""

from __future__ import annotations

import selectors
import threading
import time
from collections.abc import Callable

import numpy

from .wire import FATAL, REPLY, SEND, DistBackendError, DistError, DistNetworkError, Frame
from .work import Work, Worker

_POLL_S = 0.05  # how often the receiver thread looks at deadlines while nothing arrives
_BUSY_S = 0.002  # pause while another thread reads the link that has data


class _Receive:
    """A posted receive: from ``sources`` (group ranks), with ``tag``, into ``like``."""

    def __init__(self, like, sources, tag, deliver, work, deadline, anyone):
        self.like, self.sources, self.tag, self.anyone = like, sources, tag, anyone
        self.deliver, self.work, self.deadline = deliver, work, deadline


class Mailbox:
    """The messages of one ProcessGroup ``g`` (which holds the links and the inboxes)."""

    def __init__(self, g) -> None:
        self._g = g
        self._cond = threading.Condition()
        self._early: dict[int, list] = {peer: [] for peer in g._links}  # arrived, unclaimed
        self._pending: list[_Receive] = []
        self._thread: threading.Thread | None = None
        self._stopped = ""
        self.sender = Worker(f"ember-distributed-rank{g.global_rank(g.rank())}-p2p")

    # ------------------------------------------------------------ sending
    def post_send(self, array: numpy.ndarray, dst: int, tag: int, work: Work) -> None:
        g = self._g
        frame = Frame(SEND, root=g.rank(), tag=tag, dtype=array.dtype.str,
                      shape=tuple(array.shape))  # fmt: skip

        def send() -> None:
            g.check_usable()
            try:
                g.link(dst).send(frame, [array])
            except DistNetworkError as e:
                g._broken = str(e)
                raise

        self.sender.submit(send, work=work)

    # ------------------------------------------------------------ receiving
    def post_recv(self, like: numpy.ndarray, src: int | None, tag: int,
                  deliver: Callable[[numpy.ndarray], None], work: Work) -> None:  # fmt: skip
        """Register a receive from group rank ``src`` (None: any); ``deliver(array)`` stores
        the message, and ``work`` completes then (or fails)."""
        g = self._g
        g.check_usable()
        sources = sorted(self._early) if src is None else [src]
        deadline = time.monotonic() + g.timeout
        receive = _Receive(like, sources, tag, deliver, work, deadline, src is None)
        with self._cond:
            if self._stopped:
                raise DistBackendError(self._stopped)
            self._pending.append(receive)
            self._match()
            if self._pending and self._thread is None:
                name = f"ember-distributed-rank{g.global_rank(g.rank())}-recv"
                self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def stash(self, peer: int, frame: Frame) -> None:
        """Keep a message read from ``peer`` (by any thread holding the link's read lock)."""
        with self._cond:
            self._early[peer].append(frame)
            self._match()
            self._cond.notify_all()

    def stop(self, why: str) -> None:
        """Finish the queued sends, fail the pending receives, end the threads."""
        self.sender.stop()
        with self._cond:
            self._stopped = why
            self._fail(lambda r: True, DistBackendError(why))
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _match(self) -> None:
        """Give each pending receive, in posting order, the first message that fits it."""
        for receive in list(self._pending):
            for peer in receive.sources:
                box = self._early[peer]
                i = next((i for i, f in enumerate(box) if f.tag == receive.tag), None)
                if i is None:
                    continue
                frame = box.pop(i)
                self._pending.remove(receive)
                self._complete(receive, peer, frame)
                break

    def _complete(self, receive: _Receive, peer: int, frame: Frame) -> None:
        g = self._g
        receive.work._source = g.global_rank(peer)
        like = receive.like
        if (frame.dtype, frame.shape) != (like.dtype.str, tuple(like.shape)):
            dtype = numpy.dtype(frame.dtype) if frame.dtype else None
            receive.work._finish(DistBackendError(
                f"recv on rank {g.global_rank(g.rank())}: rank {g.global_rank(peer)} sent a"
                f" tensor of shape {frame.shape} and dtype {dtype} (tag {frame.tag}), but this"
                f" rank receives into shape {tuple(like.shape)} and dtype {like.dtype}"
            ))  # fmt: skip
            return
        try:
            receive.deliver(frame.arrays[0])
        except Exception as e:  # noqa: BLE001 - handed to whoever waits on the Work
            receive.work._finish(e)
            return
        receive.work._finish()

    def _fail(self, which, error: BaseException) -> None:
        for receive in [r for r in self._pending if which(r)]:
            self._pending.remove(receive)
            receive.work._finish(error)

    def _expire(self) -> None:
        g, now = self._g, time.monotonic()
        for receive in [r for r in self._pending if r.deadline <= now]:
            self._pending.remove(receive)
            who = "any rank" if receive.anyone else f"rank {g.global_rank(receive.sources[0])}"
            receive.work._finish(DistNetworkError(
                f"rank {g.global_rank(g.rank())}: timed out after {g.timeout:g} s waiting for a"
                f" message from {who} (tag {receive.tag}, shape {tuple(receive.like.shape)},"
                f" dtype {receive.like.dtype}); was it sent? (the limit is the group's timeout=,"
                " from init_process_group or new_group)"
            ))  # fmt: skip

    # ------------------------------------------------------------ the receiver thread
    def _loop(self) -> None:
        g = self._g
        while True:
            with self._cond:
                self._expire()
                if g._broken and self._pending:
                    self._fail(lambda r: True, DistBackendError(
                        f"rank {g.global_rank(g.rank())}: the process group can no longer be"
                        f" used: {g._broken}"
                    ))  # fmt: skip
                if self._stopped:
                    return
                if not self._pending:
                    self._cond.wait()
                    continue
                peers = sorted({p for r in self._pending for p in r.sources})
            try:
                progressed = self._poll(peers)
            except Exception as e:  # noqa: BLE001 - a closed socket, say: fail, do not hang
                with self._cond:
                    self._fail(lambda r: True, e)
                continue
            if not progressed:
                with self._cond:  # another thread reads the link that has data: let it
                    self._cond.wait(_BUSY_S)

    def _poll(self, peers: list[int]) -> bool:
        """Read one frame from each of ``peers`` that has one and is free; False when some
        had data but another thread was reading them."""
        g = self._g
        with selectors.DefaultSelector() as sel:
            for peer in peers:
                sel.register(g.link(peer).sock, selectors.EVENT_READ, peer)
            ready = [key.data for key, _ in sel.select(_POLL_S)]
        progressed = not ready
        for peer in ready:
            link = g.link(peer)
            if not link.read_lock.acquire(blocking=False):
                continue
            try:
                progressed = True
                if not _readable(link.sock):  # another reader took it meanwhile
                    continue
                frame = link.recv()
                if frame.kind == SEND:
                    self.stash(peer, frame)
                else:
                    g._inbox[peer].append(frame)
                    if frame.kind == REPLY and frame.status and frame.tag == FATAL:
                        g._broken = frame.message
            except DistError as e:
                g._broken = g._broken or str(e)
                with self._cond:
                    self._fail(lambda r: True, e)
            finally:
                link.read_lock.release()
        return progressed


def _readable(sock) -> bool:
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_READ)
        return bool(sel.select(0))
