"""monitored_barrier: a barrier that names the ranks that did not arrive (torch's).

Rank 0 waits at most ``timeout`` for every other rank's request (a frame of the ordinary
barrier exchange, group.py), watching their connections without reading them; once all have
arrived it answers them as a barrier does. A rank that has not arrived by then is named in
the error, torch's words: ``Rank 2 failed to pass monitoredBarrier in 1000 ms`` (the first
such rank in rank order), or with ``wait_all_ranks=True`` every such rank (``Ranks 1, 2 …``).
A late rank leaves the ranks out of step, so rank 0 then marks the group broken and tells
the others, which raise the same error (a rank that arrives later gets it when it does).
The other ranks wait for rank 0's answer at most 2·``timeout`` + 1 s (rank 0 gives its
verdict after waiting up to ``timeout`` itself), then raise naming rank 0.
"""

from __future__ import annotations

import contextlib
import selectors
import time

from .collectives import Group
from .mailbox import _readable
from .process_group import _seconds, resolve
from .wire import DistBackendError

_POLL_S = 0.05  # how often rank 0 looks at the inboxes (a frame the mailbox read ahead)


def monitored_barrier(group: Group = None, timeout=None, wait_all_ranks: bool = False) -> None:
    """Return once every rank of ``group`` has called it, or raise naming the ranks that had
    not within ``timeout`` (a timedelta or seconds; None: the group's timeout)."""
    if (g := resolve(group, "monitored_barrier")) is None:
        return None
    seconds = g.timeout if timeout is None else _seconds(timeout)
    g.run(lambda: _monitored(g, seconds, bool(wait_all_ranks)))
    return None


def _monitored(g, seconds: float, wait_all: bool) -> None:
    g.check_usable()
    if g.rank() != 0:
        with _limited(g.link(0), 2 * seconds + 1):  # rank 0's verdict comes after its wait
            g.collective("monitored_barrier", None)
        return
    late = _late_ranks(g, time.monotonic() + seconds)
    if late:
        late = late if wait_all else late[:1]
        names = ", ".join(str(g.global_rank(k)) for k in late)
        why = (
            f"[Rank {g.global_rank(0)}]: Rank{'s' if len(late) > 1 else ''} {names} failed to"
            f" pass monitoredBarrier in {round(seconds * 1000)} ms (the group can no longer be"
            " used)"
        )
        g.fail(why)
        raise DistBackendError(why)
    g.collective("monitored_barrier", None)


def _late_ranks(g, deadline: float) -> list[int]:
    """The ranks whose request has not begun to arrive by ``deadline``, in rank order."""
    waiting = list(range(1, g.size()))
    while True:
        waiting = [k for k in waiting if not (g._inbox[k] or _readable(g.link(k).sock))]
        left = deadline - time.monotonic()
        if not waiting or left <= 0:
            return waiting
        with selectors.DefaultSelector() as sel:
            for k in waiting:
                sel.register(g.link(k).sock, selectors.EVENT_READ)
            sel.select(min(left, _POLL_S))


@contextlib.contextmanager
def _limited(link, seconds: float):
    """Wait at most ``seconds`` for ``link``'s peer meanwhile (and say so when timing out)."""
    before = link.timeout
    link.timeout = seconds
    link.sock.settimeout(link.timeout)
    try:
        yield
    finally:
        link.timeout = before
        with contextlib.suppress(OSError):
            link.sock.settimeout(before)
