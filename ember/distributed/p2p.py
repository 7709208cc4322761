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


def isend(tensor: TensorLike, dst: int | None = None, group: Group = None, tag: int = 0,
          group_dst: int | None = None) -> Work | None:  # fmt: skip
    """Send ``tensor`` to global rank ``dst`` (or ``group_dst`` within ``group``) in the
    background; the Work completes once the message is handed to the connection (do not write
    to ``tensor`` until then)."""
    return _isend(tensor, dst, group, tag, "isend", group_dst)


def _isend(tensor, dst, group: Group, tag: int, name: str, group_dst=None) -> Work | None:
    if (g := resolve(group, name)) is None:
        return None
    peer = _peer(g, "dst", dst, "send to", group_dst)
    array, tag = _host(tensor, name), int(tag)
    work = Work([tensor], completed=False)
    return g.post(lambda: g.mail.post_send(array, peer, tag, work), work)


def irecv(tensor: TensorLike, src: int | None = None, group: Group = None,
          tag: int = 0, group_src: int | None = None) -> Work | None:  # fmt: skip
    """Receive into ``tensor`` a message with ``tag`` from global rank ``src`` (or
    ``group_src`` within ``group``; neither: any rank), in the background; the Work completes
    once it is in ``tensor``, and its ``_source_rank()`` then says who sent it."""
    return _irecv(tensor, src, group, tag, "irecv", group_src)


def _irecv(tensor, src, group: Group, tag: int, name: str, group_src=None) -> Work | None:
    if (g := resolve(group, name)) is None:
        return None
    anyone = src is None and group_src is None
    peer = None if anyone else _peer(g, "src", src, "receive from", group_src)
    if g.size() == 1:
        raise ValueError(f"{name}: the group has no other rank to receive from")
    like, tag = _host(tensor, name), int(tag)
    work = Work([tensor], completed=False)

    def deliver(value) -> None:
        _store(tensor, value)

    return g.post(lambda: g.mail.post_recv(like, peer, tag, deliver, work), work)


def send(tensor: TensorLike, dst: int | None = None, group: Group = None, tag: int = 0,
         group_dst: int | None = None) -> None:  # fmt: skip
    """Send ``tensor`` to global rank ``dst`` (or ``group_dst`` within ``group``); returns once
    it is handed to the connection."""
    work = _isend(tensor, dst, group, tag, "send", group_dst)
    if work is not None:
        work.wait()


def recv(tensor: TensorLike, src: int | None = None, group: Group = None, tag: int = 0,
         group_src: int | None = None) -> int:  # fmt: skip
    """Fill ``tensor`` with a message from global rank ``src`` (or ``group_src`` within
    ``group``; neither: any rank); returns the sender's global rank (-1 on a rank outside
    ``group``). Messages with other tags are kept for the receives that ask for them."""
    work = _irecv(tensor, src, group, tag, "recv", group_src)
    if work is None:
        return -1
    work.wait()
    return work._source_rank()


class P2POp:
    """torch.distributed.P2POp: one send or receive of a ``batch_isend_irecv``.

    ``op`` is ``isend`` or ``irecv`` (this module's, or ``ember.distributed``'s), ``peer`` the
    global rank of the other side, or ``group_peer`` its rank within ``group``."""

    def __init__(self, op: Callable, tensor: TensorLike, peer: int | None = None,
                 group: Group = None, tag: int = 0,
                 group_peer: int | None = None) -> None:  # fmt: skip
        if op is not isend and op is not irecv:
            raise ValueError(f"P2POp: op must be ember.distributed.isend or irecv, got {op!r}")
        if op is isend and peer is None and group_peer is None:
            raise ValueError("P2POp: an isend needs peer= or group_peer= (the destination)")
        if peer is not None and group_peer is not None:
            raise ValueError(f"P2POp: peer={peer} and group_peer={group_peer}: give one")
        _host(tensor, "P2POp")  # a clear TypeError now, not in the batch
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag
        self.group_peer = group_peer

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
    return [item.op(item.tensor, item.peer, item.group, item.tag, item.group_peer)
            for item in p2p_op_list]  # fmt: skip


def _peer(g, name: str, rank, what: str, group_rank=None) -> int:
    """The group rank of global rank ``rank`` (or ``group_rank`` itself), which must not be
    this process."""
    peer = _check_rank(g, name, rank, group_rank)
    if peer == g.rank():
        given = f"{name}={rank}" if group_rank is None else f"group_{name}={group_rank}"
        raise ValueError(f"{given} is this rank; a rank cannot {what} itself")
    return peer
