"""Point-to-point calls with torch.distributed's names: send/recv, isend/irecv, P2POp and
batch_isend_irecv.

``isend`` and ``irecv`` return a ``Work`` at once and the transfer runs in the background
(mailbox.py): the group's point-to-point sender thread sends the message, its receiver
thread reads for pending receives. ``work.wait()`` returns once the message is handed to
the connection (isend) or has been copied into the tensor (irecv), and raises what went
wrong there: a message of another shape or dtype, a peer that exited, a receive that waited
longer than the group's timeout. ``work.is_completed()`` tells without blocking. Neither side
waits for the other before its call returns, so both ranks may isend to each other first and
irecv after (the exchange that deadlocks with blocking send/recv once the messages outgrow
the sockets' buffers), or the other way round.

Order: calls on one group are issued in program order, as torch's are: a transfer is posted
once the collectives queued before it with ``async_op=True`` have run, and before any later
call. Messages from one rank to another with one tag are received in the order they were
sent; different tags may be received in any order (each receive takes the oldest message
with its tag). ``send``/``recv`` are ``isend``/``irecv`` followed by ``wait()``.

On a subgroup, ``dst``/``src``/``peer`` are global ranks, as in torch, and a rank outside
the group gets torch's warning and None (``recv``: -1).
"""

from __future__ import annotations

from collections.abc import Callable

from .collectives import Group, TensorLike, _check_rank, _host, _store
from .process_group import resolve
from .work import Work


def isend(tensor: TensorLike, dst: int, group: Group = None, tag: int = 0) -> Work | None:
    """Send ``tensor`` to global rank ``dst`` in the background; the Work completes once the
    message is handed to the connection (do not write to ``tensor`` until then)."""
    return _isend(tensor, dst, group, tag, "isend")


def _isend(tensor, dst: int, group: Group, tag: int, name: str) -> Work | None:
    if (g := resolve(group, name)) is None:
        return None
    peer = _peer(g, "dst", dst, "send to")
    array, tag = _host(tensor, name), int(tag)
    work = Work([tensor], completed=False)
    return g.post(lambda: g.mail.post_send(array, peer, tag, work), work)


def irecv(tensor: TensorLike, src: int | None = None, group: Group = None,
          tag: int = 0) -> Work | None:  # fmt: skip
    """Receive into ``tensor`` a message with ``tag`` from global rank ``src`` (None: any
    rank), in the background; the Work completes once it is in ``tensor``, and its
    ``_source_rank()`` then says who sent it."""
    return _irecv(tensor, src, group, tag, "irecv")


def _irecv(tensor, src: int | None, group: Group, tag: int, name: str) -> Work | None:
    if (g := resolve(group, name)) is None:
        return None
    peer = None if src is None else _peer(g, "src", src, "receive from")
    if g.size() == 1:
        raise ValueError(f"{name}: the group has no other rank to receive from")
    like, tag = _host(tensor, name), int(tag)
    work = Work([tensor], completed=False)

    def deliver(value) -> None:
        _store(tensor, value)

    return g.post(lambda: g.mail.post_recv(like, peer, tag, deliver, work), work)


def send(tensor: TensorLike, dst: int, group: Group = None, tag: int = 0) -> None:
    """Send ``tensor`` to global rank ``dst``; returns once it is handed to the connection."""
    work = _isend(tensor, dst, group, tag, "send")
    if work is not None:
        work.wait()


def recv(tensor: TensorLike, src: int | None = None, group: Group = None, tag: int = 0) -> int:
    """Fill ``tensor`` with a message from global rank ``src`` (None: any rank); returns the
    sender's global rank (-1 on a rank outside ``group``). Messages with other tags are
    kept for the receives that ask for them."""
    work = _irecv(tensor, src, group, tag, "recv")
    if work is None:
        return -1
    work.wait()
    return work._source_rank()


class P2POp:
    """torch.distributed.P2POp: one send or receive of a ``batch_isend_irecv``.

    ``op`` is ``isend`` or ``irecv`` (this module's, or ``ember.distributed``'s), ``peer`` the
    global rank of the other side."""

    def __init__(self, op: Callable, tensor: TensorLike, peer: int | None = None,
                 group: Group = None, tag: int = 0) -> None:  # fmt: skip
        if op is not isend and op is not irecv:
            raise ValueError(f"P2POp: op must be ember.distributed.isend or irecv, got {op!r}")
        if op is isend and peer is None:
            raise ValueError("P2POp: an isend needs peer= (the destination rank)")
        _host(tensor, "P2POp")  # a clear TypeError now, not in the batch
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag

    def __repr__(self) -> str:
        shape = tuple(getattr(self.tensor, "shape", ()))
        return f"P2POp({self.op.__name__}, peer={self.peer}, tag={self.tag}, shape={shape})"


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work | None]:
    """torch.distributed.batch_isend_irecv: start every operation of the list (all on one
    group) and return their Works, in the list's order. The order of sends against receives
    in the list does not matter (none waits for another); between one pair of ranks in one
    direction, sends and receives match in the order listed."""
    if not isinstance(p2p_op_list, (list, tuple)) or not p2p_op_list:
        raise ValueError("batch_isend_irecv expects a non-empty list of P2POp")
    for item in p2p_op_list:
        if not isinstance(item, P2POp):
            raise ValueError(
                f"batch_isend_irecv expects a list of P2POp, got a {type(item).__name__}"
            )
    group = p2p_op_list[0].group
    if any(item.group is not group for item in p2p_op_list):
        raise ValueError("batch_isend_irecv: all ops need to use the same group")
    return [item.op(item.tensor, item.peer, item.group, item.tag) for item in p2p_op_list]


def _peer(g, name: str, rank: int, what: str) -> int:
    """The group rank of global rank ``rank``, which must not be this process."""
    peer = _check_rank(g, name, rank)
    if peer == g.rank():
        raise ValueError(f"{name}={rank} is this rank; a rank cannot {what} itself")
    return peer
